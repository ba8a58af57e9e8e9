package format

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cespare/xxhash/v2"
	"github.com/pierrec/lz4/v4"
)

// WriterOptions are the choices of a Writer.
type WriterOptions struct {
	// LZ4 frames the whole stream in lz4; every Reader decodes it transparently.
	LZ4 bool
}

// Writer writes one stream. It checks every record as a Reader would, and
// the sequence of records: the records the stream's kind allows, sorted by
// path, and in a delta stream exactly New.Size bytes of data after each
// change that has data. A refused record leaves the stream as it was; an
// error while writing is returned by every later call.
type Writer struct {
	lz     *lz4.Writer // nil without lz4
	bw     *bufio.Writer
	sum    *xxhash.Digest
	seq    sequence
	codec  *codec
	frame  []byte // scratch for frame headers
	rec    []byte // scratch for a whole record: frameRoom bytes, then its body
	err    error
	closed bool
}

// writeBufferSize amortises the writes of small records (index entries);
// bigger writes, such as literals, bypass the buffer.
const writeBufferSize = 256 << 10

// NewWriter writes the start of a stream of kind h.Kind to w. It fills in
// h.Version, h.Hash, h.Weak and h.Strong if they are zero, and refuses
// values this package does not implement.
func NewWriter(w io.Writer, h Header, opt WriterOptions) (*Writer, error) {
	if h.Version == 0 {
		h.Version = Version
	}
	if h.Hash == "" {
		h.Hash = HashAlgorithm
	}
	if h.Weak == "" {
		h.Weak = WeakAlgorithm
	}
	if h.Strong == "" {
		h.Strong = StrongAlgorithm
	}
	if err := checkHeader(&h); err != nil {
		return nil, fmt.Errorf("stream header: %w", err)
	}
	sw := &Writer{sum: xxhash.New(), seq: sequence{kind: h.Kind, seeded: len(h.Seed) > 0}, codec: newCodec()}
	out := w
	if opt.LZ4 {
		sw.lz = lz4.NewWriter(w)
		// lz4 finds matches within 64 KiB only, so blocks beyond 256 KiB
		// gain nothing but cost every reader a bigger buffer.
		if err := sw.lz.Apply(lz4.BlockSizeOption(lz4.Block256Kb)); err != nil {
			return nil, fmt.Errorf("lz4 writer: %w", err)
		}
		out = sw.lz
	}
	sw.bw = bufio.NewWriterSize(out, writeBufferSize)
	sw.write(append([]byte(Magic), Version))
	body, err := sw.codec.encode(&h)
	if err != nil {
		return nil, fmt.Errorf("encode stream header: %w", err)
	}
	if err := sw.writeFrame(tagHeader, body); err != nil {
		return nil, err
	}
	return sw, nil
}

// write hashes p and writes it; the first error sticks.
func (w *Writer) write(p []byte) {
	if w.err != nil {
		return
	}
	w.sum.Write(p)
	if _, err := w.bw.Write(p); err != nil {
		w.err = fmt.Errorf("write stream: %w", err)
	}
}

// writeFrame writes one record: its tag, the length of its body, the body.
func (w *Writer) writeFrame(tag byte, body []byte) error {
	w.frame = binary.AppendUvarint(append(w.frame[:0], tag), uint64(len(body)))
	w.write(w.frame)
	w.write(body)
	return w.err
}

// ready reports why no record can be written now, if so.
func (w *Writer) ready() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("write to a closed stream")
	}
	return nil
}

// frameRoom is the room left before a body in w.rec for its tag and length.
const frameRoom = 1 + binary.MaxVarintLen64

// startRecord returns w.rec emptied but for the room of a frame head: the
// body is appended to it.
func (w *Writer) startRecord() []byte { return append(w.rec[:0], make([]byte, frameRoom)...) }

