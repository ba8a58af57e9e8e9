package format

import "math/bits"

// The strong sum of a block in a signature (Entry.Sig) is a prefix, whose
// length grows with the file, of a keyed function of the block's SHA-256
// ("sha256-aes-sized": AES-128 keyed by Header.Seed, see doc.go): ibt
// cannot ask for a block again, so a false match, a window of the new file
// taken for an old block it differs from, makes a delta that fails at
// restore. Matching a new file of P bytes against the n blocks of the old
// one compares P*n pairs, and a pair passes the weak sum (32 bits) and a
// k-byte strong sum by chance with probability 2^-(32+8k). StrongLen
// chooses the least k with
//
//	P*n * 2^-(32-strongMargin) * 2^-8k <= 2^-strongBound,   P = the file's size
//
// that is P*n*2^-(16+8k) <= 2^-48: the weak sum is counted as 16 bits, a
// margin for data on which it is less than uniform (on the src corpus it is
// uniform: 6,333 colliding pairs of distinct 640-byte windows against 6,407
// expected). P*n is rounded up to a power of two. A file of 1.5 KB in
// 576-byte blocks gets 6 bytes, one of 100 KB 8, of 4 MiB in 2 KiB blocks 9,
// the 256 MiB db file in 4 KiB blocks 10, of 100 GiB 12; MaxStrongLen binds
// only beyond a petabyte.
//
// The new file may be larger than the old one: a delta uses a signature only
// while its size P' keeps P'*n*2^-(16+8k) <= 2^-40 (see StrongCovers), which
// holds up to at least 2^8 times the old size; a file that grew more is sent
// whole.
//
// The bound is against chance. Against an adversary the seed does the work:
// were the strong sum a prefix of the block's bare SHA-256, whoever writes
// files in the tree could search, in about 2^(4k) hashes (2^24 for a 1.5 KB
// file), for an old block and a new window with equal weak and k-byte
// strong sums, make that file's delta copy the wrong block, and so make the
// whole archive fail at restore (ibt-patch is all or nothing). Keyed by a
// secret seed of 128 bits, drawn for every index, the strong sums cannot be
// computed, so nor can a collision be searched for, by anyone who cannot read
// the index: to them a false match stays the chance the bound counts. rsync
// does the same with its per-session checksum seed. Whoever can read an
// index can craft collisions against it (and the next ones ibt-sign --prev
// keys with the same seed), so indexes and diffs should be kept as private
// as the backups themselves; a delta stream and an archive never carry the
// seed.
const (
	// SeedLen is the length of Header.Seed, the key of the strong sums.
	SeedLen = 16

	strongBound  = 48
	strongMargin = 16
	// MaxStrongLen bounds the strong sum length of any file.
	MaxStrongLen = 16
	// minStrongLen keeps a short but signed file's sums meaningful.
	minStrongLen = 4
)

// StrongLen returns the length in bytes of the strong sums in the signature
// of a file of size bytes cut into blocks of blockSize bytes (see above); it
// is a pure function of its arguments, so every writer and reader agrees.
func StrongLen(size int64, blockSize int) int {
	need := pairBits(size, size, blockSize) + strongBound - (32 - strongMargin)
	return min(max((need+7)/8, minStrongLen), MaxStrongLen)
}

// SigEntryLen returns the length of one block's entry in the signature of a
// file of size bytes in blocks of blockSize bytes: a 4-byte weak sum and the
// strong sum.
func SigEntryLen(size int64, blockSize int) int {
	return 4 + StrongLen(size, blockSize)
}

// StrongCovers reports whether a new file of newSize bytes may be matched
// against the signature of a file of size bytes in blocks of blockSize
// bytes, keeping the chance of a false match below 2^-(strongBound-8).
func StrongCovers(size int64, blockSize int, newSize int64) bool {
	k := StrongLen(size, blockSize)
	return pairBits(size, newSize, blockSize)+strongBound-8 <= 32-strongMargin+8*k
}

// pairBits returns the bit length of P*n, the number of (position, block)
// pairs a delta of a new file of newSize bytes compares against the blocks
// of a file of size bytes; at least 1.
func pairBits(size, newSize int64, blockSize int) int {
	if blockSize <= 0 || size <= 0 || newSize <= 0 {
		return 1
	}
	n := uint64((size-1)/int64(blockSize) + 1)
	hi, lo := bits.Mul64(uint64(newSize), n)
	if hi != 0 {
		return 64 + bits.Len64(hi)
	}
	return max(bits.Len64(lo), 1)
}
