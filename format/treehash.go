package format

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// treeHashDomain opens the tree hash's input, so that it cannot be mistaken
// for a hash of anything else.
const treeHashDomain = "ibt tree hash v1\x00"

// TreeHasher computes the tree hash of a sequence of entries: SHA-256 over a
// canonical encoding of what a restore reproduces of each entry (see doc.go).
// A device's number (Rdev) follows, for character and block devices only.
// Owners, extended attributes, device, inode, ctime, block size and
// signatures are left out, so that a tree restored by another user, or signed
// with other block sizes, has the same hash.
type TreeHasher struct {
	h   hash.Hash
	buf []byte
}

// NewTreeHasher returns a TreeHasher of the empty tree.
func NewTreeHasher() *TreeHasher {
	t := &TreeHasher{h: sha256.New()}
	t.h.Write([]byte(treeHashDomain))
	return t
}

// Add adds the next entry, in stream order. A skipped entry (Entry.Skipped)
// is left out: a full backup cannot hold it, and ibt-diff hashes the old
// index's entry in its place.
func (t *TreeHasher) Add(e *Entry) {
	if e.Skipped {
		return
	}
	b := appendField(t.buf[:0], e.Path)
	b = append(b, byte(e.Type))
	b = binary.BigEndian.AppendUint32(b, e.Mode)
	b = binary.BigEndian.AppendUint64(b, uint64(e.MTime))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Size))
	b = appendField(b, e.Target)
	b = appendField(b, string(e.Hash))
	b = appendField(b, e.LinkTo)
	if e.Type.IsDevice() {
		// only devices have it, so the hash of a tree without one is
		// the same as before there were special files
		b = binary.BigEndian.AppendUint64(b, e.Rdev)
	}
	t.h.Write(b)
	t.buf = b
}

// appendField appends s preceded by its length, so that no two sequences of
// fields encode alike.
func appendField(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint64(b, uint64(len(s))), s...)
}

// Sum returns the hash of the entries added so far (32 bytes).
func (t *TreeHasher) Sum() []byte {
	return t.h.Sum(nil)
}