// frameRecord checks the size of the body appended to rec by startRecord's
// caller and puts its frame head right before it, returning the whole frame.
// It keeps rec for the next record unless rec grew past maxRetained.
func (w *Writer) frameRecord(what string, tag byte, rec []byte) ([]byte, error) {
	if cap(rec) <= maxRetained {
		w.rec = rec[:0]
	}
	n := len(rec) - frameRoom
	if n > MaxRecord {
		return nil, fmt.Errorf("%s record of %d bytes, more than the %d a reader accepts", what, n, MaxRecord)
	}
	var head [frameRoom]byte
	h := binary.AppendUvarint(append(head[:0], tag), uint64(n))
	start := frameRoom - len(h)
	copy(rec[start:], h)
	return rec[start:], nil
}

// bigSig is the size from which an entry's signature is written from where
// it lies rather than copied into the record's buffer: the record is encoded
// with a placeholder of one byte in its place, then written in pieces
// around it. The signature of a 20 GiB file, 10 MB, then costs no copy.
const bigSig = maxRetained

// sigPlaceholder stands for a big signature while its record is encoded;
// sigPlaceholderLen is the length of its bin: header and byte.
var sigPlaceholder = []byte{0}

const sigPlaceholderLen = 3

// splitSig returns e, or a copy of it whose big signature is replaced by
// sigPlaceholder, and the signature replaced (nil if none).
func splitSig(e *Entry) (*Entry, []byte) {
	if e == nil || len(e.Sig) < bigSig {
		return e, nil
	}
	c := *e
	c.Sig = sigPlaceholder
	return &c, e.Sig
}

// splicedLen returns the length of a record whose body, encoded with
// placeholders, must hold sigs in their place, and checks it as
// frameRecord does.
func splicedLen(what string, body []byte, sigs [][]byte) (int, error) {
	n := len(body)
	for _, sig := range sigs {
		n += len(appendBinHeader(nil, len(sig))) + len(sig) - sigPlaceholderLen
	}
	if n > MaxRecord {
		return 0, fmt.Errorf("%s record of %d bytes, more than the %d a reader accepts", what, n, MaxRecord)
	}
	return n, nil
}

// writeSpliced writes the frame of a record of n bytes whose body, encoded
// with placeholders, must hold sigs in their place: sigs[i] ends at cuts[i]
// in body.
func (w *Writer) writeSpliced(n int, tag byte, body []byte, cuts []int, sigs [][]byte) error {
	w.frame = binary.AppendUvarint(append(w.frame[:0], tag), uint64(n))
	w.write(w.frame)
	at := 0
	for i, sig := range sigs {
		w.write(body[at : cuts[i]-sigPlaceholderLen])
		w.frame = appendBinHeader(w.frame[:0], len(sig))
		w.write(w.frame)
		w.write(sig)
		at = cuts[i]
	}
	w.write(body[at:])
	return w.err
}

// WriteEntry writes an entry of an index stream.
func (w *Writer) WriteEntry(e *Entry) error {
	if err := w.ready(); err != nil {
		return err
	}
	if pe, sig := splitSig(e); sig != nil {
		body := appendEntry(w.startRecord(), pe)[frameRoom:]
		sigs := [][]byte{sig}
		n, err := splicedLen("entry", body, sigs)
		if err != nil {
			return fmt.Errorf("entry %q: %w", e.Path, err)
		}
		if err := w.seq.entry(e); err != nil {
			return err
		}
		return w.writeSpliced(n, tagEntry, body, []int{len(body)}, sigs)
	}
	frame, err := w.frameRecord("entry", tagEntry, appendEntry(w.startRecord(), e))
	if err != nil {
		return fmt.Errorf("entry %q: %w", e.Path, err)
	}
	if err := w.seq.entry(e); err != nil {
		return err
	}
	w.write(frame)
	return w.err
}

// WriteChange writes a change of a diff or delta stream. In a delta stream a
// change that HasData must be followed by exactly New.Size bytes of data,
// written with WriteCopy and WriteLiteral.
func (w *Writer) WriteChange(c *Change) error {
	if err := w.ready(); err != nil {
		return err
	}
	old, oldSig := splitSig(c.Old)
	new, newSig := splitSig(c.New)
	if oldSig != nil || newSig != nil {
		return w.writeChangeSpliced(c, old, new, oldSig, newSig)
	}
	frame, err := w.frameRecord("change", tagChange, appendChange(w.startRecord(), c))
	if err != nil {
		return fmt.Errorf("change %q: %w", c.Path(), err)
	}
	if err := w.seq.change(c); err != nil {
		return err
	}
	w.write(frame)
	return w.err
}

