package format

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
)

// FileHasher is the outer hash of "sha256-blocks" (doc.go, "File hash"):
// the file's size and block size, then the leaves, the SHA-256 of each
// block, in order. Callers compute the leaves as suits them (one by one,
// or chunks of them on other cores) and add them in order; this is the one
// place the construction is written.
type FileHasher struct {
	outer hash.Hash
}

// NewFileHasher starts the hash of a file of size bytes in blocks of
// blockSize (BlockSize(size) for every file of a stream).
func NewFileHasher(size int64, blockSize int) *FileHasher {
	h := &FileHasher{outer: sha256.New()}
	var head [12]byte
	binary.LittleEndian.PutUint64(head[:8], uint64(size))
	binary.LittleEndian.PutUint32(head[8:], uint32(blockSize))
	h.outer.Write(head[:])
	return h
}

// AddLeaves adds leaves, the 32-byte SHA-256 sums of the next blocks one
// after another.
func (h *FileHasher) AddLeaves(leaves []byte) { h.outer.Write(leaves) }

// Sum returns the file hash of the leaves added so far; adding may go on.
func (h *FileHasher) Sum() []byte { return h.outer.Sum(nil) }

// SumWith returns the file hash of the leaves added so far and then leaf,
// leaving the state as it is.
func (h *FileHasher) SumWith(leaf []byte) []byte {
	outer := cloneHash(h.outer)
	outer.Write(leaf)
	return outer.Sum(nil)
}

// cloneHash copies a SHA-256 state. Every standard hash supports one of the
// two ways; both failing would be a broken standard library.
func cloneHash(h hash.Hash) hash.Hash {
	if c, ok := h.(hash.Cloner); ok {
		if cl, err := c.Clone(); err == nil {
			return cl
		}
	}
	out := sha256.New()
	m, ok1 := h.(encoding.BinaryMarshaler)
	u, ok2 := out.(encoding.BinaryUnmarshaler)
	if ok1 && ok2 {
		if st, err := m.MarshalBinary(); err == nil && u.UnmarshalBinary(st) == nil {
			return out
		}
	}
	return out
}
