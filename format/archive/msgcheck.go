package archive

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// maxDepth bounds the nesting of msgpack containers in a member: records
// nest three deep, and the decoder skips unknown values recursively.
const maxDepth = 16

// checkMsgpack walks the msgpack value that must fill b exactly, and refuses
// any container claiming more elements than bytes remain, or nested deeper
// than maxDepth. msgpack/v5 allocates a slice of the claimed length before
// decoding its elements, so an unchecked claim of 2^32 elements would
// exhaust memory; after this walk every allocation is bounded by len(b).
func checkMsgpack(b []byte) error {
	pending := []uint64{1} // values still to read at each open depth
	i := 0
	for len(pending) > 0 {
		top := len(pending) - 1
		if pending[top] == 0 {
			pending = pending[:top]
			continue
		}
		pending[top]--
		if i >= len(b) {
			return errors.New("msgpack value ends early")
		}
		c := b[i]
		i++
		var skip, n uint64 // bytes to skip, and elements of a container
		container := false
		switch {
		case c <= 0x7f || c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
		case c&0xf0 == 0x80:
			n, container = 2*uint64(c&0x0f), true
		case c&0xf0 == 0x90:
			n, container = uint64(c&0x0f), true
		case c&0xe0 == 0xa0:
			skip = uint64(c & 0x1f)
		case c == 0xc4 || c == 0xd9: // bin8, str8
			l, err := uintAt(b, i, 1)
			if err != nil {
				return err
			}
			i, skip = i+1, l
		case c == 0xc5 || c == 0xda: // bin16, str16
			l, err := uintAt(b, i, 2)
			if err != nil {
				return err
			}
			i, skip = i+2, l
		case c == 0xc6 || c == 0xdb: // bin32, str32
			l, err := uintAt(b, i, 4)
			if err != nil {
				return err
			}
			i, skip = i+4, l
		case c >= 0xc7 && c <= 0xc9: // ext8, ext16, ext32: length, type, data
			w := 1 << (c - 0xc7)
			l, err := uintAt(b, i, w)
			if err != nil {
				return err
			}
			i, skip = i+w, l+1
		case c == 0xca:
			skip = 4
		case c == 0xcb:
			skip = 8
		case c >= 0xcc && c <= 0xcf: // uint8..uint64
			skip = 1 << (c - 0xcc)
		case c >= 0xd0 && c <= 0xd3: // int8..int64
			skip = 1 << (c - 0xd0)
		case c >= 0xd4 && c <= 0xd8: // fixext1..fixext16: type, data
			skip = 1 + 1<<(c-0xd4)
		case c == 0xdc || c == 0xde: // array16, map16
			l, err := uintAt(b, i, 2)
			if err != nil {
				return err
			}
			i, n, container = i+2, l, true
		case c == 0xdd || c == 0xdf: // array32, map32
			l, err := uintAt(b, i, 4)
			if err != nil {
				return err
			}
			i, n, container = i+4, l, true
		default:
			return fmt.Errorf("invalid msgpack code 0x%02x at byte %d", c, i-1)
		}
		if c == 0xde || c == 0xdf {
			n *= 2
		}
		if skip > uint64(len(b)-i) {
			return fmt.Errorf("msgpack value at byte %d claims %d bytes, only %d remain", i, skip, len(b)-i)
		}
		i += int(skip)
		if container && n > 0 {
			if n > uint64(len(b)-i) {
				return fmt.Errorf("msgpack container at byte %d claims %d elements, only %d bytes remain", i, n, len(b)-i)
			}
			if len(pending) > maxDepth {
				return fmt.Errorf("msgpack nested deeper than %d", maxDepth)
			}
			pending = append(pending, n)
		}
	}
	if i != len(b) {
		return fmt.Errorf("%d bytes after the msgpack value", len(b)-i)
	}
	return nil
}

// uintAt reads a w-byte big-endian length at b[i:].
func uintAt(b []byte, i, w int) (uint64, error) {
	if len(b)-i < w {
		return 0, errors.New("msgpack value ends early")
	}
	switch w {
	case 1:
		return uint64(b[i]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(b[i:])), nil
	}
	return uint64(binary.BigEndian.Uint32(b[i:])), nil
}
