package rsync

// Block sizes are powers of two between minBlockSize and maxBlockSize.
//
// Sending k rewritten regions of a file of S bytes costs about k*b of literal
// plus 20*S/b of signature, least near b = sqrt(20*S/k), but never below the
// size of a rewrite: a 4 KiB page rewrite costs 4 KiB at any b <= 4 KiB.
// rdiff's b = sqrt(S) turns every page rewrite of a 256 MiB database into
// 16 KiB of literal; ibt takes the largest power of two at most sqrt(S)/4,
// which gives 4 KiB blocks from 256 MiB up to 1 GiB. BenchmarkBlockSizeTradeoff
// (32 MiB of 4 KiB pages, 128 rewritten) measures signature + delta bytes:
// 1 KiB 794 KB, 2 KiB 469 KB, 4 KiB 309 KB, 8 KiB 366 KB, 16 KiB 571 KB. On
// bench/corpus.sh's db file 4 KiB blocks send 1.54% of the new file as
// literal (rdiff's default 5.98%) with a 1.3 MB (0.49%) signature.
//
// The floor of 2 KiB keeps the index of a source tree within 3% of the data
// next to ~100 bytes of metadata an entry. On the src corpus (x/tools, 1446
// files, 8.4 MB) signatures take 0.99% and the index ~2.7%, with deltas of
// 9.3% of the data as literal; 1 KiB blocks would give 3.7% and 6.0%,
// 4 KiB 2.2% and 13.5%. Files of at most one block get no signature: a delta
// against one block saves little, and the signature costs as much as that
// block's metadata.
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
