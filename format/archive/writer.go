package archive

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cespare/xxhash/v2"
	"github.com/ibt-tools/ibt/format"
	"github.com/vmihailenco/msgpack/v5"
)

// Memory bounds of a Writer.
const (
	// memLimit bounds the data held for the open batch: the content of small
	// created files and the deltas of updated ones, which can only be written
	// after the batch member that lists them.
	memLimit = 8 << 20
	// bigFile is the size above which a created file's content is streamed
	// straight into its member instead of being held.
	bigFile = 1 << 20
)

// WriterOptions tune a Writer. The zero value writes gzip at its default level.
type WriterOptions struct {
	Codec   Codec  // "gzip" (the default when empty), "lz4", "zstd" or "none"
	Level   int    // compression level; 0 is the codec's default, which favours speed
	TempDir string // where a delta too big to hold in memory is spooled; "" is os.TempDir()
}

// Writer writes an archive. Give it the changes with AddChange, in path
// order, each followed by its data (WriteContent for a created file,
// WriteCopy and WriteLiteral for an updated one), then Close.
type Writer struct {
	z      io.WriteCloser // the codec
	tw     *tar.Writer
	digest *xxhash.Digest
	enc    *msgpack.Encoder
	encBuf bytes.Buffer
	spool  spool

	batch   bytes.Buffer // encoded changes of the open batch
	batchN  int
	seq     int       // number of the last batch written
	pending []held    // data members of the open batch, held in arena
	arena   []byte    // their data, then cur's while it is held
	cur     *openFile // the file whose data comes next, if any

	last     string // path of the last change
	changes  uint64
	members  uint64
	err      error // sticky: a Writer that failed writes nothing more
	closed   bool
	litBuf   []byte // literal being gathered for cur
	copyOff  int64  // copy being gathered for cur (copyLen > 0)
	copyLen  int64
	opHeader []byte
}

// held is a data member whose data is in the arena.
type held struct {
	name     string
	off, end int
}

type dataMode int

const (
	modeHeld     dataMode = iota // data goes to the arena
	modeStreamed                 // member header written, content goes to the tar
	modeSpooled                  // delta goes to the spool file
)

// openFile is the file whose data the Writer is receiving.
type openFile struct {
	path     string
	name     string // its data member
	update   bool
	size     int64 // New.Size: bytes of content, or bytes the ops must produce
	oldSize  int64
	n        int64 // bytes written or produced so far
	mode     dataMode
	off      int  // start of its data in the arena (modeHeld)
	detached bool // its batch member is written, so its data member goes out alone
}

// NewWriter starts an archive on w holding the changes of the delta stream
// whose header is h; h.Tool names the tool writing the archive.
func NewWriter(w io.Writer, h format.Header, opt WriterOptions) (*Writer, error) {
	if h.Kind != format.KindDelta {
		return nil, fmt.Errorf("an archive is packed from a delta stream, not a %q stream", h.Kind)
	}
	if len(h.Seed) > 0 {
		// archives are stored where indexes need not be: the seed that keys
		// the signatures stays with the indexes
		return nil, errors.New("a delta header with a signature seed: an archive never carries one")
	}
	codec := opt.Codec
	if codec == "" {
		codec = Gzip
	}
	z, err := codec.compressor(w, opt.Level)
	if err != nil {
		return nil, err
	}
	aw := &Writer{
		z:      z,
		tw:     tar.NewWriter(z),
		digest: xxhash.New(),
		spool:  spool{dir: opt.TempDir},
	}
	aw.enc = msgpack.NewEncoder(&aw.encBuf)
	aw.enc.UseCompactInts(true)
	hdr := Header{Kind: Kind, Version: Version, Tool: h.Tool, Delta: h, Codec: codec}
	b, err := aw.encode(&hdr)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", headerName, err)
	}
	aw.digest.Write(b)
	if err := aw.writeMember(headerName, b); err != nil {
		return nil, err
	}
	return aw, nil
}

