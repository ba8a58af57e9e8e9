package rsync

import (
	"bytes"
	"fmt"
	"testing"
)

// weakNaive is the definition in the package doc, term by term.
func weakNaive(b []byte) uint32 {
	h := uint32(weakSeed)
	for _, c := range b {
		h = h*weakMult + uint32(c)
	}
	return h
}

func TestWeakSumMatchesDefinition(t *testing.T) {
	data := randBytes(10, 300)
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 64, 300} {
		if got, want := WeakSum(data[:n]), weakNaive(data[:n]); got != want {
			t.Errorf("WeakSum(%d bytes) = %#x, want %#x", n, got, want)
		}
	}
	// Pinned: the sum is part of the wire format.
	for _, tt := range []struct {
		in   string
		want uint32
	}{
		{"", 0x00000001},
		{"a", 0x08104286},
		{"hello, world", 0x9c361769},
	} {
		if got := WeakSum([]byte(tt.in)); got != tt.want {
			t.Errorf("WeakSum(%q) = %#08x, want %#08x", tt.in, got, tt.want)
		}
	}
}

func TestWeakRollEqualsRecomputed(t *testing.T) {
	data := randBytes(11, 5000)
	for _, n := range []int{1, 2, 31, 64, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			tab := rollTable(n)
			h := WeakSum(data[:n])
			for i := 1; i+n <= len(data); i++ {
				h = weakRoll(h, data[i-1], data[i+n-1], tab)
				if want := WeakSum(data[i : i+n]); h != want {
					t.Fatalf("rolled sum at %d = %#x, recomputed %#x", i, h, want)
				}
			}
		})
	}
}

// adlerSum is rsync's weak checksum (s1 = sum of bytes, s2 = sum of prefix
// sums, 16 bits each), kept here only to compare against.
func adlerSum(b []byte) uint32 {
	var s1, s2 uint32
	for _, c := range b {
		s1 += uint32(c)
		s2 += s1
	}
	return s1&0xffff | s2<<16
}

// TestWeakSumCollisions measures, on data shaped like ibt's inputs, how many
// distinct windows share a weak sum with another window. This is why ibt
// uses rabinkarp32: on text its collisions stay near the birthday bound of a
// uniform 32-bit sum, while rsync's Adler-style sum, whose low half is a plain
// byte sum, collides tens of times more (see the logged figures).
func TestWeakSumCollisions(t *testing.T) {
	const window, count = 2048, 100000
	text := make([]byte, 0, window+count)
	words := []string{"func ", "return ", "err ", "if ", "nil", "{\n", "}\n", "\t", "x := ", "y", "(", ")", "0", "1", "// ", "the "}
	r := randBytes(12, window+count)
	for i := 0; len(text) < window+count; i++ {
		text = append(text, words[r[i%len(r)]%16]...)
	}
	inputs := []struct {
		name string
		data []byte
	}{
		{"random", randBytes(13, window+count)},
		{"text", text[:window+count]},
		{"sparse", sparse(window + count)},
	}
	for _, in := range inputs {
		rk := collisions(in.data, window, WeakSum)
		ad := collisions(in.data, window, adlerSum)
		// The expected number of windows colliding with another among
		// `count` uniform 32-bit values is about count^2/2^32 ≈ 2.3.
		t.Logf("%-7s rabinkarp32 %6d colliding windows, adler32-style %6d", in.name, rk, ad)
		if rk > 50 {
			t.Errorf("%s: rabinkarp32 has %d colliding windows among %d, want near 2", in.name, rk, count)
		}
	}
}

// sparse is mostly zeros with a few random bytes, like a sparse image.
func sparse(n int) []byte {
	b := make([]byte, n)
	r := randBytes(14, n/64)
	for i, v := range r {
		b[(i*64+int(v))%n] = v
	}
	return b
}

// collisions counts windows whose sum equals that of a different window.
func collisions(data []byte, window int, sum func([]byte) uint32) int {
	seen := make(map[uint32]int, len(data)-window)
	n := 0
	for i := 0; i+window < len(data); i++ {
		w := data[i : i+window]
		h := sum(w)
		if prev, ok := seen[h]; ok && !bytes.Equal(data[prev:prev+window], w) {
			n++
		}
		seen[h] = i
	}
	return n
}
