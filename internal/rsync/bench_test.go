package rsync

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/streamtest"
)

const benchSize = 64 << 20

// benchData is 64 MiB of old content, new content equal to it but for 100
// rewritten 4 KiB pages and a few insertions, and a random new content.
var benchData = sync.OnceValue(func() (d struct{ old, edited, random []byte }) {
	d.old = randBytes(50, benchSize)
	d.edited = bytes.Clone(d.old)
	noise := randBytes(51, 4096)
	for i := range 100 {
		page := (i * 16381 * 4096) % (benchSize - 4096)
		page -= page % 4096
		copy(d.edited[page:], noise)
	}
	for _, at := range []int{1 << 20, 20 << 20, 40 << 20} {
		d.edited = append(d.edited[:at], append(noise[:1000], d.edited[at:]...)...)
	}
	d.random = randBytes(52, benchSize)
	return d
})

func benchSignature(b *testing.B, old []byte) *Signature {
	_, sig, err := Sign(bytes.NewReader(old), int64(len(old)), testKey)
	if err != nil {
		b.Fatal(err)
	}
	s, err := ParseSignature(sig, format.BlockSize(int64(len(old))), int64(len(old)), testKey)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkSign(b *testing.B) {
	old := benchData().old
	b.SetBytes(int64(len(old)))
	c := streamtest.CPUTime()
	for b.Loop() {
		if _, _, err := Sign(bytes.NewReader(old), int64(len(old)), testKey); err != nil {
			b.Fatal(err)
		}
	}
	streamtest.ReportCPU(b, c, int64(len(old)))
}

func BenchmarkFileHash(b *testing.B) {
	old := benchData().old
	b.SetBytes(int64(len(old)))
	c := streamtest.CPUTime()
	for b.Loop() {
		h := NewFileHash(int64(len(old)))
		for p := old; len(p) > 0; p = p[min(len(p), 1<<20):] {
			h.Write(p[:min(len(p), 1<<20)])
		}
		h.Sum()
	}
	streamtest.ReportCPU(b, c, int64(len(old)))
}

func BenchmarkDelta(b *testing.B) {
	d := benchData()
	s := benchSignature(b, d.old)
	for _, tt := range []struct {
		name string
		new  []byte
	}{
		{"matching", d.edited},
		{"random", d.random},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(tt.new)))
			var literal int64
			c := streamtest.CPUTime()
			for b.Loop() {
				literal = 0
				err := Delta(s, bytes.NewReader(tt.new), func(op Op) error {
					literal += int64(len(op.Data))
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			streamtest.ReportCPU(b, c, int64(len(tt.new)))
			b.ReportMetric(float64(literal), "literal-bytes")
		})
	}
}

func BenchmarkPatch(b *testing.B) {
	d := benchData()
	s := benchSignature(b, d.old)
	var ops []Op
	err := Delta(s, bytes.NewReader(d.edited), func(op Op) error {
		op.Data = bytes.Clone(op.Data)
		ops = append(ops, op)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(d.edited)))
	c := streamtest.CPUTime()
	for b.Loop() {
		p := NewPatcher(bytes.NewReader(d.old), int64(len(d.old)), io.Discard, int64(len(d.edited)))
		for _, op := range ops {
			if err := p.Apply(op); err != nil {
				b.Fatal(err)
			}
		}
	}
	streamtest.ReportCPU(b, c, int64(len(d.edited)))
}

func BenchmarkWeakSum(b *testing.B) {
	block := randBytes(53, 4096)
	b.SetBytes(int64(len(block)))
	c := streamtest.CPUTime()
	for b.Loop() {
		WeakSum(block)
	}
	streamtest.ReportCPU(b, c, int64(len(block)))
}

// BenchmarkSignSmall signs files of the src corpus's median and 90th
// percentile sizes, whose blocks are the small ones: the per-block cost of
// SHA-256's padding and of the weak sum weighs most there.
func BenchmarkSignSmall(b *testing.B) {
	for _, size := range []int{1500, 11600} {
		data := randBytes(90, size)
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, _, err := Sign(bytes.NewReader(data), int64(size), testKey); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