// encode returns the msgpack of v, valid until the next encode.
func (w *Writer) encode(v any) ([]byte, error) {
	w.encBuf.Reset()
	if err := w.enc.Encode(v); err != nil {
		return nil, err
	}
	return w.encBuf.Bytes(), nil
}

// AddChange adds the next change, whose path must sort after the last one's.
// If c.HasData(), its data must follow before the next AddChange or Close.
func (w *Writer) AddChange(c *format.Change) error {
	if err := w.ready(); err != nil {
		return err
	}
	if err := w.finishFile(); err != nil {
		return w.fail(err)
	}
	if err := format.CheckChange(c); err != nil {
		return w.fail(err)
	}
	p := c.Path()
	if w.changes > 0 && p <= w.last {
		return w.fail(fmt.Errorf("change at %q does not sort after %q", p, w.last))
	}
	rec, err := w.encode(stripped(format.ElideNewHash(c)))
	if err != nil {
		return w.fail(fmt.Errorf("encode change at %q: %w", p, err))
	}
	if len(rec) > MaxBatchSize-8 {
		return w.fail(fmt.Errorf("change at %q encodes to %d bytes, more than a batch holds", p, len(rec)))
	}
	heldSize := int64(0)
	if c.HasData() && !c.HasDelta() && c.New.Size <= bigFile {
		heldSize = c.New.Size
	}
	if w.batchN > 0 && (w.batchN == MaxBatch || w.batch.Len()+len(rec) > BatchSize ||
		int64(len(w.arena))+heldSize > memLimit) {
		if err := w.flushBatch(); err != nil {
			return w.fail(err)
		}
	}
	w.batch.Write(rec)
	w.batchN++
	w.changes++
	w.last = p
	if !c.HasData() {
		return nil
	}
	f := &openFile{path: p, name: dataName(c), update: c.HasDelta(), size: c.New.Size, off: len(w.arena)}
	if f.update {
		f.oldSize = c.BaseSize()
	}
	w.cur = f
	if !f.update && f.size > bigFile {
		// Its size is known: write the batch (this change last), then
		// stream the content into its member.
		if err := w.flushBatch(); err != nil {
			return w.fail(err)
		}
		if err := w.writeHeader(f.name, f.size); err != nil {
			return w.fail(err)
		}
		f.mode = modeStreamed
	}
	return nil
}

// WriteContent writes the next bytes of the created file of the last change.
func (w *Writer) WriteContent(p []byte) error {
	if err := w.ready(); err != nil {
		return err
	}
	f := w.cur
	if f == nil || f.update {
		return w.fail(errors.New("content written with no created file open"))
	}
	if int64(len(p)) > f.size-f.n {
		return w.fail(fmt.Errorf("content of %q exceeds its size %d", f.path, f.size))
	}
	f.n += int64(len(p))
	if f.mode == modeStreamed {
		if _, err := w.tw.Write(p); err != nil {
			return w.fail(fmt.Errorf("write member %q: %w", f.name, err))
		}
		return nil
	}
	w.arena = append(w.arena, p...)
	return nil
}

// WriteCopy adds to the delta of the updated file of the last change an op
// copying n bytes at off of the old file. Adjacent copies are merged.
func (w *Writer) WriteCopy(off, n int64) error {
	if err := w.ready(); err != nil {
		return err
	}
	f, err := w.updating(n)
	if err != nil {
		return w.fail(err)
	}
	if off < 0 || n < 0 || off > f.oldSize || n > f.oldSize-off {
		return w.fail(fmt.Errorf("delta of %q copies %d bytes at %d, outside its old size %d", f.path, n, off, f.oldSize))
	}
	if n == 0 {
		return nil
	}
	if err := w.flushLiteral(); err != nil {
		return w.fail(err)
	}
	f.n += n
	if w.copyLen > 0 && w.copyOff+w.copyLen == off {
		w.copyLen += n
		return nil
	}
	if err := w.flushCopy(); err != nil {
		return w.fail(err)
	}
	w.copyOff, w.copyLen = off, n
	return nil
}

