package rsync

import (
	"bytes"
	"fmt"
	"testing"
)

// pageFile is a database-like file of 4 KiB pages (half random, half rows of
// text) and its new version with one page in 256 rewritten and a few short
// insertions, the shape of bench/corpus.sh's db corpus at 1/8 of its size.
func pageFile(size int) (old, new []byte) {
	const page = 4096
	old = make([]byte, 0, size)
	rnd := randBytes(60, size)
	row := []byte("00000042|user|order|123456;")
	for p := 0; len(old) < size; p++ {
		old = append(old, rnd[p*page:p*page+page/2]...)
		old = append(old, bytes.Repeat(row, page/2/len(row)+1)[:page/2]...)
	}
	new = bytes.Clone(old)
	noise := randBytes(61, page)
	pages := size / page
	for i := range pages / 256 {
		p := (i*7919 + 13) % pages
		copy(new[p*page:], noise)
		noise[0]++
	}
	for i, at := range []int{size / 3, size / 2} {
		new = append(new[:at], append(bytes.Repeat([]byte{byte(i)}, 1000+i*3000), new[at:]...)...)
	}
	return old, new
}

// BenchmarkBlockSizeTradeoff reports, for a 32 MiB page file with 128 page
// rewrites, the signature and delta sizes each block size gives; the numbers
// behind BlockSize's rule. Run with -benchtime 1x.
func BenchmarkBlockSizeTradeoff(b *testing.B) {
	old, new := pageFile(32 << 20)
	for _, bs := range []int{1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10} {
		b.Run(fmt.Sprint(bs), func(b *testing.B) {
			var r result
			for b.Loop() {
				r = roundTrip(b, old, new, bs)
			}
			// An op costs about 10 bytes in a delta stream besides its data.
			delta := r.literal + int64(10*len(r.ops))
			b.ReportMetric(float64(r.sigBytes), "sig-bytes")
			b.ReportMetric(float64(delta), "delta-bytes")
			b.ReportMetric(float64(int64(r.sigBytes)+delta), "total-bytes")
		})
	}
}
