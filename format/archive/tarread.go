package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// tarReader reads the tar stream of an archive: POSIX ustar members, and a
// PAX extended header before a member whose size ustar cannot hold (see
// the package documentation). It takes nothing else: what archive/tar
// reads besides (GNU, v7 and star headers, long names, sparse files,
// global headers) an ibt archive never holds.
//
// archive/tar reads the same members, but parses every field of every
// header and checks each header block for non-ASCII bytes one rune at a
// time: for a restore of many small files that was a third of the time
// of the goroutine that reads the archive.
type tarReader struct {
	r      io.Reader
	blk    [blockSize]byte
	remain int64 // bytes of the current member's content not yet read
	pad    int64 // zero bytes after it, to the next block
	err    error // final, once set
}

const (
	blockSize = 512
	// maxPAXSize bounds the content of a PAX extended header, as
	// archive/tar does.
	maxPAXSize = 1 << 20
	// maxMemberSize keeps a member's size and its padding within an int64.
	maxMemberSize = math.MaxInt64 - blockSize
)

// errTarHeader is wrapped by every error for a malformed header.
var errTarHeader = errors.New("invalid tar header")

// tarHeader is what a member's header says.
type tarHeader struct {
	Name     string
	Typeflag byte
	Size     int64
}

func newTarReader(r io.Reader) *tarReader { return &tarReader{r: r} }

// Next skips what is left of the current member and reads the next
// header. It returns io.EOF at the end-of-archive marker (two zero blocks,
// or one and the end of the stream), or at the end of the stream where a
// header would start; io.ErrUnexpectedEOF inside a header; and an error
// wrapping errTarHeader for a header it does not take.
func (t *tarReader) Next() (*tarHeader, error) {
	if t.err != nil {
		return nil, t.err
	}
	m, err := t.next()
	if err != nil {
		t.err = err
		return nil, err
	}
	return m, nil
}

func (t *tarReader) next() (*tarHeader, error) {
	if err := t.skip(t.remain + t.pad); err != nil {
		return nil, err
	}
	t.remain, t.pad = 0, 0
	m, end, err := t.header()
	if err != nil || end {
		return nil, err
	}
	if m.Typeflag != 'x' {
		return t.start(m), nil
	}
	// a PAX extended header: its records apply to the member after it
	if m.Size > maxPAXSize {
		return nil, fmt.Errorf("%w: a PAX extended header of %d bytes", errTarHeader, m.Size)
	}
	t.start(m)
	b := make([]byte, m.Size)
	if _, err := io.ReadFull(t, b); err != nil {
		return nil, unexpected(err)
	}
	size, name, err := parsePAX(b)
	if err != nil {
		return nil, err
	}
	if err := t.skip(t.pad); err != nil {
		return nil, err
	}
	t.remain, t.pad = 0, 0
	if m, end, err = t.header(); err != nil || end {
		if end {
			return nil, io.ErrUnexpectedEOF // the member it describes is missing
		}
		return nil, err
	}
	if m.Typeflag == 'x' {
		return nil, fmt.Errorf("%w: two PAX extended headers in a row", errTarHeader)
	}
	if size >= 0 {
		m.Size = size
	}
	if name != "" {
		m.Name = name
	}
	return t.start(m), nil
}

// start makes m the current member.
func (t *tarReader) start(m *tarHeader) *tarHeader {
	t.remain = m.Size
	t.pad = -m.Size & (blockSize - 1)
	return m
}

// header reads one header block; end reports the end-of-archive marker or
// a clean end of the stream.
func (t *tarReader) header() (m *tarHeader, end bool, err error) {
	if _, err := io.ReadFull(t.r, t.blk[:]); err != nil {
		if err == io.EOF {
			return nil, true, io.EOF
		}
		return nil, false, err
	}
	if allZero(t.blk[:]) {
		if _, err := io.ReadFull(t.r, t.blk[:]); err != nil {
			if err == io.EOF {
				return nil, true, io.EOF
			}
			return nil, false, err
		}
		if allZero(t.blk[:]) {
			return nil, true, io.EOF
		}
		return nil, false, fmt.Errorf("%w: a zero block, then a header", errTarHeader)
	}
	return parseHeader(&t.blk)
}

// Offsets in a ustar header block.
const (
	offName     = 0
	lenName     = 100
	offSize     = 124
	lenSize     = 12
	offChksum   = 148
	lenChksum   = 8
	offTypeflag = 156
	offMagic    = 257 // "ustar\x00" and version "00"
	offPrefix   = 345
	lenPrefix   = 155
)

