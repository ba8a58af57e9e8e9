//go:build amd64 && !purego

package rsync

import "golang.org/x/sys/cpu"

// weakAVX2 is whether weakUpdate takes the AVX2 path.
var weakAVX2 = cpu.X86.HasAVX2

// weakAVX2Min is the shortest input given to the assembly: below it the
// generic code handles a tail of up to 31 bytes one at a time anyway, and
// measured as fast or faster.
// Measurements: BENCHMARKS.md, "Measurements behind design choices".
const weakAVX2Min = 64

// weakPowAVX2 holds the constants of weakBlocksAVX2: [i] = M^(31-i), the
// weight of byte i of a 32-byte step, for i < 32; [32] = M^32 and [33] =
// M^64, the multipliers of a 32- and a 64-byte step.
var weakPowAVX2 = func() (t [34]uint32) {
	pw := uint32(1)
	for i := 31; i >= 0; i-- {
		t[i] = pw
		pw *= weakMult
	}
	t[32] = pw
	t[33] = pw * pw
	return t
}()

// weakBlocksAVX2 is weakUpdateGeneric(h, p[:len(p)&^31]) in AVX2: it reads
// only those bytes. pow is always &weakPowAVX2, passed rather than named in
// the assembly so that package initialization sees the dependency: a
// package-level variable computed with WeakSum must find the table built.
//
//go:noescape
func weakBlocksAVX2(h uint32, p []byte, pow *[34]uint32) uint32

// weakUpdate extends the polynomial h by p (see weakUpdateGeneric). The weak
// sum of every block was a large share of ibt-sign's CPU with the generic
// code, which is bound by one multiply or table load per byte. The AVX2 loop
// multiplies 8 lanes at a time, bound by VPMULLD, in 8 independent chains
// (BenchmarkWeakUpdate).
// Measurements: BENCHMARKS.md, "Measurements behind design choices".
func weakUpdate(h uint32, p []byte) uint32 {
	if weakAVX2 && len(p) >= weakAVX2Min {
		n := len(p) &^ 31
		h = weakBlocksAVX2(h, p[:n], &weakPowAVX2)
		p = p[n:]
	}
	return weakUpdateGeneric(h, p)
}
