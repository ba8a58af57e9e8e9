package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/cespare/xxhash/v2"
	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/readahead"
	"github.com/vmihailenco/msgpack/v5"
)

// maxPadding bounds the zero bytes accepted after the tar stream's end
// (GNU tar pads to 10 KiB records; dd conv=sync to its block size).
const maxPadding = 1 << 20

// memberLimits bound the msgpack structure of a member before it is
// decoded: records nest three deep, and the decoder skips the unknown values
// of a later version recursively, whatever their type. A member's size
// bounds how many values it holds.
var memberLimits = format.MsgpackLimits{Depth: 16, AnyType: true}

// Reader reads an archive, checking everything it returns: member names
// and order, record contents, sizes, ops, and the trailer's counts and
// checksum. Any error is final: later calls return it again.
type Reader struct {
	zr      io.Reader         // the tar stream, decoded
	ahead   *readahead.Reader // decoding it, for NewReadAheadReader
	pos     countingReader
	tr      *tarReader
	hdr     Header
	trailer Trailer
	digest  *xxhash.Digest

	batch   []format.Change
	bi      int
	seq     int
	changes uint64
	members uint64
	last    string // path of the last change returned
	member  string // name of the last member opened, "" before the first (memberWhat)
	data    dataState
	err     error
	done    bool
}

// dataState tracks the data member of the last change returned.
type dataState struct {
	active   bool // the change has data not yet read to its end
	update   bool
	name     string // the member's name and its change's path, for errors (what)
	path     string
	size     int64 // New.Size
	oldSize  int64
	n        int64 // content bytes read, or bytes the ops produced
	pos      int64 // bytes of the member read (ops)
	finished bool  // the ops are complete and the member's end checked
	ops      *bufio.Reader
	lit      []byte
}

// what describes the data member for error messages.
func (d *dataState) what() string { return dataWhatOf(d.name, d.path, d.update) }

// memberWhat describes the last member opened for error messages.
func (r *Reader) memberWhat() string {
	if r.member == "" {
		return "the start"
	}
	return fmt.Sprintf("member %q", r.member)
}

// Op tags: the first byte of each op in an updated file's data member (see
// doc.go). They are not stream frame tags: in a stream 'C' tags a change
// and a copy is 'R'.
const (
	opTagCopy    byte = 'C'
	opTagLiteral byte = 'L'
)

// DeltaOp is one op of an updated file's delta: a copy of Length bytes at
// Offset of the old file, or (Copy false) the literal bytes Data.
type DeltaOp struct {
	Copy           bool
	Offset, Length int64
	Data           []byte // valid until the next call on the Reader
}

// NewReader recognises the codec of the archive in r and reads its header.
func NewReader(r io.Reader) (*Reader, error) { return newReader(r, false) }

// A NewReadAheadReader holds aheadChunks chunks of aheadChunkSize bytes of
// the decoded stream.
const (
	aheadChunks    = 4
	aheadChunkSize = 256 << 10
)

// NewReadAheadReader is NewReader with the decompression on a goroutine of
// its own, a megabyte ahead of the caller: faster where the caller's own
// work leaves a core free. Close stops that goroutine.
func NewReadAheadReader(r io.Reader) (*Reader, error) { return newReader(r, true) }

// Close stops the decompression of a NewReadAheadReader; a Reader from
// NewReader has nothing to stop. The Reader is of no use afterwards.
func (r *Reader) Close() error {
	if r.ahead != nil {
		r.ahead.Close()
	}
	return nil
}

