package format

import "testing"

func TestBlockSize(t *testing.T) {
	const ki, mi, gi = 1 << 10, 1 << 20, 1 << 30
	tests := []struct {
		size      int64
		blockSize int
		signed    bool
	}{
		{0, 576, false},
		{1, 576, false},
		{576, 576, false},
		{577, 576, true},
		{5700, 576, true},
		{256*ki - 1, 576, true},
		{256 * ki, 2 * ki, true},
		{4 * mi, 2 * ki, true},
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
// every power of two: smallBlockSize below smallFileLimit and a power of two
// from there, non-decreasing, bounded, and at most maxBlocks blocks below
// 4 TiB.
func TestBlockSizeBounds(t *testing.T) {
	prev := 0
	for e := 0; e < 63; e++ {
		for _, size := range []int64{1<<e - 1, 1 << e, 1<<e + 1} {
			bs := BlockSize(size)
			switch {
			case size < smallFileLimit:
				if bs != smallBlockSize {
					t.Fatalf("BlockSize(%d) = %d, want %d", size, bs, smallBlockSize)
				}
			case bs&(bs-1) != 0 || bs < minBlockSize || bs > MaxBlockSize:
				t.Fatalf("BlockSize(%d) = %d, want a power of two in [%d, %d]", size, bs, minBlockSize, MaxBlockSize)
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

func TestCheckBlockSize(t *testing.T) {
	h := make([]byte, 32)
	file := func(size int64, bs uint32) *Entry {
		return &Entry{Path: "f", Type: TypeFile, Size: size, Hash: h, BlockSize: bs}
	}
	tests := []struct {
		name string
		c    *Change
		ok   bool
	}{
		{"created, the rule's", &Change{Op: OpCreate, New: file(1500, 576)}, true},
		{"created, big, the rule's", &Change{Op: OpCreate, New: file(256<<20, 4096)}, true},
		{"created, another", &Change{Op: OpCreate, New: file(1500, 2048)}, false},
		{"created, none", &Change{Op: OpCreate, New: file(1500, 0)}, false},
		{"empty file, the rule's", &Change{Op: OpCreate, New: file(0, 576)}, true},
		{"deleted, another", &Change{Op: OpDelete, Old: file(10, 640)}, false},
		{"updated, old another", &Change{Op: OpUpdate, Old: file(10, 640), New: file(20, 576)}, false},
		{"skipped, no hash", &Change{Op: OpDelete, Old: &Entry{Path: "f", Type: TypeFile, Size: 5, Skipped: true}}, true},
		{"directory", &Change{Op: OpCreate, New: &Entry{Path: "d", Type: TypeDir}}, true},
	}
	for _, tt := range tests {
		if err := CheckBlockSize(tt.c); (err == nil) != tt.ok {
			t.Errorf("%s: CheckBlockSize = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
