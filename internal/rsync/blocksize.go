package rsync

// Block sizes are powers of two between minBlockSize and maxBlockSize.
//
// Sending k rewritten regions of a file of S bytes costs about k*b of literal
// plus 20*S/b of signature, which is least at b = sqrt(20*S/k). rdiff's
// b = sqrt(S) fits k ~ 20 and turns every 4 KiB page rewrite of a 256 MiB
// database into 16 KiB of literal; ibt takes the largest power of two at most
// sqrt(S)/4, which gives 4 KiB pages 4 KiB blocks from 256 MiB up to 1 GiB
// (measured by BenchmarkBlockSizeTradeoff: on page-rewrite data 4 KiB blocks
// send the fewest signature+delta bytes for this file, 2 KiB and 8 KiB each
// about 25-60% more).
//
// The floor of 2 KiB keeps the index of a source tree small: at 20 bytes a
// block it is at most 1% of the data (next to ~100 bytes of metadata an entry,
// 1.7% for 5.7 KB files), where 1 KiB blocks would reach 2%. Files of at most
// one block get no signature: a delta against them could not save more than
// the signature costs.
//
// The number of blocks is held at maxBlocks, so a 100 GiB file gets 128 KiB
// blocks and a ~16 MB signature.
const (
	minBlockSize = 2 << 10
	maxBlockSize = 4 << 20
	maxBlocks    = 1 << 20
)

// BlockSize returns the block length used for a file of size bytes; it is a
// pure function of size.
func BlockSize(size int64) int {
	bs := int64(minBlockSize)
	for bs < maxBlockSize && (size/16 >= 4*bs*bs || BlockCount(size, int(bs)) > maxBlocks) {
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
	return BlockCount(size, blockSize) * sigEntryLen
}

// sigEntryLen is the length of one block's entry in a signature.
const sigEntryLen = 4 + StrongLen