func newReader(r io.Reader, ahead bool) (ar *Reader, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	codec, err := sniff(br)
	if err != nil {
		return nil, err
	}
	var zr io.Reader = br
	if codec != None {
		z, zerr := codec.decompressor(br)
		if zerr != nil {
			return nil, zerr
		}
		var head []byte
		if ahead {
			// The read-ahead's chunks are the buffer: a bufio.Reader
			// over them would copy every byte once more. It is closed on
			// any failure below (err is the result).
			a := readahead.New(z, aheadChunks, aheadChunkSize)
			defer func() {
				if err != nil {
					a.Close()
				}
			}()
			ar = &Reader{ahead: a}
			// read as Peek does: a stream cut inside the first header
			// keeps its decoder's error (io.ErrUnexpectedEOF)
			head = make([]byte, blockSize)
			n := 0
			for n < len(head) && err == nil {
				var k int
				k, err = a.Read(head[n:])
				n += k
			}
			head = head[:n]
			zr = io.MultiReader(bytes.NewReader(head), a)
		} else {
			b := bufio.NewReaderSize(z, 64<<10)
			head, err = b.Peek(blockSize)
			zr = b
		}
		if format.Sniff(head) != format.InputTar {
			if err != nil && err != io.EOF {
				return nil, readErr("the first tar header", err)
			}
			return nil, notArchiveGuess(head)
		}
	}
	if ar == nil {
		ar = &Reader{}
	}
	ar.zr, ar.digest = zr, xxhash.New()
	ar.pos.r = zr
	ar.tr = newTarReader(&ar.pos)
	hdr, err := ar.nextMember()
	if err != nil {
		return nil, err
	}
	if hdr.Name != headerName {
		return nil, notArchive(fmt.Sprintf("a tar stream whose first member is %q, not %q", hdr.Name, headerName),
			"an ibt archive is written by ibt-pack")
	}
	b, err := ar.readMember(hdr, maxSmallMember)
	if err != nil {
		return nil, err
	}
	ar.members++
	ar.digest.Write(b)
	if err := checkVersions(b); err != nil {
		return nil, err
	}
	if err := decodeMember(headerName, b, &ar.hdr); err != nil {
		return nil, err
	}
	h := &ar.hdr
	switch {
	case h.Kind != Kind:
		return nil, fmt.Errorf("member %q: kind %q, want %q", headerName, h.Kind, Kind)
	case h.Delta.Kind != format.KindDelta:
		return nil, fmt.Errorf("member %q: packed from a %q stream, want %q", headerName, h.Delta.Kind, format.KindDelta)
	}
	return ar, nil
}

// checkVersions refuses a header of another archive or format version
// before the strict decoding, which would only say that a field of that
// version is unknown here.
func checkVersions(b []byte) error {
	var v struct {
		Version int `msgpack:"version"`
		Delta   struct {
			Version int `msgpack:"version"`
		} `msgpack:"delta"`
	}
	if err := format.CheckMsgpack(b, memberLimits); err != nil {
		return fmt.Errorf("member %q: %w", headerName, err)
	}
	if msgpack.Unmarshal(b, &v) != nil {
		return nil // decodeMember says what is wrong
	}
	switch {
	case v.Version != Version:
		return fmt.Errorf("member %q: archive version %d, but this program reads version %d: use an ibt release of the same version", headerName, v.Version, Version)
	case v.Delta.Version != format.Version:
		return fmt.Errorf("member %q: records of format version %d, but this program reads version %d: use an ibt release of the same format version", headerName, v.Delta.Version, format.Version)
	}
	return nil
}

// Header returns the archive's header.
func (r *Reader) Header() Header { return r.hdr }

// Trailer returns the archive's trailer, once Next has returned io.EOF.
func (r *Reader) Trailer() Trailer { return r.trailer }

// Next returns the next change, or io.EOF after a verified ibt/trailer and
// a clean end of the archive. Data of the previous change that was not
// read is read and checked first.
func (r *Reader) Next() (*format.Change, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.done {
		return nil, io.EOF
	}
	if err := r.skipData(); err != nil {
		return nil, r.fail(err)
	}
	if r.bi == len(r.batch) {
		end, err := r.nextBatch()
		if err != nil {
			return nil, r.fail(err)
		}
		if end {
			r.done = true
			return nil, io.EOF
		}
	}
	c := &r.batch[r.bi]
	r.bi++
	r.data = dataState{ops: r.data.ops, lit: r.data.lit}
	if c.HasData() {
		if err := r.openData(c); err != nil {
			return nil, r.fail(err)
		}
	}
	return c, nil
}

