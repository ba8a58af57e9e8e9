package rsync

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/ibt-tools/ibt/format"
)

// DataFinder is implemented by a file that can tell where its data is, such
// as a sparse file on a filesystem with SEEK_DATA (see tree.SparseReader).
// SignFile then hashes the whole blocks of a hole without reading them: a
// hole reads as zeros, and the hash of a zero block is known. A 20 GiB
// virtual disk image of 1 GiB of data signs in the time of 1 GiB.
type DataFinder interface {
	// NextData returns the offset of the first byte of data at or after
	// off, or the file's size if there is none; it may return off itself
	// wherever it cannot tell.
	NextData(off int64) (int64, error)
}

// zeroBlock returns the leaf and, when ss is not nil (a signed file), the
// signature entry, with strong sums of strongLen bytes from ss, of a block
// of n zero bytes.
func zeroBlock(n, strongLen int, ss *format.StrongSummer) (leaf [sha256.Size]byte, entry []byte) {
	z := make([]byte, n)
	leaf = sha256.Sum256(z)
	if ss == nil {
		return leaf, nil
	}
	entry = binary.BigEndian.AppendUint32(make([]byte, 0, 4+strongLen), WeakSum(z))
	return leaf, append(entry, ss.Sum(&leaf)[:strongLen]...)
}
