package format

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// FileHasher gives the hash doc.go defines, whether the leaves come one by
// one or many at once, and SumWith leaves its state as it was.
func TestFileHasher(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1000) // 16,000 bytes
	for _, size := range []int{0, 1, 575, 576, 577, 16000} {
		d := data[:size]
		bs := BlockSize(int64(size))
		var leaves []byte
		for p := d; len(p) > 0; p = p[min(bs, len(p)):] {
			leaf := sha256.Sum256(p[:min(bs, len(p))])
			leaves = append(leaves, leaf[:]...)
		}
		want := hashByDefinition(d, bs)

		one := NewFileHasher(int64(size), bs)
		for i := 0; i < len(leaves); i += sha256.Size {
			one.AddLeaves(leaves[i : i+sha256.Size])
		}
		all := NewFileHasher(int64(size), bs)
		all.AddLeaves(leaves)
		if got := one.Sum(); !bytes.Equal(got, want) {
			t.Errorf("size %d, leaves one by one: %x, want %x", size, got, want)
		}
		if got := all.Sum(); !bytes.Equal(got, want) {
			t.Errorf("size %d, leaves at once: %x, want %x", size, got, want)
		}
		if len(leaves) > 0 {
			last := len(leaves) - sha256.Size
			h := NewFileHasher(int64(size), bs)
			h.AddLeaves(leaves[:last])
			before := h.Sum()
			if got := h.SumWith(leaves[last:]); !bytes.Equal(got, want) {
				t.Errorf("size %d, SumWith the last leaf: %x, want %x", size, got, want)
			}
			if after := h.Sum(); !bytes.Equal(after, before) {
				t.Errorf("size %d: SumWith changed the state", size)
			}
		}
	}
}
