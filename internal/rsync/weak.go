package rsync

import "encoding/binary"

// The rabinkarp32 multiplier and its powers, reduced mod 2^32 at compile time,
// so the bulk sum multiplies by immediates.
const (
	weakMult = 0x08104225
	weakSeed = 1
	weakM2   = weakMult * weakMult % (1 << 32)
	weakM3   = weakM2 * weakMult % (1 << 32)
	weakM4   = weakM2 * weakM2 % (1 << 32)
	weakM5   = weakM4 * weakMult % (1 << 32)
	weakM6   = weakM4 * weakM2 % (1 << 32)
	weakM7   = weakM4 * weakM3 % (1 << 32)
	weakM8   = weakM4 * weakM4 % (1 << 32)
)

// WeakSum returns the rabinkarp32 weak sum of block (see the package doc).
func WeakSum(block []byte) uint32 {
	return weakUpdate(weakSeed, block)
}

// weakUpdate extends the polynomial h by p. Eight bytes go in per step as
// independent products, so the loop is bound by multiply throughput rather
// than by the latency of a byte-at-a-time Horner chain.
func weakUpdate(h uint32, p []byte) uint32 {
	for len(p) >= 8 {
		v := binary.LittleEndian.Uint64(p)
		h = h*weakM8 +
			(uint32(byte(v))*weakM7 + uint32(byte(v>>8))*weakM6) +
			(uint32(byte(v>>16))*weakM5 + uint32(byte(v>>24))*weakM4) +
			(uint32(byte(v>>32))*weakM3 + uint32(byte(v>>40))*weakM2) +
			(uint32(byte(v>>48))*weakMult + uint32(byte(v>>56)))
		p = p[8:]
	}
	for _, b := range p {
		h = h*weakMult + uint32(b)
	}
	return h
}

// rollTable returns, for every byte value out, M^n*(out + M - 1), the term a
// window of n bytes subtracts when out leaves it: h' = h*M + in - t[out].
func rollTable(n int) *[256]uint32 {
	mn := uint32(1)
	for range n {
		mn *= weakMult
	}
	t := new([256]uint32)
	for b := range t {
		t[b] = mn * (uint32(b) + weakMult - 1)
	}
	return t
}

// weakRoll returns the weak sum of the window moved one byte on, given the
// window's sum h, the byte out leaving it, the byte in entering it, and
// t = the roll table of the window length.
func weakRoll(h uint32, out, in byte, t *[256]uint32) uint32 {
	return h*weakMult + uint32(in) - t[out]
}
