package format

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cespare/xxhash/v2"
	"github.com/pierrec/lz4/v4"
)

// Reader reads one stream, lz4-framed or not, and checks everything a Writer
// checks, the trailer's record count and checksum included. Records come
// before the checksum that covers them is verified: a program must not
// commit to what it read before Next returns io.EOF.
type Reader struct {
	src     *bufio.Reader // the decoded stream
	lz4     bool
	off     int64 // bytes of the decoded stream consumed
	sum     *xxhash.Digest
	seq     sequence
	codec   *codec
	header  Header
	trailer Trailer
	buf     []byte // the body of the last record, unless it was read in place or is big
	pending int    // bytes of the last frame, read in place, still to discard
	owned   bool   // the last body is in a buffer of its own, never reused
	skipSig bool
	done    bool
	err     error
}

// maxRetained bounds the buffer a Reader or Writer keeps from one record to
// the next. A bigger record, such as the signature of a file of many GiB,
// gets a buffer of its own that the garbage collector takes back once the
// record is done with, so that a program holds one such record at a time
// rather than a buffer of the largest one for good. It is above the largest
// literal record (MaxChunk and a few bytes), which a delta stream is full
// of and which must not each get a new buffer.
const maxRetained = 2 * MaxChunk

// readBufferSize is the read-ahead of a Reader; it also covers the 262
// bytes needed to recognise a tar archive.
const readBufferSize = 32 << 10

// NewReader reads the start of a stream from r and checks its header: a
// stream of another format version or other algorithms is refused.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, readBufferSize)
	sr := &Reader{src: br, sum: xxhash.New(), codec: newCodec()}
	p, _ := br.Peek(len(lz4Magic))
	if len(p) > 0 && len(p) < len(lz4Magic) && string(p) == lz4Magic[:len(p)] {
		return nil, &ParseError{Offset: 0, Err: fmt.Errorf("%w: the input ends inside the lz4 magic number", ErrTruncated)}
	}
	if string(p) == lz4Magic {
		sr.src = bufio.NewReaderSize(lz4.NewReader(br), readBufferSize)
		sr.lz4 = true
	}
	if err := sr.readStart(); err != nil {
		return nil, err
	}
	return sr, nil
}

// readStart reads the magic, the version byte and the header record.
func (r *Reader) readStart() error {
	prefix := len(Magic) + 1
	p, err := r.src.Peek(prefix)
	if len(p) < len(Magic) || string(p[:len(Magic)]) != Magic {
		if len(p) > 0 && len(p) < len(Magic) && string(p) == Magic[:len(p)] {
			return &ParseError{Offset: int64(len(p)), Err: fmt.Errorf("%w: the stream ends inside its magic number", ErrTruncated)}
		}
		if err != nil && err != io.EOF {
			return r.readError(err, "the magic number")
		}
		all, _ := r.src.Peek(readBufferSize)
		if hint := notStreamHint(all); hint != "" {
			return fmt.Errorf("%w: %s", ErrNotStream, hint)
		}
		return fmt.Errorf("%w: it does not start with the ibt magic number", ErrNotStream)
	}
	if len(p) < prefix {
		if err != io.EOF {
			return r.readError(err, "the magic number")
		}
		return &ParseError{Offset: int64(len(p)), Err: fmt.Errorf("%w: the stream ends after its magic number", ErrTruncated)}
	}
	if v := p[len(Magic)]; v != Version {
		return &ParseError{Offset: int64(len(Magic)), Err: fmt.Errorf("format version %d, but this program reads version %d: use an ibt release of the same format version", v, Version)}
	}
	r.sum.Write(p)
	r.off = int64(prefix)
	r.src.Discard(prefix)

	tag, body, start, err := r.readFrame()
	if err != nil {
		return err
	}
	if tag != tagHeader {
		return &ParseError{Offset: start, Err: fmt.Errorf("a %s record where the header belongs", tagName(tag))}
	}
	if err := r.codec.decode(body, &r.header); err != nil {
		return &ParseError{Offset: start, Err: fmt.Errorf("header: %w", err)}
	}
	if err := checkHeader(&r.header); err != nil {
		return &ParseError{Offset: start, Err: fmt.Errorf("header: %w", err)}
	}
	r.seq.kind, r.seq.seeded = r.header.Kind, len(r.header.Seed) > 0
	return nil
}

// SkipSignatures makes the Reader check the block signatures of the
// entries it reads (their Entry.Sig, in index records and in the entries of
// changes) as it checks every other field, but not keep them: Entry.Sig is
// nil in every record Next returns from then on, and a program that never
// needs the signatures, such as a diff of the new index, never holds their
// memory. Call it before the first call to Next.
func (r *Reader) SkipSignatures() { r.skipSig = true }

