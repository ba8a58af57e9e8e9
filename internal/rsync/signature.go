package rsync

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/ibt-tools/ibt/format"
)

// Signature is a parsed signature with the lookup structures Delta needs:
// a prefilter of two bitsets and an open-addressing table, all keyed by the
// weak sum. It holds 12 to 24 bytes a block (the signature, 8 to 20 bytes
// an entry, which it keeps rather than copies, and the weak sums again), 4 a
// distinct block for the order, and about 24 for the table and 12 for the
// prefilter a distinct weak sum: a sparse disk image of 20 GiB costs its
// 10 MB signature and little more.
type Signature struct {
	blockSize int
	size      int64
	strongLen int               // format.StrongLen(size, blockSize)
	key       *format.StrongKey // of the strong sums
	sig       []byte            // the signature as given: weak sums and strong sums
	weak      []uint32          // weak sum of every block
	full      int               // blocks of exactly blockSize bytes; the rest is the short last one
	lastLen   int               // length of the short last block, or 0
	roll      *[256]uint32

	// filter turns away, before the table, almost every weak sum no full
	// block has.
	filter prefilter
	// order lists the full blocks sorted by (weak, strong, index), keeping
	// only the first block of each distinct (weak, strong): a file of a
	// million equal blocks costs one candidate, not a million.
	order []int32
	// slots maps a weak sum to the run of order holding its blocks, with
	// linear probing; the weak sum sits in the slot so a miss costs one
	// cache line.
	slots     []slot
	slotMask  uint32
	slotShift uint
}

// ParseSignature checks that sig holds one entry per block of a file of
// size bytes in blocks of blockSize bytes, and builds the lookup table. key
// is the key sig's strong sums were made with, the seed of the index it
// comes from; Delta keys the sums of the new file's windows with it.
func ParseSignature(sig []byte, blockSize int, size int64, key *format.StrongKey) (*Signature, error) {
	if blockSize <= 0 || blockSize > format.MaxBlockSize {
		return nil, fmt.Errorf("parse signature: block size %d out of range 1..%d", blockSize, format.MaxBlockSize)
	}
	if size < 0 {
		return nil, fmt.Errorf("parse signature: negative size %d", size)
	}
	n := format.BlockCount(size, blockSize)
	entryLen := int64(format.SigEntryLen(size, blockSize))
	if n > int64(len(sig)) || int64(len(sig)) != n*entryLen {
		return nil, fmt.Errorf("parse signature: %d bytes for %d blocks of %d bytes, want %d", len(sig), n, blockSize, n*entryLen)
	}
	if key == nil && n > 0 {
		return nil, errors.New("parse signature: no key (the seed of the index it was made with)")
	}
	s := &Signature{
		blockSize: blockSize,
		size:      size,
		strongLen: int(entryLen) - 4,
		key:       key,
		sig:       sig,
		weak:      make([]uint32, n),
		full:      int(size / int64(blockSize)),
		lastLen:   int(size % int64(blockSize)),
		roll:      rollTable(blockSize),
	}
	for i := range s.weak {
		s.weak[i] = binary.BigEndian.Uint32(sig[int64(i)*entryLen:])
	}
	s.buildTable()
	return s, nil
}

// BlockSize returns the block length the signature was made with.
func (s *Signature) BlockSize() int { return s.blockSize }

// Size returns the length of the signed file.
func (s *Signature) Size() int64 { return s.size }

// Covers reports whether a new file of newSize bytes may be matched against
// the signature: whether its strong sums keep a false match unlikely enough
// (format.StrongCovers). Delta of a file it does not cover is all literal.
func (s *Signature) Covers(newSize int64) bool {
	return format.StrongCovers(s.size, s.blockSize, newSize)
}

// strong returns the strong sum of block i.
func (s *Signature) strong(i int) []byte {
	off := i*(4+s.strongLen) + 4
	return s.sig[off : off+s.strongLen]
}

func (s *Signature) buildTable() {
	keys := make([]uint64, s.full)
	for i, w := range s.weak[:s.full] {
		keys[i] = uint64(w)<<32 | uint64(i)
	}
	slices.Sort(keys)
	order := make([]int32, 0, s.full)
	for lo := 0; lo < len(keys); {
		hi := lo + 1
		for hi < len(keys) && keys[hi]>>32 == keys[lo]>>32 {
			hi++
		}
		run := keys[lo:hi]
		start := len(order)
		for _, k := range run {
			order = append(order, int32(uint32(k)))
		}
		if len(run) > 1 {
			// Same weak sum: order by strong sum, then drop repeats, whose
			// indexes are already ascending thanks to the stable tie-break.
			r := order[start:]
			slices.SortStableFunc(r, func(a, b int32) int {
				return bytes.Compare(s.strong(int(a)), s.strong(int(b)))
			})
			r = slices.CompactFunc(r, func(a, b int32) bool {
				return bytes.Equal(s.strong(int(a)), s.strong(int(b)))
			})
			order = order[:start+len(r)]
		}
		lo = hi
	}
	s.order = order

	// A slot and a prefilter entry per distinct weak sum.
	distinct := 0
	for k := range order {
		if k == 0 || s.weak[order[k]] != s.weak[order[k-1]] {
			distinct++
		}
	}
	s.filter = newPrefilter(uint64(distinct))
	nslots, shift := 16, uint(32-4)
	for nslots < 2*distinct {
		nslots *= 2
		shift--
	}
	s.slots = make([]slot, nslots)
	s.slotMask = uint32(nslots - 1)
	s.slotShift = shift
	for lo := 0; lo < len(order); {
		w := s.weak[order[lo]]
		hi := lo + 1
		for hi < len(order) && s.weak[order[hi]] == w {
			hi++
		}
		s.filter.add(w)
		j := w >> s.slotShift
		for s.slots[j].start != 0 {
			j = (j + 1) & s.slotMask
		}
		s.slots[j] = slot{weak: w, start: int32(lo + 1), end: int32(hi)}
		lo = hi
	}
}

// slot is an entry of the lookup table: blocks order[start-1:end] have weak
// sum weak; start is 0 in an empty slot.
type slot struct {
	weak       uint32
	start, end int32
}

// candidates returns the distinct full blocks with weak sum h, sorted by
// strong sum; usually none or one.
func (s *Signature) candidates(h uint32) []int32 {
	j := h >> (s.slotShift & 31)
	for {
		sl := &s.slots[j]
		if sl.start == 0 {
			return nil
		}
		if sl.weak == h {
			return s.order[sl.start-1 : sl.end]
		}
		j = (j + 1) & s.slotMask
	}
}

// pick returns the block of run, from candidates, whose strong sum is
// strong, or -1.
func (s *Signature) pick(run []int32, strong []byte) int {
	k, ok := slices.BinarySearchFunc(run, strong, func(b int32, t []byte) int {
		return bytes.Compare(s.strong(int(b)), t)
	})
	if !ok {
		return -1
	}
	return int(run[k])
}

// find returns the index of a full block with weak sum h and strong sum
// strong, or -1.
func (s *Signature) find(h uint32, strong []byte) int {
	return s.pick(s.candidates(h), strong)
}
