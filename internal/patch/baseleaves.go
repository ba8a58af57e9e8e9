package patch

import (
	"io"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/rsync"
)

// An update's base that neither the known file nor the old index vouches
// for is hashed, to check that it is the archive's old version (see
// likelyOld and settleBase). Most of a large file's new version is a copy
// from the same offset of its base: a database or a disk image rewrites
// pages in place. A block of the new version inside such a copy is, byte
// for byte, the base's block of the same index when both versions have the
// same block size and the block is whole in both, so its leaf (hashed
// anyway, to verify the new version) is the base's leaf too. baseLeaves
// builds the base's file hash from those leaves and reads only the base's
// other blocks: the base is read once, by the patch, instead of twice, and
// a base cloned into the staged file (see stageClone) hardly at all.
//
// The same merge hashes a staged clone from the old version's cached
// leaves (see leavescache.go): the file read is then the staged file, and
// the leaves given are the cached ones.
//
// Why this is sound: a shared leaf is the hash of bytes that the patch read
// from the base at that offset (or that the clone of the base holds there),
// which are what a separate read of the base would hash. Only a base written
// to during the patch could make the two differ, and then a base changed
// meanwhile might pass for the old version; what is committed is still
// exact, since the new version is verified against its own hash, and a
// file written to during a patch is a race that no read of it rules out
// either.

// maxBaseReads bounds the reads of a base under way at once.
const maxBaseReads = 64

// span is a range [off, end) of a file.
type span struct{ off, end int64 }

// baseLeaves computes the file hash of a base of size bytes from the
// leaves of the new version, of newSize bytes, given in order, and reads
// of the blocks that are not shared, with an rsync.LeafPipe.
type baseLeaves struct {
	base          io.ReaderAt
	size, newSize int64
	bs            int64
	leaves        *rsync.LeafPipe
	// same holds the ranges of the new version copied from the same
	// offset of the base, in order, adjacent ones merged; cur is the first
	// that can hold the next block.
	same []span
	cur  int
	next int64      // the offset of the base's next block
	read span       // blocks to read, not yet started
	tee  *leavesTee // takes the leaves in order, if not nil
}

// newBaseLeaves returns nil where the two versions have different block
// sizes, whose leaves then never coincide.
func newBaseLeaves(base io.ReaderAt, size, newSize int64) *baseLeaves {
	bs := format.BlockSize(size)
	if bs != format.BlockSize(newSize) {
		return nil
	}
	b := &baseLeaves{base: base, size: size, newSize: newSize, bs: int64(bs)}
	// The blocks that differ are scattered through a large file, and a
	// disk that is not in the page cache serves many small reads at once
	// far faster than one after the other.
	b.leaves = rsync.NewLeafPipe(size, bs, rsync.LeafOptions{
		Runs:     maxBaseReads,
		Bytes:    int64(maxInFlight) * chunkSize,
		OnLeaves: func(_ int64, leaves []byte) { b.tee.add(leaves) },
	})
	return b
}

// sameOffset records that the new version's bytes [off, off+n) are a copy
// of the base's bytes there. Ranges come in the order of the new version,
// each before any of its blocks is hashed.
func (b *baseLeaves) sameOffset(off, n int64) {
	if n <= 0 {
		return
	}
	if k := len(b.same); k > 0 && b.same[k-1].end == off {
		b.same[k-1].end += n
		return
	}
	b.same = append(b.same, span{off, off + n})
}

// newLeaves takes the leaves of the new version's blocks from offset off,
// which follows the blocks given before.
func (b *baseLeaves) newLeaves(off int64, leaves []byte) {
	for k := 0; k < len(leaves); k += 32 {
		start := off + int64(k/32)*b.bs
		if start >= b.size {
			return
		}
		baseLen := min(b.bs, b.size-start)
		if min(b.bs, b.newSize-start) == baseLen && b.shared(start, start+baseLen) {
			b.ready(leaves[k : k+32])
		} else {
			b.toRead(start, start+baseLen)
		}
		b.next = start + baseLen
	}
}

// shared reports whether [off, end) lies in one same-offset copy.
func (b *baseLeaves) shared(off, end int64) bool {
	for b.cur < len(b.same) && b.same[b.cur].end <= off {
		b.cur++
	}
	return b.cur < len(b.same) && b.same[b.cur].off <= off && end <= b.same[b.cur].end
}

// ready adds a leaf taken from the new version, after those queued.
func (b *baseLeaves) ready(leaf []byte) {
	b.startRead()
	b.leaves.Ready(leaf)
}

// toRead adds the base's block [off, end) to the run to read.
func (b *baseLeaves) toRead(off, end int64) {
	if b.read.end != off || b.read.end-b.read.off+end-off > chunkSize {
		b.startRead()
		b.read = span{off, off}
	}
	b.read.end = end
}

// startRead has the run of blocks to read read and hashed on another core.
func (b *baseLeaves) startRead() {
	r := b.read
	b.read = span{}
	if r.end <= r.off {
		return
	}
	b.leaves.ReadAt(b.base, r.end-r.off)
}

// sum reads what is left of the base beyond the new version and returns
// the base's file hash, or the error reading it.
func (b *baseLeaves) sum() ([]byte, error) {
	for off := b.next; off < b.size; off += b.bs {
		b.toRead(off, min(off+b.bs, b.size))
	}
	b.next = b.size
	b.startRead()
	sum, _, err := b.leaves.Sum()
	if err != nil {
		return nil, readErr(err)
	}
	return sum, nil
}

// close waits for every read under way.
func (b *baseLeaves) close() { b.leaves.Close() }