// Header returns the stream's header.
func (r *Reader) Header() Header { return r.header }

// Trailer returns the stream's trailer, once Next has returned io.EOF.
func (r *Reader) Trailer() Trailer { return r.trailer }

// Next returns the next record: an *Entry, a *Change, a *Copy or a *Literal.
// At the end of a stream whose trailer checks out it returns io.EOF. The Data
// of a Literal is only valid until the next call to Next; every other record
// is the caller's.
func (r *Reader) Next() (Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.done {
		return nil, io.EOF
	}
	rec, err := r.next()
	if err != nil {
		r.err = err
		return nil, err
	}
	return rec, nil
}

func (r *Reader) next() (Record, error) {
	tag, body, start, err := r.readFrame()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (Record, error) {
		var pe *ParseError
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, &ParseError{Offset: start, Err: err}
	}
	sig := sigCopy
	switch {
	case r.skipSig:
		sig = sigSkip
	case r.owned:
		sig = sigAlias
	}
	switch tag {
	case tagEntry:
		e, err := decodeEntrySig(body, sig)
		if err != nil {
			return fail(fmt.Errorf("entry record: %w", err))
		}
		if err := r.seq.entry(e); err != nil {
			return fail(err)
		}
		return e, nil
	case tagChange:
		c, err := decodeChangeSig(body, sig)
		if err != nil {
			return fail(fmt.Errorf("change record: %w", err))
		}
		if err := r.seq.change(c); err != nil {
			return fail(err)
		}
		return c, nil
	case tagCopy:
		c, err := decodeCopy(body)
		if err != nil {
			return fail(fmt.Errorf("copy record: %w", err))
		}
		if err := r.seq.copy(c); err != nil {
			return fail(err)
		}
		return c, nil
	case tagLiteral:
		data, err := parseLiteral(body)
		if err != nil {
			return fail(err)
		}
		if err := r.seq.literal(len(data)); err != nil {
			return fail(err)
		}
		return &Literal{Data: data}, nil
	case tagTrailer:
		if err := r.readTrailer(body); err != nil {
			return fail(err)
		}
		r.done = true
		return nil, io.EOF
	case tagHeader:
		return fail(errors.New("a second header"))
	}
	return fail(fmt.Errorf("unknown record type 0x%02x", tag))
}

// readTrailer checks the trailer, then that nothing follows it.
func (r *Reader) readTrailer(body []byte) error {
	if err := r.seq.dataDone(); err != nil {
		return fmt.Errorf("the stream ends early: %w", err)
	}
	var t Trailer
	if err := r.codec.unmarshal(body, &t); err != nil {
		return fmt.Errorf("trailer: %w", err)
	}
	want := binary.BigEndian.AppendUint64(appendTrailer(nil, &t), t.Checksum)
	if !bytes.Equal(want, body) {
		return errors.New("trailer: not in canonical form")
	}
	if err := checkTrailer(&t); err != nil {
		return fmt.Errorf("trailer: %w", err)
	}
	if sum := r.sum.Sum64(); t.Checksum != sum {
		return fmt.Errorf("%w: the trailer records %016x, the stream hashes to %016x: the stream is corrupt", ErrChecksum, t.Checksum, sum)
	}
	if t.Count != r.seq.count {
		return fmt.Errorf("the trailer counts %d records, the stream holds %d", t.Count, r.seq.count)
	}
	r.release()
	switch _, err := r.src.ReadByte(); {
	case err == nil:
		return errors.New("data after the trailer")
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The lz4 frame's end mark and checksum follow the trailer.
		return r.readError(err, "the end of the lz4 frame")
	case err != io.EOF:
		return fmt.Errorf("data after the trailer: %w", err)
	}
	r.trailer = t
	return nil
}

