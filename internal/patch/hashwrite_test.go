package patch

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/ibt-tools/ibt/internal/rsync"
)

func TestHashWriterMatchesFileHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 3*chunkSize+12345)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	for _, size := range []int{0, 1, 2047, 2048, 2049, 100_000, chunkSize - 1, chunkSize, chunkSize + 1, len(big)} {
		for _, split := range []int{1 << 30, 1000, 65536} {
			if size > 200_000 && split == 1000 {
				continue
			}
			data := big[:size]
			want := rsync.NewFileHash(int64(size))
			want.Write(data)
			var out bytes.Buffer
			h := newHashWriter(&out, int64(size))
			for rest := data; len(rest) > 0; {
				k := min(split, len(rest))
				if _, err := h.Write(rest[:k]); err != nil {
					t.Fatal(err)
				}
				rest = rest[k:]
			}
			got, err := h.Sum()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Sum()) {
				t.Errorf("size %d in writes of %d: hash %x, want %x", size, split, got, want.Sum())
			}
			if !bytes.Equal(out.Bytes(), data) {
				t.Errorf("size %d in writes of %d: wrote %d bytes that differ from the content", size, split, out.Len())
			}
		}
	}
}

func BenchmarkHashWriter(b *testing.B) {
	data := make([]byte, 64<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		h := newHashWriter(io.Discard, int64(len(data)))
		h.Write(data)
		h.Sum()
	}
}
