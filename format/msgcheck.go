package format

import (
	"errors"
	"fmt"
)

// MsgpackLimits bounds the structure CheckMsgpack accepts. Records use
// RecordLimits; the archive, whose members hold batches of changes and may
// carry fields of a later version, passes its own.
type MsgpackLimits struct {
	// Depth is how many containers may nest, the outermost counted.
	Depth int
	// Values bounds the array elements plus map keys and values of all
	// containers together; 0 leaves only the bound every length has, the
	// bytes that remain.
	Values uint64
	// AnyType accepts floats and ext values, which no record holds.
	AnyType bool
}

// RecordLimits are the limits on the msgpack structure of one record body,
// checked before the body is decoded so that the decoder never allocates for
// a length the body cannot hold. The deepest record is a Change holding an
// Entry holding its Xattrs, each a map: four levels.
var RecordLimits = MsgpackLimits{Depth: 6, Values: maxElements}

// maxElements bounds the array elements plus map keys and values of one
// record.
const maxElements = 4 * maxXattrs

var errShortValue = errors.New("msgpack value runs past the end of its record")

// CheckMsgpack checks that b holds exactly one msgpack value within lim,
// whose every length fits in b. msgpack/v5 allocates a slice of the claimed
// length before decoding its elements, so an unchecked claim of 2^32
// elements would exhaust memory; after this check every allocation is
// bounded by len(b).
func CheckMsgpack(b []byte, lim MsgpackLimits) error {
	w := walker{b: b, lim: lim, budget: lim.Values}
	if err := w.value(0); err != nil {
		return err
	}
	if w.pos != len(b) {
		return fmt.Errorf("%d bytes after the msgpack value", len(b)-w.pos)
	}
	return nil
}

type walker struct {
	b      []byte
	pos    int
	lim    MsgpackLimits
	budget uint64
}

func (w *walker) left() uint64 { return uint64(len(w.b) - w.pos) }

func (w *walker) skip(n uint64) error {
	if n > w.left() {
		return errShortValue
	}
	w.pos += int(n)
	return nil
}

// uint reads an n-byte big-endian length.
func (w *walker) uint(n int) (uint64, error) {
	if uint64(n) > w.left() {
		return 0, errShortValue
	}
	var v uint64
	for _, c := range w.b[w.pos : w.pos+n] {
		v = v<<8 | uint64(c)
	}
	w.pos += n
	return v, nil
}

func (w *walker) value(depth int) error {
	if depth > w.lim.Depth {
		return fmt.Errorf("msgpack values nested deeper than %d", w.lim.Depth)
	}
	if w.left() == 0 {
		return errShortValue
	}
	c := w.b[w.pos]
	w.pos++
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		return nil
	case c <= 0x8f: // fixmap
		return w.container(2*uint64(c&0x0f), depth)
	case c <= 0x9f: // fixarray
		return w.container(uint64(c&0x0f), depth)
	case c <= 0xbf: // fixstr
		return w.skip(uint64(c & 0x1f))
	}
	var lenBytes int
	switch c {
	case 0xc0, 0xc2, 0xc3: // nil, false, true
		return nil
	case 0xcc, 0xd0: // uint8, int8
		return w.skip(1)
	case 0xcd, 0xd1:
		return w.skip(2)
	case 0xce, 0xd2:
		return w.skip(4)
	case 0xcf, 0xd3:
		return w.skip(8)
	case 0xd9, 0xc4: // str8, bin8
		lenBytes = 1
	case 0xda, 0xc5:
		lenBytes = 2
	case 0xdb, 0xc6:
		lenBytes = 4
	case 0xdc, 0xde: // array16, map16
		return w.containerLen(2, c == 0xde, depth)
	case 0xdd, 0xdf: // array32, map32
		return w.containerLen(4, c == 0xdf, depth)
	}
	if w.lim.AnyType {
		switch {
		case c == 0xca: // float32
			return w.skip(4)
		case c == 0xcb: // float64
			return w.skip(8)
		case c >= 0xd4 && c <= 0xd8: // fixext1..fixext16: type, data
			return w.skip(1 + 1<<(c-0xd4))
		case c >= 0xc7 && c <= 0xc9: // ext8, ext16, ext32: length, type, data
			n, err := w.uint(1 << (c - 0xc7))
			if err != nil {
				return err
			}
			return w.skip(n + 1)
		}
	}
	if lenBytes == 0 { // floats and ext types unless allowed, and the unused code 0xc1
		return fmt.Errorf("unexpected msgpack type 0x%02x at byte %d", c, w.pos-1)
	}
	n, err := w.uint(lenBytes)
	if err != nil {
		return err
	}
	return w.skip(n)
}

// containerLen reads the lenBytes-byte count of an array or map and checks
// its values.
func (w *walker) containerLen(lenBytes int, isMap bool, depth int) error {
	n, err := w.uint(lenBytes)
	if err != nil {
		return err
	}
	if isMap {
		n *= 2
	}
	return w.container(n, depth)
}

// container checks n values (the elements of an array, or keys and values of
// a map).
func (w *walker) container(n uint64, depth int) error {
	// Every value takes at least one byte: a count beyond what is left is a
	// lie, refused before anything would be allocated for it.
	if n > w.left() {
		return fmt.Errorf("msgpack container at byte %d claims %d elements, only %d bytes remain: %w", w.pos, n, w.left(), errShortValue)
	}
	if w.lim.Values != 0 {
		if n > w.budget {
			return fmt.Errorf("more than %d msgpack values in one record", w.lim.Values)
		}
		w.budget -= n
	}
	for range n {
		if err := w.value(depth + 1); err != nil {
			return err
		}
	}
	return nil
}
