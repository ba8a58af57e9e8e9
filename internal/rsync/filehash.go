package rsync

import (
	"github.com/ibt-tools/ibt/format"
)

// FileHash computes the "sha256-blocks" hash of a file (see the package doc)
// from its content written in any split, with a LeafPipe on the writer's
// goroutine. It holds one block at most.
type FileHash struct {
	blockSize int
	leaves    *LeafPipe
	block     []byte // a partial block carried between writes
	written   int64
}

// NewFileHash returns a FileHash for a file of size bytes; size decides the
// block size and starts the hash.
func NewFileHash(size int64) *FileHash {
	return newFileHash(size, format.BlockSize(size))
}

func newFileHash(size int64, blockSize int) *FileHash {
	return &FileHash{blockSize: blockSize, leaves: NewLeafPipe(size, blockSize, LeafOptions{})}
}

// Write adds content; it never fails.
func (h *FileHash) Write(p []byte) (int, error) {
	n := len(p)
	h.written += int64(n)
	if len(h.block) > 0 {
		k := min(h.blockSize-len(h.block), len(p))
		h.block = append(h.block, p[:k]...)
		p = p[k:]
		if len(h.block) < h.blockSize {
			return n, nil
		}
		h.leaves.Hash(h.block)
		h.block = h.block[:0]
	}
	if whole := len(p) / h.blockSize * h.blockSize; whole > 0 {
		h.leaves.Hash(p[:whole])
		p = p[whole:]
	}
	if len(p) > 0 {
		if h.block == nil {
			h.block = make([]byte, 0, h.blockSize)
		}
		h.block = append(h.block, p...)
	}
	return n, nil
}

// Written returns the number of content bytes written so far.
func (h *FileHash) Written() int64 { return h.written }

// Sum returns the 32-byte file hash. It is the hash of the file only when
// exactly size bytes were written; it does not change the state, so writing
// may go on.
func (h *FileHash) Sum() []byte {
	if len(h.block) == 0 {
		sum, _, _ := h.leaves.Sum()
		return sum
	}
	// the short last block is a leaf of its own
	return h.leaves.sumWith(h.block)
}
