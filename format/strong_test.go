package format

import "testing"

func TestStrongLen(t *testing.T) {
	const ki, mi, gi = 1 << 10, 1 << 20, 1 << 30
	tests := []struct {
		size      int64
		blockSize int
		want      int
	}{
		{10, 8, 5},
		{577, 576, 6},
		{1500, 576, 6},
		{11600, 576, 7},
		{100000, 576, 8},
		{256*ki - 1, 576, 8},
		{4 * mi, 2 * ki, 9},
		{268452765, 4 * ki, 10}, // the db corpus's new file
		{100 * gi, 128 * ki, 12},
		{1 << 50, 4 * mi, 14},
		{1<<63 - 1, 4 * mi, MaxStrongLen},
	}
	for _, tt := range tests {
		if got := StrongLen(tt.size, tt.blockSize); got != tt.want {
			t.Errorf("StrongLen(%d, %d) = %d, want %d", tt.size, tt.blockSize, got, tt.want)
		}
		if got := SigEntryLen(tt.size, tt.blockSize); got != 4+tt.want {
			t.Errorf("SigEntryLen(%d, %d) = %d, want %d", tt.size, tt.blockSize, got, 4+tt.want)
		}
	}
}

// TestStrongLenBound checks the promise of StrongLen around every power of
// two and for several block sizes: P*n*2^-(32-strongMargin+8k) <= 2^-48 with
// P the file's size (below the cap), never shorter for a bigger file.
func TestStrongLenBound(t *testing.T) {
	for _, bs := range []int{8, 640, 2048, 4 << 20} {
		prev := 0
		for e := 0; e < 63; e++ {
			for _, size := range []int64{1<<e - 1, 1 << e, 1<<e + 1} {
				k := StrongLen(size, bs)
				if k < prev || k < minStrongLen || k > MaxStrongLen {
					t.Fatalf("StrongLen(%d, %d) = %d, want %d..%d and at least %d", size, bs, k, minStrongLen, MaxStrongLen, prev)
				}
				prev = k
				if k < MaxStrongLen && pairBits(size, size, bs) > 32-strongMargin+8*k-strongBound {
					t.Fatalf("StrongLen(%d, %d) = %d leaves %d-bit pairs above 2^-%d", size, bs, k, pairBits(size, size, bs), strongBound)
				}
			}
		}
	}
}

func TestStrongCovers(t *testing.T) {
	tests := []struct {
		size    int64
		bs      int
		newSize int64
		want    bool
	}{
		{1500, 640, 0, true},
		{1500, 640, 1500, true},
		{1500, 640, 256 * 1500, true}, // 2^8 times: always covered
		{1500, 640, 1 << 30, false},   // a small file grown to 1 GiB is sent whole
		{268452765, 4096, 1 << 36, true},
		{268452765, 4096, 1 << 40, false},
	}
	for _, tt := range tests {
		if got := StrongCovers(tt.size, tt.bs, tt.newSize); got != tt.want {
			t.Errorf("StrongCovers(%d, %d, %d) = %t, want %t", tt.size, tt.bs, tt.newSize, got, tt.want)
		}
	}
	// Growing 2^8 times is always covered, whatever the rounding of k.
	for size := int64(1); size < 1<<40; size = size*3 + 1 {
		for _, bs := range []int{640, 4096} {
			if !StrongCovers(size, bs, size<<8) {
				t.Fatalf("StrongCovers(%d, %d, %d) = false", size, bs, size<<8)
			}
		}
	}
}