// nextBatch reads the next batch member, or the trailer (end true).
func (r *Reader) nextBatch() (end bool, err error) {
	hdr, err := r.nextMember()
	if err != nil {
		return false, err
	}
	want := batchName(r.seq + 1)
	switch hdr.Name {
	case want:
	case trailerName:
		return true, r.readTrailer(hdr)
	default:
		return false, fmt.Errorf("unexpected member %q where %q or %q belongs", hdr.Name, want, trailerName)
	}
	r.members++
	b, err := r.readMember(hdr, MaxBatchSize)
	if err != nil {
		return false, err
	}
	r.digest.Write(b)
	if err := format.CheckMsgpack(b, memberLimits); err != nil {
		return false, fmt.Errorf("member %q: %w", want, err)
	}
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return false, fmt.Errorf("member %q: %w", want, err)
	}
	if n < 1 || n > MaxBatch {
		return false, fmt.Errorf("member %q: %d changes, want 1 to %d", want, n, MaxBatch)
	}
	batch := make([]format.Change, n)
	for i := range batch {
		c := &batch[i]
		if err := dec.Decode(c); err != nil {
			return false, fmt.Errorf("member %q: change %d: %w", want, i, err)
		}
		format.RestoreNewHash(c)
		if err := format.CheckChange(c); err != nil {
			return false, fmt.Errorf("member %q: %w", want, err)
		}
		p := c.Path()
		if r.changes > 0 && p <= r.last {
			return false, fmt.Errorf("member %q: change at %q does not sort after %q", want, p, r.last)
		}
		r.last = p
		r.changes++
	}
	r.seq++
	r.batch, r.bi = batch, 0
	return false, nil
}

// openData opens the data member of c, which must come next.
func (r *Reader) openData(c *format.Change) error {
	name := dataName(c)
	hdr, err := r.nextMember()
	if err != nil {
		return err
	}
	if hdr.Name != name {
		return fmt.Errorf("unexpected member %q where %s belongs", hdr.Name, dataWhat(name, c))
	}
	r.members++
	update := c.HasDelta()
	if !update && hdr.Size != c.New.Size {
		return fmt.Errorf("%s is %d bytes, the file %d", dataWhat(name, c), hdr.Size, c.New.Size)
	}
	d := &r.data
	*d = dataState{active: true, update: update, name: name, path: c.Path(), size: c.New.Size, ops: d.ops, lit: d.lit}
	if update {
		d.oldSize = c.BaseSize()
		if d.ops == nil {
			d.ops = bufio.NewReaderSize(r.tr, 64<<10)
		} else {
			d.ops.Reset(r.tr)
		}
	}
	return nil
}

// Content returns the content of the created file of the last change:
// exactly New.Size bytes, or an error.
func (r *Reader) Content() io.Reader { return contentReader{r} }

type contentReader struct{ r *Reader }

func (c contentReader) Read(p []byte) (int, error) {
	r := c.r
	if r.err != nil {
		return 0, r.err
	}
	d := &r.data
	if !d.active || d.update {
		return 0, errors.New("no created file's content to read")
	}
	left := d.size - d.n
	if left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := r.tr.Read(p)
	d.n += int64(n)
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF && d.n == d.size:
		return n, nil
	case err == io.EOF:
		err = fmt.Errorf("%w: %s ends after %d of %d bytes", ErrTruncated, d.what(), d.n, d.size)
	default:
		err = readErr(d.what(), err)
	}
	return n, r.fail(err)
}

// NextOp returns the next op of the updated file of the last change, and
// io.EOF once the ops have produced its New.Size bytes and its member
// has ended.
func (r *Reader) NextOp() (DeltaOp, error) {
	if r.err != nil {
		return DeltaOp{}, r.err
	}
	d := &r.data
	if !d.update || (!d.active && !d.finished) {
		return DeltaOp{}, errors.New("no updated file's delta to read")
	}
	if d.finished {
		return DeltaOp{}, io.EOF
	}
	op, err := r.nextOp()
	if err != nil && err != io.EOF {
		return DeltaOp{}, r.fail(err)
	}
	return op, err
}

