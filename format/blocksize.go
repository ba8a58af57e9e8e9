package format

import "fmt"

// A file below smallFileLimit (256 KiB) is cut into blocks of smallBlockSize
// (576) bytes, near rsync's 700; a bigger one into blocks of a power of two
// between minBlockSize and maxBlockSize.
//
// Sending k rewritten regions of a file of S bytes costs about k*b of literal
// plus e*S/b of signature (e bytes an entry, 10 to 14; see
// StrongLen), least near b = sqrt(e*S/k), but never below the size of
// a rewrite: a 4 KiB page rewrite costs 4 KiB at any b <= 4 KiB. rdiff's
// b = sqrt(S) turns every page rewrite of a 256 MiB database into 16 KiB of
// literal; ibt takes the largest power of two at most sqrt(S)/4, which gives
// 4 KiB blocks from 256 MiB up to 1 GiB, the least signature + delta in
// BenchmarkBlockSizeTradeoff.
//
// Source files change by a few lines, so their blocks are small: on the src
// corpus 576 keeps both the index within 3% of the tree and the incremental
// archive within rsync's gzipped batch, and the limit of 256 KiB does better
// than 64 KiB or 1 MiB. Measurements: BENCHMARKS.md,
// "Measurements behind design choices".
//
// A file of 256 KiB takes 2 KiB blocks, a fifth of the signature of one
// just below, and no file from there gets a bigger signature than format
// 1's 2 KiB blocks with 16-byte strong sums gave it. Files of at most one block get no signature:
// a delta against one block saves little, and the signature costs as much as
// that block's metadata. Every block size from smallFileLimit up is a power
// of two, so it divides the segments an implementation may hash in parallel.
//
// The number of blocks is held at maxBlocks, so a 100 GiB file gets 128 KiB
// blocks and a ~16 MB signature.
const (
	smallBlockSize = 576
	smallFileLimit = 256 << 10
	minBlockSize   = 2 << 10
	// MaxBlockSize bounds the block size of any file.
	MaxBlockSize = 4 << 20
	maxBlocks    = 1 << 20
)

// BlockSize returns the block length used for a file of size bytes; it is a
// pure function of size.
func BlockSize(size int64) int {
	if size < smallFileLimit {
		return smallBlockSize
	}
	bs := int64(minBlockSize)
	for bs < MaxBlockSize && (size/16 >= 4*bs*bs || BlockCount(size, int(bs)) > maxBlocks) {
		bs *= 2
	}
	return int(bs)
}

// Signed reports whether a file of size bytes gets block signatures: only
// files of more than one block do.
func Signed(size int64) bool {
	return size > int64(BlockSize(size))
}

// BlockCount returns the number of blocks of blockSize bytes in size bytes,
// counting a short last block.
func BlockCount(size int64, blockSize int) int64 {
	if size <= 0 || blockSize <= 0 {
		return 0
	}
	return (size-1)/int64(blockSize) + 1
}

// SigLen returns the length of the signature of a file of size bytes cut into
// blocks of blockSize bytes.
func SigLen(size int64, blockSize int) int64 {
	return BlockCount(size, blockSize) * int64(SigEntryLen(size, blockSize))
}

// CheckBlockSize checks that every file in c whose content hash a program
// may check against a file records BlockSize(Size) as its block size, the
// one the hash is computed with (see doc.go). A Reader does not check it:
// it computes no hash, and reads such a stream as data. A program that
// checks content hashes must, or it would take every such file for a
// damaged one.
func CheckBlockSize(c *Change) error {
	for _, e := range []*Entry{c.Old, c.New} {
		if e == nil || e.Type != TypeFile || len(e.Hash) == 0 {
			continue
		}
		if want := BlockSize(e.Size); int(e.BlockSize) != want {
			return fmt.Errorf("entry %q: block size %d, but the file hash of %d bytes is computed in blocks of %d: the stream was written by another program or format", e.Path, e.BlockSize, e.Size, want)
		}
	}
	return nil
}
