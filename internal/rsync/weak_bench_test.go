package rsync

import (
	"fmt"
	"testing"
)

// weakBenchSizes are a small block, a typical block and a long run.
var weakBenchSizes = []int{64, 256, 4 << 10, 1 << 20}

// BenchmarkWeakUpdate measures weakUpdate as built: on amd64 with AVX2 the
// assembly above its threshold, elsewhere the generic code.
func BenchmarkWeakUpdate(b *testing.B) {
	benchWeak(b, weakUpdate)
}

// BenchmarkWeakUpdateGeneric measures the pure Go code, to compare.
func BenchmarkWeakUpdateGeneric(b *testing.B) {
	benchWeak(b, weakUpdateGeneric)
}

func benchWeak(b *testing.B, f func(uint32, []byte) uint32) {
	for _, n := range weakBenchSizes {
		p := randBytes(54, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			h := uint32(weakSeed)
			for b.Loop() {
				h = f(h, p)
			}
		})
	}
}