// WriteLiteral adds bytes of the new file to the delta of the updated file
// of the last change. Consecutive literals are gathered into ops of up to
// format.MaxChunk bytes.
func (w *Writer) WriteLiteral(p []byte) error {
	if err := w.ready(); err != nil {
		return err
	}
	f, err := w.updating(int64(len(p)))
	if err != nil {
		return w.fail(err)
	}
	if err := w.flushCopy(); err != nil {
		return w.fail(err)
	}
	f.n += int64(len(p))
	for len(p) > 0 {
		k := min(len(p), format.MaxChunk-len(w.litBuf))
		w.litBuf = append(w.litBuf, p[:k]...)
		p = p[k:]
		if len(w.litBuf) == format.MaxChunk {
			if err := w.flushLiteral(); err != nil {
				return w.fail(err)
			}
		}
	}
	return nil
}

// updating returns the open updated file, if adding n bytes keeps it
// within its size.
func (w *Writer) updating(n int64) (*openFile, error) {
	f := w.cur
	if f == nil || !f.update {
		return nil, errors.New("delta op written with no updated file open")
	}
	if n > f.size-f.n {
		return nil, fmt.Errorf("delta of %q produces more than its size %d", f.path, f.size)
	}
	return f, nil
}

func (w *Writer) flushCopy() error {
	if w.copyLen == 0 {
		return nil
	}
	w.opHeader = append(w.opHeader[:0], opTagCopy)
	w.opHeader = binary.AppendUvarint(w.opHeader, uint64(w.copyOff))
	w.opHeader = binary.AppendUvarint(w.opHeader, uint64(w.copyLen))
	w.copyLen = 0
	return w.emit(w.opHeader)
}

func (w *Writer) flushLiteral() error {
	if len(w.litBuf) == 0 {
		return nil
	}
	w.opHeader = append(w.opHeader[:0], opTagLiteral)
	w.opHeader = binary.AppendUvarint(w.opHeader, uint64(len(w.litBuf)))
	if err := w.emit(w.opHeader); err != nil {
		return err
	}
	err := w.emit(w.litBuf)
	w.litBuf = w.litBuf[:0]
	return err
}

// emit appends encoded ops to the open delta, spooling it to a temporary
// file once it outgrows memLimit.
func (w *Writer) emit(b []byte) error {
	f := w.cur
	if f.mode == modeSpooled {
		return w.spool.write(b)
	}
	w.arena = append(w.arena, b...)
	if len(w.arena) <= memLimit {
		return nil
	}
	if !f.detached {
		// Write the batch and the data before this delta to make room.
		if err := w.flushBatch(); err != nil {
			return err
		}
		if len(w.arena) <= memLimit {
			return nil
		}
	}
	if err := w.spool.start(); err != nil {
		return fmt.Errorf("spool the delta of %q: %w", f.path, err)
	}
	if err := w.spool.write(w.arena); err != nil {
		return fmt.Errorf("spool the delta of %q: %w", f.path, err)
	}
	w.arena = w.arena[:0]
	f.mode = modeSpooled
	return nil
}

// finishFile checks that the open file got all its data and writes its
// member if its batch is already out.
func (w *Writer) finishFile() error {
	f := w.cur
	if f == nil {
		return nil
	}
	if f.n != f.size {
		what := "content of %q is %d bytes, short of its size %d"
		if f.update {
			what = "delta of %q produces %d bytes, short of its size %d"
		}
		return fmt.Errorf(what, f.path, f.n, f.size)
	}
	if f.update {
		if err := w.flushCopy(); err != nil {
			return err
		}
		if err := w.flushLiteral(); err != nil {
			return err
		}
	}
	w.cur = nil
	switch {
	case f.mode == modeStreamed:
		return nil
	case f.mode == modeSpooled:
		return w.writeSpooled(f.name)
	case f.detached:
		err := w.writeMember(f.name, w.arena[f.off:])
		w.arena = w.arena[:0]
		return err
	}
	w.pending = append(w.pending, held{name: f.name, off: f.off, end: len(w.arena)})
	return nil
}

