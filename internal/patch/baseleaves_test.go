package patch

import (
	"bytes"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// TestBaseLeavesHashTheBase checks that the base's file hash built from
// the new version's leaves where they coincide, and reads elsewhere, is
// the hash of the base, whatever the sizes, the copies and the writes.
func TestBaseLeavesHashTheBase(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	type edit struct{ off, n int }
	cases := []struct {
		name        string
		size, newSz int
		rewrites    []edit // rewritten ranges of the new version, same size
	}{
		{"pages rewritten", 3*chunkSize + 8192, 3*chunkSize + 8192, []edit{{0, 4096}, {chunkSize - 100, 300}, {2*chunkSize + 4096, 4096}}},
		{"nothing changed", 2*chunkSize + 1, 2*chunkSize + 1, nil},
		{"grown, same block size", 1 << 20, 1<<20 + 5000, []edit{{70000, 10}}},
		{"shrunk, same block size", 1<<20 + 5000, 1 << 20, nil},
		{"last block shorter in the new version", 1<<20 + 4096, 1<<20 + 100, nil},
		{"small file", 100_000, 100_000, []edit{{576, 1}, {99_999, 1}}},
		{"all rewritten", 300_000, 300_000, []edit{{0, 300_000}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := random(tc.size)
			newer := append([]byte(nil), base[:min(tc.size, tc.newSz)]...)
			newer = append(newer, random(tc.newSz-len(newer))...)
			for _, e := range tc.rewrites {
				copy(newer[e.off:e.off+e.n], random(e.n))
			}
			cr := &countingReaderAt{r: bytes.NewReader(base)}
			bl := newBaseLeaves(cr, int64(tc.size), int64(tc.newSz))
			if bl == nil {
				t.Fatalf("block sizes of %d and %d differ", tc.size, tc.newSz)
			}
			// The same-offset copies: what is neither rewritten nor new,
			// given in pieces, as a delta's copies come.
			same := make([]bool, min(tc.size, tc.newSz))
			for i := range same {
				same[i] = true
			}
			for _, e := range tc.rewrites {
				for i := e.off; i < e.off+e.n && i < len(same); i++ {
					same[i] = false
				}
			}
			for i := 0; i < len(same); {
				j := i
				for j < len(same) && same[j] == same[i] && j-i < 5000 {
					j++
				}
				if same[i] {
					bl.sameOffset(int64(i), int64(j-i))
				}
				i = j
			}
			h := newHashWriter(io.Discard, int64(tc.newSz))
			h.base = bl
			if _, err := h.Write(newer); err != nil {
				t.Fatal(err)
			}
			if _, err := h.Sum(); err != nil {
				t.Fatal(err)
			}
			h.close()
			got, err := bl.sum()
			if err != nil {
				t.Fatal(err)
			}
			want, err := hashReaderAt(bytes.NewReader(base), int64(tc.size), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("base hash %x, want %x", got, want)
			}
			// Only the blocks not shared are read: what was rewritten,
			// and what lies beyond the new version's whole blocks.
			bs := format.BlockSize(int64(tc.size))
			limit := int64(len(tc.rewrites)+2) * int64(2*bs)
			if len(tc.rewrites) == 1 && tc.rewrites[0].n == tc.size {
				limit = int64(tc.size)
			}
			if n := atomic.LoadInt64(&cr.n); n > limit {
				t.Errorf("read %d bytes of the base, want at most %d", n, limit)
			}
		})
	}
}

// TestBaseLeavesReadError reports a base shorter than it said.
func TestBaseLeavesReadError(t *testing.T) {
	base := make([]byte, 1<<20)
	bl := newBaseLeaves(bytes.NewReader(base[:1000]), 1<<20, 1<<20)
	h := newHashWriter(io.Discard, 1<<20)
	h.base = bl
	h.Write(make([]byte, 1<<20))
	h.Sum()
	h.close()
	if _, err := bl.sum(); err != io.ErrUnexpectedEOF {
		t.Fatalf("sum of a short base: %v, want %v", err, io.ErrUnexpectedEOF)
	}
}

type countingReaderAt struct {
	r io.ReaderAt
	n int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	atomic.AddInt64(&c.n, int64(n))
	return n, err
}
