package format

import (
	"encoding/binary"
	"math"
)

// The functions in this file append the canonical body of an Entry, a Change
// or a Copy by hand, byte for byte what msgpack/v5 writes for them with
// compact ints and omitempty (see doc.go): the index and diff of a tree of a
// million files encode a million records, and msgpack's reflection costs
// ten times what appending does (measured in BENCHMARKS.md, "Measurements
// behind design choices").
// FuzzEncodeDifferential holds them to the msgpack encoding.

// appendEntry appends the body of an entry record.
func appendEntry(b []byte, e *Entry) []byte { return appendEntryHash(b, e, e.Hash) }

// appendEntryHash appends the body of e with hash as its hash: e.Hash, or
// nil where a change leaves it out (see samehash.go).
func appendEntryHash(b []byte, e *Entry, hash []byte) []byte {
	n := 4 // p, t, m and mt are always present
	for _, present := range [...]bool{e.Size != 0, e.Target != "", e.Rdev != 0, e.UID != 0, e.GID != 0, e.Dev != 0,
		e.Inode != 0, e.CTime != 0, e.LinkTo != "", len(e.Xattrs) > 0, len(hash) > 0, e.BlockSize != 0, len(e.Sig) > 0, e.Skipped} {
		if present {
			n++
		}
	}
	b = appendMapHeader(b, n)
	b = appendStr(append(b, 0xa1, 'p'), e.Path)
	b = appendUint(append(b, 0xa1, 't'), uint64(e.Type))
	b = appendUint(append(b, 0xa1, 'm'), uint64(e.Mode))
	b = appendInt(append(b, 0xa2, 'm', 't'), e.MTime)
	if e.Size != 0 {
		b = appendInt(append(b, 0xa1, 's'), e.Size)
	}
	if e.Target != "" {
		b = appendStr(append(b, 0xa1, 'l'), e.Target)
	}
	if e.Rdev != 0 {
		b = appendUint(append(b, 0xa2, 'r', 'd'), e.Rdev)
	}
	if e.UID != 0 {
		b = appendUint(append(b, 0xa1, 'u'), uint64(e.UID))
	}
	if e.GID != 0 {
		b = appendUint(append(b, 0xa1, 'g'), uint64(e.GID))
	}
	if e.Dev != 0 {
		b = appendUint(append(b, 0xa2, 'd', 'v'), e.Dev)
	}
	if e.Inode != 0 {
		b = appendUint(append(b, 0xa2, 'i', 'n'), e.Inode)
	}
	if e.CTime != 0 {
		b = appendInt(append(b, 0xa2, 'c', 't'), e.CTime)
	}
	if e.LinkTo != "" {
		b = appendStr(append(b, 0xa1, 'h'), e.LinkTo)
	}
	if len(e.Xattrs) > 0 {
		b = appendArrayHeader(append(b, 0xa1, 'x'), len(e.Xattrs))
		for _, x := range e.Xattrs {
			b = appendStr(append(b, 0x82, 0xa1, 'n'), x.Name)
			b = append(b, 0xa1, 'v')
			if x.Value == nil {
				b = append(b, 0xc0) // Value is not omitempty: nil is written as nil
			} else {
				b = append(appendBinHeader(b, len(x.Value)), x.Value...)
			}
		}
	}
	if len(hash) > 0 {
		b = append(appendBinHeader(append(b, 0xa1, 'H'), len(hash)), hash...)
	}
	if e.BlockSize != 0 {
		b = appendUint(append(b, 0xa1, 'b'), uint64(e.BlockSize))
	}
	if len(e.Sig) > 0 {
		b = append(appendBinHeader(append(b, 0xa1, 'S'), len(e.Sig)), e.Sig...)
	}
	if e.Skipped {
		b = append(b, 0xa2, 's', 'k', 0xc3)
	}
	return b
}

// appendChange appends the body of a change record.
func appendChange(b []byte, c *Change) []byte {
	n := 1
	if c.Old != nil {
		n++
	}
	if c.New != nil {
		n++
	}
	if c.From != "" {
		n++
	}
	if c.FromNew {
		n++
	}
	if c.FromSize != 0 {
		n++
	}
	b = appendUint(append(b, 0x80|byte(n), 0xa1, 'o'), uint64(c.Op))
	if c.Old != nil {
		b = appendEntry(append(b, 0xa3, 'o', 'l', 'd'), c.Old)
	}
	if c.New != nil {
		hash := c.New.Hash
		if elidesNewHash(c) {
			hash = nil
		}
		b = appendEntryHash(append(b, 0xa3, 'n', 'e', 'w'), c.New, hash)
	}
	if c.From != "" {
		b = appendStr(append(b, 0xa1, 'f'), c.From)
	}
	if c.FromNew {
		b = append(b, 0xa2, 'f', 'n', 0xc3)
	}
	if c.FromSize != 0 {
		b = appendInt(append(b, 0xa2, 'f', 's'), c.FromSize)
	}
	return b
}

// copyPrefix is the start of a Copy's body: a map of two keys, "off" first.
const copyPrefix = "\x82\xa3off"

// appendCopy appends the body of a copy record.
func appendCopy(b []byte, c *Copy) []byte {
	b = appendInt(append(b, copyPrefix...), c.Offset)
	return appendInt(append(b, 0xa3, 'l', 'e', 'n'), c.Length)
}

// appendMapHeader appends the header of a map of n pairs in its shortest form.
func appendMapHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
}

// appendArrayHeader appends the header of an array of n elements in its
// shortest form.
func appendArrayHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
}

// appendStr appends s as a msgpack str in its shortest form.
func appendStr(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n < 1<<8:
		b = append(b, 0xd9, byte(n))
	case n < 1<<16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

// appendInt appends v as a msgpack integer in the shortest form, unsigned
// for values >= 0, as msgpack's compact ints do.
func appendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0:
		return appendUint(b, uint64(v))
	case v >= -32:
		return append(b, byte(v)) // negative fixint
	case v >= math.MinInt8:
		return append(b, 0xd0, byte(v))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}
