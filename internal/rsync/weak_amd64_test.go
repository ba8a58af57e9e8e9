//go:build amd64 && !purego

package rsync

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// weakUpdateAVX2 is weakUpdate forced onto the assembly at every length.
func weakUpdateAVX2(h uint32, p []byte) uint32 {
	n := len(p) &^ 31
	return weakUpdateGeneric(weakBlocksAVX2(h, p[:n], &weakPowAVX2), p[n:])
}

func skipNoAVX2(t testing.TB) {
	if !weakAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
}

// weakInputs are random bytes, and the two extremes of every lane's input.
func weakInputs(n int) map[string][]byte {
	return map[string][]byte{
		"random": randBytes(60, n),
		"0xff":   bytes.Repeat([]byte{0xff}, n),
		"zero":   make([]byte, n),
	}
}

// TestWeakAVX2MatchesGeneric checks the assembly against the pure Go code
// at every length up to 600 from unaligned starts and with several initial
// sums, and the dispatching weakUpdate around its threshold.
func TestWeakAVX2MatchesGeneric(t *testing.T) {
	skipNoAVX2(t)
	for name, data := range weakInputs(600 + 64) {
		for _, off := range []int{0, 1, 7, 31, 33} {
			for n := 0; n <= 600; n++ {
				p := data[off : off+n]
				for _, h := range []uint32{weakSeed, 0, 0xffffffff, 0x9e3779b9} {
					want := weakUpdateGeneric(h, p)
					if got := weakUpdateAVX2(h, p); got != want {
						t.Fatalf("%s: AVX2 sum of %d bytes at offset %d from %#x = %#08x, want %#08x", name, n, off, h, got, want)
					}
					if got := weakUpdate(h, p); got != want {
						t.Fatalf("%s: weakUpdate of %d bytes at offset %d from %#x = %#08x, want %#08x", name, n, off, h, got, want)
					}
				}
			}
		}
	}
}

// TestWeakAVX2LongInputs checks random lengths up to 1 MiB.
func TestWeakAVX2LongInputs(t *testing.T) {
	skipNoAVX2(t)
	r := rand.New(rand.NewPCG(61, 62))
	for name, data := range weakInputs(1<<20 + 64) {
		for range 20 {
			off, n, h := r.IntN(64), r.IntN(1<<20+1), r.Uint32()
			p := data[off : off+n]
			if got, want := weakUpdateAVX2(h, p), weakUpdateGeneric(h, p); got != want {
				t.Fatalf("%s: AVX2 sum of %d bytes at offset %d from %#x = %#08x, want %#08x", name, n, off, h, got, want)
			}
		}
	}
}

// FuzzWeakAVX2 compares the assembly with the pure Go code on any input,
// initial sum and start offset.
func FuzzWeakAVX2(f *testing.F) {
	f.Add([]byte{}, uint32(weakSeed), uint8(0))
	f.Add([]byte("hello, world"), uint32(weakSeed), uint8(3))
	f.Add(randBytes(63, 31), uint32(7), uint8(0))
	f.Add(randBytes(64, 32), uint32(0xffffffff), uint8(0))
	f.Add(randBytes(65, 97), uint32(0), uint8(1))
	f.Add(randBytes(66, 4096), uint32(weakSeed), uint8(5))
	f.Add(bytes.Repeat([]byte{0xff}, 1000), uint32(0x12345678), uint8(9))
	f.Fuzz(func(t *testing.T, p []byte, h uint32, off uint8) {
		skipNoAVX2(t)
		p = p[min(int(off), len(p)):]
		if got, want := weakUpdateAVX2(h, p), weakUpdateGeneric(h, p); got != want {
			t.Fatalf("AVX2 sum of %d bytes from %#x = %#08x, want %#08x", len(p), h, got, want)
		}
	})
}
