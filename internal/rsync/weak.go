package rsync

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
	weakM16  = weakM8 * weakM8 % (1 << 32)
)

// WeakSum returns the rabinkarp32 weak sum of block (see the package doc).
func WeakSum(block []byte) uint32 {
	return weakUpdate(weakSeed, block)
}

// weakTab[k][b] = b*M^k: half of the bulk sum's products are table loads,
// half multiplies, so both the load and the multiply units stay busy.
var weakTab = func() *[8][256]uint32 {
	t := new([8][256]uint32)
	pw := uint32(1)
	for k := range t {
		for b := range t[k] {
			t[k][b] = uint32(b) * pw
		}
		pw *= weakMult
	}
	return t
}()

// weakUpdateGeneric extends the polynomial h by p:
// h*M^len(p) + p_0*M^(len(p)-1) + ... + p_{len(p)-1}. Sixteen bytes go in per
// step as independent products, so the loop is bound by throughput rather
// than by the latency of a byte-at-a-time Horner chain (measured in
// BENCHMARKS.md). It is weakUpdate wherever there is no assembly (see
// weak_amd64.go), and the short tail after the assembly's 32-byte steps.
func weakUpdateGeneric(h uint32, p []byte) uint32 {
	t := weakTab
	for len(p) >= 16 {
		q := p[:16]
		a := (t[7][q[0]] + uint32(q[1])*weakM6) + (t[5][q[2]] + uint32(q[3])*weakM4) +
			(t[3][q[4]] + uint32(q[5])*weakM2) + (t[1][q[6]] + uint32(q[7]))
		b := (uint32(q[8])*weakM7 + t[6][q[9]]) + (uint32(q[10])*weakM5 + t[4][q[11]]) +
			(uint32(q[12])*weakM3 + t[2][q[13]]) + (uint32(q[14])*weakMult + uint32(q[15]))
		h = h*weakM16 + a*weakM8 + b
		p = p[16:]
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