func parseHeader(blk *[blockSize]byte) (*tarHeader, bool, error) {
	if string(blk[offMagic:offMagic+8]) != "ustar\x0000" {
		return nil, false, fmt.Errorf("%w: not a POSIX ustar header", errTarHeader)
	}
	want, ok := parseOctal(blk[offChksum : offChksum+lenChksum])
	if !ok {
		return nil, false, fmt.Errorf("%w: a checksum that is not a number", errTarHeader)
	}
	// the checksum is the sum of the block's bytes with its own field
	// taken as spaces, unsigned or, by some old writers, signed
	var unsigned, signed int64
	for i, c := range blk {
		if i >= offChksum && i < offChksum+lenChksum {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	if want != unsigned && want != signed {
		return nil, false, fmt.Errorf("%w: checksum %d, the block sums to %d", errTarHeader, want, unsigned)
	}
	size, ok := parseNumber(blk[offSize : offSize+lenSize])
	if !ok || size < 0 || size > maxMemberSize {
		return nil, false, fmt.Errorf("%w: size field %q", errTarHeader, blk[offSize:offSize+lenSize])
	}
	m := &tarHeader{Typeflag: blk[offTypeflag], Size: size}
	name := cString(blk[offName : offName+lenName])
	if prefix := cString(blk[offPrefix : offPrefix+lenPrefix]); len(prefix) > 0 {
		m.Name = string(prefix) + "/" + string(name)
	} else {
		m.Name = string(name)
	}
	if m.Typeflag == 0 {
		// old writers' regular file, or directory by its trailing slash
		m.Typeflag = '0'
		if strings.HasSuffix(m.Name, "/") {
			m.Typeflag = '5'
		}
	}
	return m, false, nil
}

// cString returns b up to its first NUL.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// parseNumber reads a numeric field that holds no negative number: octal,
// or base-256 (big-endian) when its first byte has its high bit set.
func parseNumber(b []byte) (int64, bool) {
	if len(b) == 0 || b[0]&0x80 == 0 {
		return parseOctal(b)
	}
	if b[0]&0x40 != 0 {
		return 0, false // negative
	}
	var v uint64
	for i, c := range b {
		if i == 0 {
			c &= 0x7f
		}
		if v>>55 != 0 {
			return 0, false // over 63 bits
		}
		v = v<<8 | uint64(c)
	}
	return int64(v), true
}

// parseOctal reads an octal field, padded with spaces and NULs on either
// side; an empty one is 0.
func parseOctal(b []byte) (int64, bool) {
	b = bytes.Trim(b, " \x00")
	if len(b) == 0 {
		return 0, true
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '7' || v>>60 != 0 {
			return 0, false
		}
		v = v<<3 | int64(c-'0')
	}
	return v, true
}

// parsePAX reads the records of a PAX extended header: "%d %s=%s\n", the
// length counting the whole record. It returns the size and path records
// (-1 and "" where there is none) and ignores the other keys, which set
// what a member of an archive does not use; it refuses the GNU sparse ones.
func parsePAX(b []byte) (size int64, name string, err error) {
	size = -1
	bad := func(why string) (int64, string, error) {
		return 0, "", fmt.Errorf("%w: PAX extended header: %s", errTarHeader, why)
	}
	for len(b) > 0 {
		sp := bytes.IndexByte(b, ' ')
		if sp <= 0 {
			return bad("a record without a length")
		}
		n, perr := strconv.ParseInt(string(b[:sp]), 10, 64)
		if perr != nil || n <= int64(sp)+1 || n > int64(len(b)) {
			return bad(fmt.Sprintf("a record length of %q", b[:sp]))
		}
		rec := b[sp+1 : n]
		b = b[n:]
		if rec[len(rec)-1] != '\n' {
			return bad("a record that does not end in a newline")
		}
		k, v, ok := bytes.Cut(rec[:len(rec)-1], []byte("="))
		if !ok || len(k) == 0 || bytes.IndexByte(k, 0) >= 0 {
			return bad(fmt.Sprintf("a record %q", rec))
		}
		switch key := string(k); {
		case key == "size":
			s, perr := strconv.ParseInt(string(v), 10, 64)
			if perr != nil || s < 0 || s > maxMemberSize {
				return bad(fmt.Sprintf("size %q", v))
			}
			size = s
		case key == "path":
			if len(v) == 0 || bytes.IndexByte(v, 0) >= 0 {
				return bad(fmt.Sprintf("path %q", v))
			}
			name = string(v)
		case len(key) > 11 && key[:11] == "GNU.sparse.":
			return bad("a sparse file")
		}
	}
	return size, name, nil
}

// Read reads the current member's content; it returns io.EOF at its end
// and io.ErrUnexpectedEOF if the stream ends before.
func (t *tarReader) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	if t.remain == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > t.remain {
		p = p[:t.remain]
	}
	n, err := t.r.Read(p)
	t.remain -= int64(n)
	switch {
	case err == io.EOF && t.remain > 0:
		t.err = io.ErrUnexpectedEOF
		return n, t.err
	case err == io.EOF:
		return n, nil // the next Read says io.EOF
	case err != nil:
		t.err = err
	}
	return n, err
}

// skip reads and drops n bytes.
func (t *tarReader) skip(n int64) error {
	if n == 0 {
		return nil
	}
	if k, err := io.CopyN(io.Discard, t.r, n); k < n {
		return unexpected(cmpOr(err, io.EOF))
	}
	return nil
}

func cmpOr(err, or error) error {
	if err != nil {
		return err
	}
	return or
}

// unexpected turns the end of the stream inside a member into
// io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
