package rsync

import "testing"

func TestBlockSize(t *testing.T) {
	const ki, mi, gi = 1 << 10, 1 << 20, 1 << 30
	tests := []struct {
		size      int64
		blockSize int
		signed    bool
	}{
		{0, 2 * ki, false},
		{1, 2 * ki, false},
		{2 * ki, 2 * ki, false},
		{2*ki + 1, 2 * ki, true},
		{5700, 2 * ki, true},
		{64*mi - 1, 2 * ki, true},
		{64 * mi, 2 * ki, true},
		{256*mi - 1, 2 * ki, true},
		{256 * mi, 4 * ki, true},
		{268452765, 4 * ki, true}, // the db corpus's new file
		{gi - 1, 4 * ki, true},
		{gi, 8 * ki, true},
		{100 * gi, 128 * ki, true},
		{4096 * gi, 4 * mi, true},
		{1 << 62, 4 * mi, true},
	}
	for _, tt := range tests {
		if got := BlockSize(tt.size); got != tt.blockSize {
			t.Errorf("BlockSize(%d) = %d, want %d", tt.size, got, tt.blockSize)
		}
		if got := Signed(tt.size); got != tt.signed {
			t.Errorf("Signed(%d) = %v, want %v", tt.size, got, tt.signed)
		}
	}
}

// TestBlockSizeBounds checks the promises of BlockSize over sizes around
// every power of two: a power of two, non-decreasing, bounded, and at most
// maxBlocks blocks below 4 TiB.
func TestBlockSizeBounds(t *testing.T) {
	prev := 0
	for e := 0; e < 63; e++ {
		for _, size := range []int64{1<<e - 1, 1 << e, 1<<e + 1} {
			bs := BlockSize(size)
			if bs&(bs-1) != 0 || bs < minBlockSize || bs > maxBlockSize {
				t.Fatalf("BlockSize(%d) = %d, want a power of two in [%d, %d]", size, bs, minBlockSize, maxBlockSize)
			}
			if bs < prev {
				t.Fatalf("BlockSize(%d) = %d, smaller than %d for a smaller size", size, bs, prev)
			}
			prev = bs
			if n := BlockCount(size, bs); size <= 4<<40 && n > maxBlocks {
				t.Fatalf("BlockSize(%d) = %d gives %d blocks, more than %d", size, bs, n, maxBlocks)
			}
		}
	}
}
