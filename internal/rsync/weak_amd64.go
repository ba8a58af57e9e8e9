//go:build amd64 && !purego

package rsync

import "golang.org/x/sys/cpu"

// weakAVX2 is whether weakUpdate takes the AVX2 path.
var weakAVX2 = cpu.X86.HasAVX2

// weakAVX2Min is the length below which the generic code is as fast.
const weakAVX2Min = 64

// weakPowAVX2 holds the constants of weakBlocksAVX2: [i] = M^(31-i), the
// weight of byte i of a 32-byte step, for i < 32, and [32] = M^32, the
// multiplier of one step.
var weakPowAVX2 = func() (t [33]uint32) {
	pw := uint32(1)
	for i := 31; i >= 0; i-- {
		t[i] = pw
		pw *= weakMult
	}
	t[32] = pw
	return t
}()

// weakBlocksAVX2 is weakUpdateGeneric(h, p[:len(p)&^31]) in AVX2: it reads
// only those bytes.
//
//go:noescape
func weakBlocksAVX2(h uint32, p []byte) uint32

// weakUpdate extends the polynomial h by p (see weakUpdateGeneric). The
// generic code is bound by one multiply or table load per byte; the AVX2 loop
// multiplies 8 lanes at a time, in 4 independent chains of 8 bytes.
func weakUpdate(h uint32, p []byte) uint32 {
	if weakAVX2 && len(p) >= weakAVX2Min {
		n := len(p) &^ 31
		h = weakBlocksAVX2(h, p[:n])
		p = p[n:]
	}
	return weakUpdateGeneric(h, p)
}
