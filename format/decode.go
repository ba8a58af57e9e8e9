package format

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The decoder in this file parses the bodies of entry, change and copy
// records straight from the frame, accepting only their canonical form (see
// doc.go): keys in field order, no unknown or repeated keys, omitempty fields
// absent exactly when zero, every length and integer in its shortest form. It
// accepts exactly the bodies the msgpack path of codec.go accepts and yields
// the same values (FuzzDecodeDifferential), without reflection and without
// encoding the record again to compare. Every length is checked against what
// is left of the body before anything is allocated for it, and the body's
// containers share the element budget of CheckMsgpack.

// decoder reads one record body.
type decoder struct {
	b      []byte
	pos    int
	budget uint64 // array elements plus map keys and values still allowed
	sig    sigMode
}

// sigMode says what the decoder does with an entry's signature. Every mode
// checks its bytes alike, as a bin value of the length it claims.
type sigMode uint8

const (
	sigCopy  sigMode = iota // into a slice of its own
	sigAlias                // in place, in a body that its caller never reuses
	sigSkip                 // not at all: Entry.Sig stays nil
)

// bodyError is a departure from the canonical form, at byte Pos of a body.
type bodyError struct {
	Pos  int
	What string
}

func (e *bodyError) Error() string {
	return fmt.Sprintf("at byte %d of the body: %s", e.Pos, e.What)
}

func (d *decoder) fail(pos int, what string) error { return &bodyError{Pos: pos, What: what} }

func decodeEntry(body []byte) (*Entry, error) { return decodeEntrySig(body, sigCopy) }

func decodeChange(body []byte) (*Change, error) { return decodeChangeSig(body, sigCopy) }

func decodeEntrySig(body []byte, sig sigMode) (*Entry, error) {
	d := decoder{b: body, budget: maxElements, sig: sig}
	e, err := d.entry()
	if err = d.finish(err); err != nil {
		return nil, err
	}
	return e, nil
}

func decodeChangeSig(body []byte, sig sigMode) (*Change, error) {
	d := decoder{b: body, budget: maxElements, sig: sig}
	c, err := d.change()
	if err = d.finish(err); err != nil {
		return nil, err
	}
	return c, nil
}

func decodeCopy(body []byte) (*Copy, error) {
	d := decoder{b: body, budget: maxElements}
	c, err := d.copyRecord()
	if err = d.finish(err); err != nil {
		return nil, err
	}
	return c, nil
}

// finish checks that nothing follows the record's map. On failure it says
// why as the msgpack path would for a body that is not msgpack at all, and
// otherwise what departs from the canonical form, where.
func (d *decoder) finish(err error) error {
	if err == nil && d.pos == len(d.b) {
		return nil
	}
	if err == nil {
		err = d.fail(d.pos, fmt.Sprintf("%d bytes after the record's map", len(d.b)-d.pos))
	}
	if merr := CheckMsgpack(d.b, RecordLimits); merr != nil {
		return merr
	}
	return fmt.Errorf("not in canonical form: %w", err)
}

