package rsync

// prefilter tells Delta's rolling loop that no full block has a weak sum, for
// all but about one position in 2,000 of non-matching data, before the slow
// probe of the table. It is two bitsets of the blocks' weak sums, one bit a
// block in each. The first, tested at every position, takes a shift, a load
// and a bit test; one position in about 64 passes it and then the second,
// keyed by other bits of the sum, turns most of those away.
//
// The layout before, two bits a block in one word of one bitset, tested in
// turn, was slower on non-matching data: its first test passed twice as
// often, and each pass is a mispredicted branch. The sizes were measured
// too: a smaller first bitset costs extra passes, a larger one cache
// misses. Measurements: BENCHMARKS.md, "Measurements behind design choices".
type prefilter struct {
	// first has, for every weak sum h, bit h&63 of word h>>firstShift: the
	// word from the top bits, which depend on every input bit, and the bit
	// from the low ones, which the bit test masks for free. Those depend
	// only on the low six bits of each byte, so data whose bytes agree there
	// gets more passes: slower, never wrong.
	first      []uint64
	firstShift uint32
	// second has bit i&63 of word i>>6, i = h*filterMix >> secondShift.
	second      []uint64
	secondShift uint32
}

// Bits a block of the two bitsets (rounded up to a power of two in all).
const (
	firstBitsPerBlock  = 64
	secondBitsPerBlock = 32
)

// filterMix is odd, so the product's top bits depend on every bit of the
// sum and the second bitset's bit is independent of the first's.
const filterMix = 0x9e3779b1

// newPrefilter returns an empty prefilter sized for n distinct weak sums,
// which add then puts in. Sized by distinct sums rather than blocks, it
// stays small for a file of many equal blocks, such as a disk image's
// zeros.
func newPrefilter(n uint64) prefilter {
	// At least two words, so that the shift stays below 32; at most 2^20,
	// so that the word's bits stay clear of the six that pick the bit.
	words, shift := uint64(2), uint32(31)
	for words*64 < n*firstBitsPerBlock && shift > 12 {
		words *= 2
		shift--
	}
	p := prefilter{first: make([]uint64, words), firstShift: shift}
	bits, shift := uint64(64), uint32(26)
	for bits < n*secondBitsPerBlock && shift > 6 {
		bits *= 2
		shift--
	}
	p.second, p.secondShift = make([]uint64, bits/64), shift
	return p
}

// add puts the weak sum h in the prefilter.
func (p *prefilter) add(h uint32) {
	p.first[h>>p.firstShift] |= 1 << (h & 63)
	i := h * filterMix >> p.secondShift
	p.second[i>>6] |= 1 << (i & 63)
}

// maybe reports whether some block may have the weak sum h.
func (p *prefilter) maybe(h uint32) bool {
	return p.first[h>>(p.firstShift&31)]&(1<<(h&63)) != 0 && p.maybeSecond(h)
}

// maybeSecond is the test of the second bitset alone.
func (p *prefilter) maybeSecond(h uint32) bool {
	i := h * filterMix >> (p.secondShift & 31)
	return p.second[i>>6]&(1<<(i&63)) != 0
}

// scan rolls the window at pos of buf, whose weak sum is h, forward one byte
// at a time until its sum passes the prefilter or it reaches stop, and
// returns the new position and sum and whether the sum passed. bs is the
// window length and t its roll table.
//
// It takes eight bytes a step from re-sliced windows, so the byte loads need
// no bounds checks, and the chain of dependent multiplies is one per two
// bytes (h2 = h*M^2 + a0*M + a1). It calls nothing, so the compiler keeps
// its state in registers; with the table probe inlined here it spilled
// registers on every step.
func (p *prefilter) scan(buf []byte, bs, pos, stop int, h uint32, t *[256]uint32) (int, uint32, bool) {
	if stop <= pos {
		return pos, h, false
	}
	out := buf[:stop]
	in := buf[bs : bs+stop]
	in = in[:len(out)]
	first := p.first
	shift := p.firstShift & 31
	i := pos
	for ; i+8 <= len(out); i += 8 {
		o := out[i : i+8 : i+8]
		n := in[i : i+8 : i+8]
		a0 := uint32(n[0]) - t[o[0]]
		a1 := uint32(n[1]) - t[o[1]]
		h1 := h*weakMult + a0
		h2 := h*weakM2 + (a0*weakMult + a1)
		if first[h1>>shift]&(1<<(h1&63)) != 0 && p.maybeSecond(h1) {
			return i + 1, h1, true
		}
		if first[h2>>shift]&(1<<(h2&63)) != 0 && p.maybeSecond(h2) {
			return i + 2, h2, true
		}
		a2 := uint32(n[2]) - t[o[2]]
		a3 := uint32(n[3]) - t[o[3]]
		h3 := h2*weakMult + a2
		h4 := h2*weakM2 + (a2*weakMult + a3)
		if first[h3>>shift]&(1<<(h3&63)) != 0 && p.maybeSecond(h3) {
			return i + 3, h3, true
		}
		if first[h4>>shift]&(1<<(h4&63)) != 0 && p.maybeSecond(h4) {
			return i + 4, h4, true
		}
		a4 := uint32(n[4]) - t[o[4]]
		a5 := uint32(n[5]) - t[o[5]]
		h5 := h4*weakMult + a4
		h6 := h4*weakM2 + (a4*weakMult + a5)
		if first[h5>>shift]&(1<<(h5&63)) != 0 && p.maybeSecond(h5) {
			return i + 5, h5, true
		}
		if first[h6>>shift]&(1<<(h6&63)) != 0 && p.maybeSecond(h6) {
			return i + 6, h6, true
		}
		a6 := uint32(n[6]) - t[o[6]]
		a7 := uint32(n[7]) - t[o[7]]
		h7 := h6*weakMult + a6
		h = h6*weakM2 + (a6*weakMult + a7)
		if first[h7>>shift]&(1<<(h7&63)) != 0 && p.maybeSecond(h7) {
			return i + 7, h7, true
		}
		if first[h>>shift]&(1<<(h&63)) != 0 && p.maybeSecond(h) {
			return i + 8, h, true
		}
	}
	for ; i < len(out); i++ {
		h = h*weakMult + uint32(in[i]) - t[out[i]]
		if first[h>>shift]&(1<<(h&63)) != 0 && p.maybeSecond(h) {
			return i + 1, h, true
		}
	}
	return i, h, false
}