// readFrame reads one record's frame and hashes it (a trailer but for its
// checksum). The body is valid until the next call.
func (r *Reader) readFrame() (tag byte, body []byte, start int64, err error) {
	r.release()
	r.owned = false
	start = r.off
	if tag, body, ok := r.peekFrame(); ok {
		return tag, body, start, nil
	}
	tag, err = r.src.ReadByte()
	if err != nil {
		if err == io.EOF {
			return 0, nil, start, &ParseError{Offset: start, Err: fmt.Errorf("%w: the stream ends before its trailer", ErrTruncated)}
		}
		return 0, nil, start, r.readError(err, "a record")
	}
	var head [8]byte
	head[0] = tag
	n, size, err := r.readLength(head[1:])
	if err != nil {
		return 0, nil, start, r.readError(err, "the length of a "+tagName(tag)+" record")
	}
	if n > MaxRecord {
		return 0, nil, start, &ParseError{Offset: start, Err: fmt.Errorf("%s record of %d bytes, more than %d", tagName(tag), n, MaxRecord)}
	}
	r.off += int64(1 + size)
	r.sum.Write(head[:1+size])
	body, err = r.readBody(int(n))
	if err != nil {
		return 0, nil, start, r.readError(err, fmt.Sprintf("a %s record of %d bytes", tagName(tag), n))
	}
	r.off += int64(n)
	if tag == tagTrailer && len(body) >= 8 {
		r.sum.Write(body[:len(body)-8])
	} else {
		r.sum.Write(body)
	}
	return tag, body, start, nil
}

// peekFrame returns the next frame's tag and body in place, in the read
// buffer, when the buffer holds the whole frame and its length is well
// formed: most frames of an index or diff, which then cost no copy and one
// call to the hash. Anything else, errors included, is left to the byte by
// byte path of readFrame. The frame is discarded by the next release.
func (r *Reader) peekFrame() (tag byte, body []byte, ok bool) {
	avail := r.src.Buffered()
	if avail < 2 {
		return 0, nil, false
	}
	p, _ := r.src.Peek(min(avail, 5)) // buffered already: no read
	n, size := binary.Uvarint(p[1:])
	if size <= 0 || size > 4 || (size > 1 && p[size] == 0) || n > MaxRecord || uint64(avail) < 1+uint64(size)+n {
		return 0, nil, false
	}
	total := 1 + size + int(n)
	p, _ = r.src.Peek(total)
	tag, body = p[0], p[1+size:]
	if tag == tagTrailer && len(body) >= 8 {
		r.sum.Write(p[:total-8])
	} else {
		r.sum.Write(p)
	}
	r.off += int64(total)
	r.pending = total
	return tag, body, true
}

// release discards the frame peekFrame returned, once its body is no longer
// needed.
func (r *Reader) release() {
	if r.pending > 0 {
		r.src.Discard(r.pending)
		r.pending = 0
	}
}

// readLength reads a record's length, a uvarint in its shortest form of at
// most 4 bytes (enough for MaxRecord), into p and returns it and its size.
func (r *Reader) readLength(p []byte) (n uint64, size int, err error) {
	for i := range 4 {
		c, err := r.src.ReadByte()
		if err != nil {
			return 0, 0, err
		}
		p[i] = c
		n |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if i > 0 && c == 0 {
				return 0, 0, &ParseError{Offset: r.off + 1, Err: errors.New("record length not in its shortest form")}
			}
			return n, i + 1, nil
		}
	}
	return 0, 0, &ParseError{Offset: r.off + 1, Err: fmt.Errorf("record length of more than 4 bytes: more than %d", MaxRecord)}
}

// readBody reads n bytes into r.buf, growing it only as the bytes arrive so
// that a length with no data behind it costs no memory: at most four times
// the bytes that did arrive, a growth that copies and discards a third of
// the body where doubling would copy and discard all of it. A body of more than
// maxRetained bytes is read into a buffer of its own (see maxRetained).
func (r *Reader) readBody(n int) ([]byte, error) {
	if n <= cap(r.buf) {
		r.buf = r.buf[:n]
		_, err := io.ReadFull(r.src, r.buf)
		return r.buf, err
	}
	var b []byte
	if n <= maxRetained {
		b = r.buf[:0]
	}
	for len(b) < n {
		step := min(n-len(b), max(3*len(b), 1<<20))
		b = append(b, make([]byte, step)...)
		if _, err := io.ReadFull(r.src, b[len(b)-step:]); err != nil {
			return nil, err
		}
	}
	if n <= maxRetained {
		r.buf = b
	} else {
		r.owned = true
	}
	return b, nil
}

// readError turns an error reading what into a stream error: an early end of
// input is a truncated stream.
func (r *Reader) readError(err error, what string) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		return err
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		if r.lz4 {
			// The cut may lie anywhere in the lz4 block that holds what.
			return &ParseError{Offset: r.off, Err: fmt.Errorf("%w: the lz4 frame is cut short, in a block holding %s", ErrTruncated, what)}
		}
		return &ParseError{Offset: r.off, Err: fmt.Errorf("%w: the stream ends inside %s", ErrTruncated, what)}
	}
	if r.lz4 {
		return &ParseError{Offset: r.off, Err: fmt.Errorf("read lz4 frame: %w", err)}
	}
	return fmt.Errorf("read stream: %w", err)
}
