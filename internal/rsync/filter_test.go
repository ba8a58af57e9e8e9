package rsync

import (
	"bytes"
	"testing"
)

// TestScanStopsAtFirstMatch: from every start, scan stops at the first
// position whose window has the weak sum of a full block, as a byte-by-byte
// search does, whatever the position's place in the unrolled step.
func TestScanStopsAtFirstMatch(t *testing.T) {
	for _, bs := range []int{1, 3, 8, 16, 100} {
		data := randBytes(uint64(bs), 3000)
		// Old blocks cut from data at offsets of every residue mod 8.
		var old []byte
		for _, off := range []int{5, 200, 401, 650, 907, 1300, 1702, 2100, 2555} {
			old = append(old, data[off:off+bs]...)
		}
		_, sig, err := sign(bytes.NewReader(old), int64(len(old)), bs, true, testKey)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseSignature(sig, bs, int64(len(old)), testKey)
		if err != nil {
			t.Fatal(err)
		}
		stop := len(data) - bs
		for start := 0; start < stop; start += 37 {
			want := start
			for want < stop {
				want++
				if len(s.candidates(WeakSum(data[want:want+bs]))) > 0 {
					break
				}
			}
			pos, h := s.scan(data, start, stop, WeakSum(data[start:start+bs]))
			if pos != want || h != WeakSum(data[pos:pos+bs]) {
				t.Fatalf("bs %d: scan from %d = %d, sum %#x, want %d, sum %#x", bs, start, pos, h, want, WeakSum(data[want:want+bs]))
			}
		}
	}
}