// writeChangeSpliced is WriteChange for a change with a big signature: old
// and new are its entries with placeholders for oldSig and newSig. Either
// placeholder ends its entry, which ends where the change up to that entry
// would.
func (w *Writer) writeChangeSpliced(c *Change, old, new *Entry, oldSig, newSig []byte) error {
	pc := &Change{Op: c.Op, Old: old, New: new, From: c.From, FromNew: c.FromNew, FromSize: c.FromSize}
	body := appendChange(w.startRecord(), pc)[frameRoom:]
	var cuts []int
	var sigs [][]byte
	if oldSig != nil {
		cuts = append(cuts, len(appendChange(nil, &Change{Op: c.Op, Old: old})))
		sigs = append(sigs, oldSig)
	}
	if newSig != nil {
		cuts = append(cuts, len(appendChange(nil, &Change{Op: c.Op, Old: old, New: new})))
		sigs = append(sigs, newSig)
	}
	n, err := splicedLen("change", body, sigs)
	if err != nil {
		return fmt.Errorf("change %q: %w", c.Path(), err)
	}
	if err := w.seq.change(c); err != nil {
		return err
	}
	return w.writeSpliced(n, tagChange, body, cuts, sigs)
}

// WriteCopy writes a copy from the old file, in the data of an updated file
// of a delta stream. A copy of no bytes writes nothing.
func (w *Writer) WriteCopy(c Copy) error {
	if err := w.ready(); err != nil {
		return err
	}
	if c.Length == 0 && c.Offset >= 0 {
		return nil
	}
	frame, err := w.frameRecord("copy", tagCopy, appendCopy(w.startRecord(), &c))
	if err != nil {
		return err
	}
	if err := w.seq.copy(&c); err != nil {
		return err
	}
	w.write(frame)
	return w.err
}

// WriteLiteral writes bytes of the new file, at most MaxChunk, in the data of
// a created or updated file of a delta stream. An empty literal writes
// nothing. The Writer does not keep data after it returns.
func (w *Writer) WriteLiteral(data []byte) error {
	if err := w.ready(); err != nil {
		return err
	}
	if len(data) == 0 {
		return nil
	}
	if err := w.seq.literal(len(data)); err != nil {
		return err
	}
	// The body is built around data rather than encoded, so that a MiB of
	// literal is copied once, into the output.
	n := len(data)
	bodyLen := len(appendLiteralHeader(nil, n)) + n
	w.frame = binary.AppendUvarint(append(w.frame[:0], tagLiteral), uint64(bodyLen))
	w.frame = appendLiteralHeader(w.frame, n)
	w.write(w.frame)
	w.write(data)
	return w.err
}

// Close ends the stream: it checks that the last file has all its data,
// writes the trailer t with its Count and Checksum set, flushes the output
// and ends the lz4 frame if any. It does not close the underlying writer.
func (w *Writer) Close(t Trailer) error {
	if err := w.ready(); err != nil {
		return err
	}
	if err := w.seq.dataDone(); err != nil {
		return fmt.Errorf("close stream: %w", err)
	}
	if err := checkTrailer(&t); err != nil {
		return fmt.Errorf("close stream: %w", err)
	}
	w.closed = true
	t.Count = w.seq.count
	w.frame = binary.AppendUvarint(append(w.frame[:0], tagTrailer), uint64(trailerBodyLen(&t)))
	w.frame = appendTrailer(w.frame, &t)
	w.write(w.frame)
	w.write(binary.BigEndian.AppendUint64(nil, w.sum.Sum64()))
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("write stream: %w", err)
		return w.err
	}
	if w.lz != nil {
		if err := w.lz.Close(); err != nil {
			w.err = fmt.Errorf("write stream: end lz4 frame: %w", err)
			return w.err
		}
	}
	return nil
}