// flushBatch writes the open batch and the held data members of its
// changes. The open file, if any, is the batch's last change: its data
// then goes out alone once complete.
func (w *Writer) flushBatch() error {
	if w.batchN > 0 {
		var head []byte
		if w.batchN < 16 {
			head = []byte{0x90 | byte(w.batchN)}
		} else {
			head = []byte{0xdc, byte(w.batchN >> 8), byte(w.batchN)}
		}
		content := append(head, w.batch.Bytes()...)
		w.seq++
		w.digest.Write(content)
		if err := w.writeMember(batchName(w.seq), content); err != nil {
			return err
		}
		w.batch.Reset()
		w.batchN = 0
	}
	for _, h := range w.pending {
		if err := w.writeMember(h.name, w.arena[h.off:h.end]); err != nil {
			return err
		}
	}
	w.pending = w.pending[:0]
	if f := w.cur; f != nil && !f.detached {
		f.detached = true
		if f.mode == modeHeld {
			w.arena = w.arena[:copy(w.arena, w.arena[f.off:])]
			f.off = 0
			return nil
		}
	}
	w.arena = w.arena[:0]
	return nil
}

func (w *Writer) writeHeader(name string, size int64) error {
	w.members++
	err := w.tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		ModTime:  memberTime,
	})
	if err != nil {
		return fmt.Errorf("write member %q: %w", name, err)
	}
	return nil
}

func (w *Writer) writeMember(name string, b []byte) error {
	if err := w.writeHeader(name, int64(len(b))); err != nil {
		return err
	}
	if _, err := w.tw.Write(b); err != nil {
		return fmt.Errorf("write member %q: %w", name, err)
	}
	return nil
}

func (w *Writer) writeSpooled(name string) error {
	r, size, err := w.spool.reader()
	if err != nil {
		return fmt.Errorf("read back the spooled %q: %w", name, err)
	}
	if err := w.writeHeader(name, size); err != nil {
		return err
	}
	if _, err := io.CopyN(w.tw, r, size); err != nil {
		return fmt.Errorf("write member %q: %w", name, err)
	}
	return nil
}

// Close checks the last file's data, writes what is held, ibt/trailer with
// t.TreeHash (t's other fields describe the delta stream, not the archive),
// and the end of the tar and codec streams. It does not close the
// underlying writer.
func (w *Writer) Close(t format.Trailer) error {
	if err := w.ready(); err != nil {
		return err
	}
	w.closed = true
	defer w.spool.close()
	if err := w.finishFile(); err != nil {
		return w.fail(err)
	}
	if err := w.flushBatch(); err != nil {
		return w.fail(err)
	}
	w.digest.Write(t.TreeHash)
	tr := Trailer{Changes: w.changes, Members: w.members, TreeHash: t.TreeHash, Checksum: w.digest.Sum64()}
	b, err := w.encode(&tr)
	if err != nil {
		return w.fail(fmt.Errorf("encode %s: %w", trailerName, err))
	}
	if err := w.writeMember(trailerName, b); err != nil {
		return w.fail(err)
	}
	if err := w.tw.Close(); err != nil {
		return w.fail(fmt.Errorf("end the tar stream: %w", err))
	}
	if err := w.z.Close(); err != nil {
		return w.fail(fmt.Errorf("end the compressed stream: %w", err))
	}
	return nil
}

func (w *Writer) ready() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("archive writer is closed")
	}
	return nil
}

// fail records err: a half-written archive must not be finished as if whole.
func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
		w.spool.close()
	}
	return err
}