func (r *Reader) nextOp() (DeltaOp, error) {
	d := &r.data
	if d.n == d.size {
		if _, err := d.ops.ReadByte(); err != io.EOF {
			if err == nil {
				return DeltaOp{}, fmt.Errorf("%s: bytes after the ops that complete the file, at byte %d", d.what(), d.pos)
			}
			return DeltaOp{}, readErr(d.what(), err)
		}
		d.active, d.finished = false, true
		return DeltaOp{}, io.EOF
	}
	at := d.pos
	tag, err := d.ops.ReadByte()
	if err != nil {
		if err == io.EOF {
			return DeltaOp{}, fmt.Errorf("%s: ops end after producing %d of %d bytes", d.what(), d.n, d.size)
		}
		return DeltaOp{}, readErr(d.what(), err)
	}
	d.pos++
	left := d.size - d.n
	switch tag {
	case opTagCopy:
		off, err := r.uvarint()
		if err != nil {
			return DeltaOp{}, err
		}
		n, err := r.uvarint()
		if err != nil {
			return DeltaOp{}, err
		}
		if n == 0 || off > uint64(d.oldSize) || n > uint64(d.oldSize)-off {
			return DeltaOp{}, fmt.Errorf("%s: op at byte %d copies %d bytes at %d, outside the old file's %d", d.what(), at, n, off, d.oldSize)
		}
		if n > uint64(left) {
			return DeltaOp{}, fmt.Errorf("%s: op at byte %d copies %d bytes, the file has %d left", d.what(), at, n, left)
		}
		d.n += int64(n)
		return DeltaOp{Copy: true, Offset: int64(off), Length: int64(n)}, nil
	case opTagLiteral:
		n, err := r.uvarint()
		if err != nil {
			return DeltaOp{}, err
		}
		if n == 0 || n > format.MaxChunk {
			return DeltaOp{}, fmt.Errorf("%s: literal at byte %d of %d bytes, want 1 to %d", d.what(), at, n, format.MaxChunk)
		}
		if n > uint64(left) {
			return DeltaOp{}, fmt.Errorf("%s: literal at byte %d of %d bytes, the file has %d left", d.what(), at, n, left)
		}
		if uint64(cap(d.lit)) < n {
			d.lit = make([]byte, max(n, 64<<10))
		}
		data := d.lit[:n]
		for k := 0; k < len(data); {
			m, err := d.ops.Read(data[k:])
			k += m
			if err == io.EOF && k < len(data) {
				return DeltaOp{}, r.shortMember(at)
			}
			if err != nil && err != io.EOF {
				return DeltaOp{}, readErr(d.what(), err)
			}
		}
		d.pos += int64(n)
		d.n += int64(n)
		return DeltaOp{Length: int64(n), Data: data}, nil
	}
	return DeltaOp{}, fmt.Errorf("%s: unknown op 0x%02x at byte %d", d.what(), tag, at)
}

// uvarint reads a varint of an op.
func (r *Reader) uvarint() (uint64, error) {
	d := &r.data
	at := d.pos
	var v uint64
	for i := 0; ; i++ {
		b, err := d.ops.ReadByte()
		if err != nil {
			if err == io.EOF {
				return 0, r.shortMember(at)
			}
			return 0, readErr(d.what(), err)
		}
		d.pos++
		if i == 9 && b > 1 || i > 9 {
			return 0, fmt.Errorf("%s: varint at byte %d overflows 64 bits", d.what(), at)
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			if v > 1<<63-1 {
				return 0, fmt.Errorf("%s: varint at byte %d exceeds 2^63-1", d.what(), at)
			}
			return v, nil
		}
	}
}

// shortMember reports a member that ends inside an op. The tar reader
// says io.EOF only at a member's recorded end: when the archive itself ends
// first it says io.ErrUnexpectedEOF, which readErr reports as truncation.
func (r *Reader) shortMember(at int64) error {
	return fmt.Errorf("%s: op at byte %d ends early", r.data.what(), at)
}