// take returns the next n bytes.
func (d *decoder) take(n uint64) ([]byte, error) {
	if n > uint64(len(d.b)-d.pos) {
		return nil, d.fail(d.pos, "value runs past the end of the record")
	}
	p := d.b[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return p, nil
}

// spend charges n container values against the budget, refusing a count
// that what is left of the body cannot hold (every value takes a byte).
func (d *decoder) spend(n uint64) error {
	if n > uint64(len(d.b)-d.pos) {
		return d.fail(d.pos, "container runs past the end of the record")
	}
	if n > d.budget {
		return d.fail(d.pos, fmt.Sprintf("more than %d msgpack values in one record", maxElements))
	}
	d.budget -= n
	return nil
}

// length reads a msgpack length in its shortest form: fix is the code of
// the fixed form, which holds lengths below fixLen (0: no fixed form), and
// c8, c16 and c32 the codes of the 1-, 2- and 4-byte forms (c8 0: none).
func (d *decoder) length(what string, fix byte, fixLen uint64, c8, c16, c32 byte) (uint64, error) {
	start := d.pos
	if d.pos >= len(d.b) {
		return 0, d.fail(start, what+" missing")
	}
	c := d.b[d.pos]
	d.pos++
	if fixLen > 0 && c&^byte(fixLen-1) == fix {
		return uint64(c) & (fixLen - 1), nil
	}
	var size int
	var least uint64
	switch {
	case c8 != 0 && c == c8:
		size, least = 1, fixLen
	case c == c16:
		size, least = 2, 1<<8
		if c8 == 0 {
			least = fixLen
		}
	case c == c32:
		size, least = 4, 1<<16
	default:
		return 0, d.fail(start, fmt.Sprintf("%s expected, found msgpack code 0x%02x", what, c))
	}
	p, err := d.take(uint64(size))
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, x := range p {
		n = n<<8 | uint64(x)
	}
	if n < least {
		return 0, d.fail(start, what+" length not in its shortest form")
	}
	return n, nil
}

func (d *decoder) mapLen() (uint64, error) { return d.length("map", 0x80, 16, 0, 0xde, 0xdf) }

func (d *decoder) arrayLen() (uint64, error) { return d.length("array", 0x90, 16, 0, 0xdc, 0xdd) }

// str reads a msgpack str.
func (d *decoder) str() (string, error) {
	if d.pos < len(d.b) && d.b[d.pos]&0xe0 == 0xa0 { // a fixstr
		n := int(d.b[d.pos] & 0x1f)
		if n < len(d.b)-d.pos {
			d.pos += 1 + n
			return string(d.b[d.pos-n : d.pos]), nil
		}
	}
	n, err := d.length("str", 0xa0, 32, 0xd9, 0xda, 0xdb)
	if err != nil {
		return "", err
	}
	p, err := d.take(n)
	return string(p), err
}

// boolTrue reads a msgpack true: a false field is written by omitting it.
func (d *decoder) boolTrue(kpos int) (bool, error) {
	if d.pos < len(d.b) && d.b[d.pos] == 0xc3 {
		d.pos++
		return true, nil
	}
	return false, d.fail(kpos, "a flag that is not true: a false flag is written by omitting it")
}

// bin reads a msgpack bin into a new slice; nilOK accepts a msgpack nil
// instead, read as a nil slice.
func (d *decoder) bin(nilOK bool) ([]byte, error) {
	if nilOK && d.pos < len(d.b) && d.b[d.pos] == 0xc0 {
		d.pos++
		return nil, nil
	}
	n, err := d.length("bin", 0, 0, 0xc4, 0xc5, 0xc6)
	if err != nil {
		return nil, err
	}
	p, err := d.take(n)
	if err != nil {
		return nil, err
	}
	return append(make([]byte, 0, n), p...), nil
}

// signature reads an entry's Sig, a bin, as d.sig says, and whether it is
// empty. In place, it is the signature that keeps its body alive, so it
// stays there only if it makes up most of the body; a full slice
// expression keeps an append to it off the bytes that follow.
func (d *decoder) signature() (sig []byte, empty bool, err error) {
	if d.sig == sigCopy {
		sig, err = d.bin(false)
		return sig, len(sig) == 0, err
	}
	n, err := d.length("bin", 0, 0, 0xc4, 0xc5, 0xc6)
	if err != nil {
		return nil, false, err
	}
	p, err := d.take(n)
	switch {
	case err != nil:
		return nil, false, err
	case d.sig == sigSkip:
		return nil, n == 0, nil
	case 2*len(p) >= len(d.b):
		return p[:n:n], n == 0, nil
	}
	return append(make([]byte, 0, n), p...), n == 0, nil
}

// uint reads an unsigned integer of at most limit in its shortest form.
func (d *decoder) uint(limit uint64) (uint64, error) {
	if d.pos < len(d.b) && d.b[d.pos] <= 0x7f { // every limit is at least 0x7f
		d.pos++
		return uint64(d.b[d.pos-1]), nil
	}
	return d.uintSlow(limit)
}

func (d *decoder) uintSlow(limit uint64) (uint64, error) {
	start := d.pos
	if d.pos >= len(d.b) {
		return 0, d.fail(start, "integer missing")
	}
	c, rest := d.b[d.pos], d.b[d.pos+1:]
	var n, least uint64
	var size int
	switch {
	case c == 0xcc && len(rest) >= 1:
		n, size, least = uint64(rest[0]), 1, 0x80
	case c == 0xcd && len(rest) >= 2:
		n, size, least = uint64(binary.BigEndian.Uint16(rest)), 2, 1<<8
	case c == 0xce && len(rest) >= 4:
		n, size, least = uint64(binary.BigEndian.Uint32(rest)), 4, 1<<16
	case c == 0xcf && len(rest) >= 8:
		n, size, least = binary.BigEndian.Uint64(rest), 8, 1<<32
	case c >= 0xcc && c <= 0xcf:
		return 0, d.fail(start, "value runs past the end of the record")
	default:
		return 0, d.fail(start, fmt.Sprintf("unsigned integer expected, found msgpack code 0x%02x", c))
	}
	switch {
	case n < least:
		return 0, d.fail(start, "integer not in its shortest form")
	case n > limit:
		return 0, d.fail(start, fmt.Sprintf("integer %d out of range (at most %d)", n, limit))
	}
	d.pos += 1 + size
	return n, nil
}

// int reads a signed integer in its shortest form: unsigned forms for values
// >= 0, signed forms only for negative values.
func (d *decoder) int() (int64, error) {
	if d.pos < len(d.b) {
		if c := d.b[d.pos]; c <= 0x7f || (c >= 0xcc && c <= 0xcf) {
			n, err := d.uint(math.MaxInt64)
			return int64(n), err
		}
	}
	start := d.pos
	if d.pos >= len(d.b) {
		return 0, d.fail(start, "integer missing")
	}
	c := d.b[d.pos]
	d.pos++
	if c >= 0xe0 {
		return int64(int8(c)), nil
	}
	var size int
	var limit int64 // the largest value the form may hold in shortest form
	switch c {
	case 0xd0:
		size, limit = 1, -33
	case 0xd1:
		size, limit = 2, math.MinInt8-1
	case 0xd2:
		size, limit = 4, math.MinInt16-1
	case 0xd3:
		size, limit = 8, math.MinInt32-1
	default:
		return 0, d.fail(start, fmt.Sprintf("integer expected, found msgpack code 0x%02x", c))
	}
	p, err := d.take(uint64(size))
	if err != nil {
		return 0, err
	}
	var n int64
	switch size {
	case 1:
		n = int64(int8(p[0]))
	case 2:
		n = int64(int16(binary.BigEndian.Uint16(p)))
	case 4:
		n = int64(int32(binary.BigEndian.Uint32(p)))
	default:
		n = int64(binary.BigEndian.Uint64(p))
	}
	if n > limit {
		return 0, d.fail(start, "integer not in its shortest form")
	}
	return n, nil
}

// key reads a map key: a fixstr of 1 to 3 bytes, as every record key is.
func (d *decoder) key() ([]byte, int, error) {
	start := d.pos
	if d.pos >= len(d.b) || d.b[d.pos] < 0xa1 || d.b[d.pos] > 0xa3 {
		return nil, start, d.fail(start, "map key expected: a str of 1 to 3 bytes")
	}
	n := int(d.b[d.pos] & 0x1f)
	d.pos++
	p, err := d.take(uint64(n))
	return p, start, err
}

// Entry fields in wire order, by their msgpack keys.
const (
	fPath = iota
	fType
	fMode
	fMTime
	fSize
	fTarget
	fRdev
	fUID
	fGID
	fDev
	fInode
	fCTime
	fLinkTo
	fXattrs
	fHash
	fBlockSize
	fSig
	fSkipped
	entryFields
)

// entryField returns the field of key k, or -1.
func entryField(k []byte) int {
	switch string(k) {
	case "p":
		return fPath
	case "t":
		return fType
	case "m":
		return fMode
	case "mt":
		return fMTime
	case "s":
		return fSize
	case "l":
		return fTarget
	case "rd":
		return fRdev
	case "u":
		return fUID
	case "g":
		return fGID
	case "dv":
		return fDev
	case "in":
		return fInode
	case "ct":
		return fCTime
	case "h":
		return fLinkTo
	case "x":
		return fXattrs
	case "H":
		return fHash
	case "b":
		return fBlockSize
	case "S":
		return fSig
	case "sk":
		return fSkipped
	}
	return -1
}

// entryKeys are the keys of an entry's fields as they appear in a body, a
// fixstr each, in field order.
var entryKeys = [entryFields]string{"\xa1p", "\xa1t", "\xa1m", "\xa2mt", "\xa1s", "\xa1l", "\xa2rd", "\xa1u", "\xa1g",
	"\xa2dv", "\xa2in", "\xa2ct", "\xa1h", "\xa1x", "\xa1H", "\xa1b", "\xa1S", "\xa2sk"}

// entryWithHash holds an entry and room for its content hash, so that both
// take one allocation; the hash stays valid as long as the caller keeps
// either.
type entryWithHash struct {
	Entry
	hash [32]byte
}

// entry reads an Entry map: the first four fields always, the others
// (omitempty) exactly when they are not zero. It walks the fields in order
// and matches each key's bytes, so that a canonical body costs no lookup.
func (d *decoder) entry() (*Entry, error) {
	start := d.pos
	n, err := d.mapLen()
	if err != nil {
		return nil, err
	}
	if n < fMTime+1 || n > entryFields {
		return nil, d.fail(start, fmt.Sprintf("entry map of %d keys, want %d to %d", n, fMTime+1, entryFields))
	}
	if err := d.spend(2 * n); err != nil {
		return nil, err
	}
	ew := new(entryWithHash)
	e := &ew.Entry
	left := n
	for f := 0; f < entryFields && left > 0; f++ {
		key := entryKeys[f]
		if !hasPrefix(d.b[d.pos:], key) {
			if f <= fMTime {
				return nil, d.misplacedKey(fmt.Sprintf("where %q belongs", key[1:]))
			}
			continue
		}
		d.pos += len(key)
		left--
		vpos := d.pos
		var zero bool
		var u uint64
		switch f {
		case fPath:
			e.Path, err = d.str()
		case fType:
			u, err = d.uint(math.MaxUint8)
			e.Type = Type(u)
		case fMode:
			u, err = d.uint(math.MaxUint32)
			e.Mode = uint32(u)
		case fMTime:
			e.MTime, err = d.int()
		case fSize:
			e.Size, err = d.int()
			zero = e.Size == 0
		case fTarget:
			e.Target, err = d.str()
			zero = e.Target == ""
		case fRdev:
			e.Rdev, err = d.uint(math.MaxUint64)
			zero = e.Rdev == 0
		case fUID:
			u, err = d.uint(math.MaxUint32)
			e.UID, zero = uint32(u), u == 0
		case fGID:
			u, err = d.uint(math.MaxUint32)
			e.GID, zero = uint32(u), u == 0
		case fDev:
			e.Dev, err = d.uint(math.MaxUint64)
			zero = e.Dev == 0
		case fInode:
			e.Inode, err = d.uint(math.MaxUint64)
			zero = e.Inode == 0
		case fCTime:
			e.CTime, err = d.int()
			zero = e.CTime == 0
		case fLinkTo:
			e.LinkTo, err = d.str()
			zero = e.LinkTo == ""
		case fXattrs:
			e.Xattrs, err = d.xattrs()
			zero = len(e.Xattrs) == 0
		case fHash:
			if d.pos+2+len(ew.hash) <= len(d.b) && d.b[d.pos] == 0xc4 && d.b[d.pos+1] == byte(len(ew.hash)) {
				e.Hash = ew.hash[:copy(ew.hash[:], d.b[d.pos+2:]):len(ew.hash)]
				d.pos += 2 + len(ew.hash)
			} else {
				e.Hash, err = d.bin(false)
			}
			zero = len(e.Hash) == 0
		case fBlockSize:
			u, err = d.uint(math.MaxUint32)
			e.BlockSize, zero = uint32(u), u == 0
		case fSig:
			e.Sig, zero, err = d.signature()
		case fSkipped:
			e.Skipped, err = d.boolTrue(vpos - len(key))
		}
		if err != nil {
			return nil, err
		}
		if zero {
			return nil, d.fail(vpos, fmt.Sprintf("key %q holds a zero value, which is written by leaving the key out", key[1:]))
		}
	}
	if left > 0 {
		return nil, d.misplacedKey("in an entry")
	}
	return e, nil
}

// hasPrefix reports whether b starts with the few bytes of key; a loop is
// cheaper than a call to compare memory for 2 or 3 bytes.
func hasPrefix(b []byte, key string) bool {
	if len(b) < len(key) {
		return false
	}
	for i := range len(key) {
		if b[i] != key[i] {
			return false
		}
	}
	return true
}

// misplacedKey explains why the key at d.pos is not the one expected.
func (d *decoder) misplacedKey(where string) error {
	k, kpos, err := d.key()
	switch {
	case err != nil:
		return err
	case entryField(k) < 0:
		return d.fail(kpos, fmt.Sprintf("unknown key %q %s", k, where))
	}
	return d.fail(kpos, fmt.Sprintf("key %q repeated or out of order %s", k, where))
}

// xattrs reads an array of Xattr maps {n, v}.
func (d *decoder) xattrs() ([]Xattr, error) {
	n, err := d.arrayLen()
	if err != nil {
		return nil, err
	}
	if err := d.spend(n); err != nil {
		return nil, err
	}
	xs := make([]Xattr, n) // bounded by the budget: at most maxElements
	for i := range xs {
		start := d.pos
		m, err := d.mapLen()
		if err != nil {
			return nil, err
		}
		if m != 2 {
			return nil, d.fail(start, fmt.Sprintf("extended attribute map of %d keys, want 2", m))
		}
		if err := d.spend(4); err != nil {
			return nil, err
		}
		if err := d.wantKey("n"); err != nil {
			return nil, err
		}
		if xs[i].Name, err = d.str(); err != nil {
			return nil, err
		}
		if err := d.wantKey("v"); err != nil {
			return nil, err
		}
		if xs[i].Value, err = d.bin(true); err != nil {
			return nil, err
		}
	}
	return xs, nil
}

// wantKey reads the key want.
func (d *decoder) wantKey(want string) error {
	k, kpos, err := d.key()
	if err != nil {
		return err
	}
	if string(k) != want {
		return d.fail(kpos, fmt.Sprintf("key %q where %q belongs", k, want))
	}
	return nil
}

// change reads a Change map: o, then old, new, f and fn when present.
func (d *decoder) change() (*Change, error) {
	start := d.pos
	n, err := d.mapLen()
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 6 {
		return nil, d.fail(start, fmt.Sprintf("change map of %d keys, want 1 to 6", n))
	}
	if err := d.spend(2 * n); err != nil {
		return nil, err
	}
	if err := d.wantKey("o"); err != nil {
		return nil, err
	}
	op, err := d.uint(math.MaxUint8)
	if err != nil {
		return nil, err
	}
	c := &Change{Op: Op(op)}
	for range n - 1 {
		k, kpos, err := d.key()
		if err != nil {
			return nil, err
		}
		switch {
		case string(k) == "old" && c.Old == nil && c.New == nil && c.From == "" && !c.FromNew && c.FromSize == 0:
			c.Old, err = d.entry()
		case string(k) == "new" && c.New == nil && c.From == "" && !c.FromNew && c.FromSize == 0:
			c.New, err = d.entry()
		case string(k) == "f" && c.From == "" && !c.FromNew && c.FromSize == 0:
			if c.From, err = d.str(); err == nil && c.From == "" {
				err = d.fail(kpos, "empty source path in a change: an absent f is written by omitting it")
			}
		case string(k) == "fn" && !c.FromNew && c.FromSize == 0:
			c.FromNew, err = d.boolTrue(kpos)
		case string(k) == "fs" && c.FromSize == 0:
			if c.FromSize, err = d.int(); err == nil && c.FromSize <= 0 {
				err = d.fail(kpos, "a source size below 1 in a change: an absent fs is written by omitting it")
			}
		default:
			return nil, d.fail(kpos, fmt.Sprintf("key %q unknown, repeated or out of order in a change", k))
		}
		if err != nil {
			return nil, err
		}
	}
	if err := restoreCanonical(c); err != nil {
		return nil, d.fail(start, err.Error())
	}
	return c, nil
}

// copyRecord reads a Copy map: off, then len.
func (d *decoder) copyRecord() (*Copy, error) {
	if len(d.b) < len(copyPrefix) || string(d.b[:len(copyPrefix)]) != copyPrefix {
		return nil, d.fail(0, `copy is not a map of the keys "off" and "len"`)
	}
	d.pos = len(copyPrefix)
	if err := d.spend(4); err != nil {
		return nil, err
	}
	var c Copy
	var err error
	if c.Offset, err = d.int(); err != nil {
		return nil, err
	}
	if err := d.wantKey("len"); err != nil {
		return nil, err
	}
	if c.Length, err = d.int(); err != nil {
		return nil, err
	}
	return &c, nil
}