// skipData reads the rest of the last change's data, checking it.
func (r *Reader) skipData() error {
	d := &r.data
	if !d.active {
		return nil
	}
	if !d.update {
		_, err := io.Copy(io.Discard, contentReader{r})
		d.active = false
		return err
	}
	for {
		if _, err := r.nextOp(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// nextMember opens the next member, which must be a regular file.
func (r *Reader) nextMember() (*tarHeader, error) {
	hdr, err := r.tr.Next()
	if err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%w: it ends after %s, before %q", ErrTruncated, r.memberWhat(), trailerName)
		}
		return nil, readErr(fmt.Sprintf("the member after %s", r.memberWhat()), err)
	}
	r.member = hdr.Name
	if hdr.Typeflag != '0' {
		return nil, fmt.Errorf("member %q is of tar type %q, not a regular file", hdr.Name, hdr.Typeflag)
	}
	if hdr.Size < 0 {
		return nil, fmt.Errorf("member %q has size %d", hdr.Name, hdr.Size)
	}
	return hdr, nil
}

// readMember reads a whole member of at most limit bytes.
func (r *Reader) readMember(hdr *tarHeader, limit int64) ([]byte, error) {
	if hdr.Size > limit {
		return nil, fmt.Errorf("member %q is %d bytes, more than the %d allowed", hdr.Name, hdr.Size, limit)
	}
	b := make([]byte, hdr.Size)
	if _, err := io.ReadFull(r.tr, b); err != nil {
		return nil, readErr(fmt.Sprintf("member %q", hdr.Name), err)
	}
	return b, nil
}

// decodeMember decodes the header or the trailer. The trailer is outside
// the checksum, so a damaged key must not pass for an unknown field.
func decodeMember(name string, b []byte, v any) error {
	if err := format.CheckMsgpack(b, memberLimits); err != nil {
		return fmt.Errorf("member %q: %w", name, err)
	}
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("member %q: %w", name, err)
	}
	return nil
}

// readTrailer reads and verifies ibt/trailer, then the end of the archive.
func (r *Reader) readTrailer(hdr *tarHeader) error {
	b, err := r.readMember(hdr, maxSmallMember)
	if err != nil {
		return err
	}
	var t Trailer
	if err := decodeMember(trailerName, b, &t); err != nil {
		return err
	}
	r.digest.Write(t.TreeHash)
	switch sum := r.digest.Sum64(); {
	case t.Changes != r.changes:
		return fmt.Errorf("member %q counts %d changes, the archive holds %d", trailerName, t.Changes, r.changes)
	case t.Members != r.members:
		return fmt.Errorf("member %q counts %d members, the archive holds %d", trailerName, t.Members, r.members)
	case t.Checksum != sum:
		return fmt.Errorf("member %q: checksum %016x, but the header, changes and tree hash hash to %016x", trailerName, t.Checksum, sum)
	}
	r.trailer = t
	return r.checkEnd()
}

// checkEnd accepts only the tar end blocks and zero padding after the
// trailer, then a clean end of the codec stream, which for gzip, lz4 and
// zstd also verifies its checksum.
func (r *Reader) checkEnd() error {
	// The end-of-archive marker is two zero blocks after the trailer's
	// padded content; the tar reader also takes a bare end of stream for
	// it, which here would be a truncation.
	marker := (r.pos.n+511)&^511 + 1024
	hdr, err := r.tr.Next()
	if err == nil {
		return fmt.Errorf("unexpected member %q after %q", hdr.Name, trailerName)
	}
	if err != io.EOF {
		return readErr("the end of the archive", err)
	}
	if r.pos.n < marker {
		return fmt.Errorf("%w: it ends inside the end-of-archive marker", ErrTruncated)
	}
	var buf [4096]byte
	total := 0
	for {
		n, err := r.zr.Read(buf[:])
		total += n
		if total > maxPadding || !allZero(buf[:n]) {
			return fmt.Errorf("unexpected data after the end of the tar stream")
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return readErr("the end of the archive", err)
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func (r *Reader) fail(err error) error {
	if r.err == nil {
		r.err = err
		r.data.active = false
	}
	return r.err
}

// countingReader counts the bytes of the tar stream read so far.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
