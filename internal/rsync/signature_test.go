package rsync

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

func TestParseSignatureRejectsBadShapes(t *testing.T) {
	sigEntryLen := format.SigEntryLen(150, 64)
	good := make([]byte, 3*sigEntryLen)
	tests := []struct {
		name      string
		sig       []byte
		blockSize int
		size      int64
	}{
		{"one entry short", good[:2*sigEntryLen], 64, 150},
		{"one entry long", append(bytes.Clone(good), good[:sigEntryLen]...), 64, 150},
		{"partial entry", good[:3*sigEntryLen-1], 64, 150},
		{"entries for an empty file", good, 64, 0},
		{"zero block size", good, 0, 150},
		{"negative block size", good, -64, 150},
		{"huge block size", good, 1 << 30, 150},
		{"negative size", good, 64, -1},
		{"block count overflowing", good, 1, 1<<63 - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseSignature(tt.sig, tt.blockSize, tt.size, testKey); err == nil {
				t.Fatal("ParseSignature accepted it")
			}
		})
	}
	s, err := ParseSignature(good, 64, 150, testKey)
	if err != nil {
		t.Fatalf("ParseSignature of 3 blocks for 150 bytes: %v", err)
	}
	if s.BlockSize() != 64 || s.Size() != 150 {
		t.Errorf("BlockSize(), Size() = %d, %d; want 64, 150", s.BlockSize(), s.Size())
	}
	if _, err := ParseSignature(nil, 64, 0, testKey); err != nil {
		t.Errorf("ParseSignature of an empty file: %v", err)
	}
}

// TestSignatureFind looks blocks up in a signature where many blocks share a
// weak sum (as crafted data could make them) and some repeat outright.
func TestSignatureFind(t *testing.T) {
	const n = 3000
	strongLen := format.StrongLen(4*n, 4)
	sig := make([]byte, 0, n*(4+strongLen))
	for i := range n {
		weak := uint32(7)
		if i%3 == 0 {
			weak = uint32(i)
		}
		strong := make([]byte, strongLen)
		binary.BigEndian.PutUint32(strong, uint32(i%1000)) // blocks i and i+1000 repeat
		sig = binary.BigEndian.AppendUint32(sig, weak)
		sig = append(sig, strong...)
	}
	s, err := ParseSignature(sig, 4, 4*n, testKey)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		want := i // the first of equal blocks
		for j := i % 1000; j < i; j += 1000 {
			if s.weak[j] == s.weak[i] {
				want = j
				break
			}
		}
		if got := s.find(s.weak[i], s.strong(i)); got != want {
			t.Fatalf("find(block %d) = %d, want %d", i, got, want)
		}
	}
	missing := make([]byte, strongLen)
	missing[0] = 0xff
	if got := s.find(7, missing); got != -1 {
		t.Errorf("find(unknown strong sum) = %d, want -1", got)
	}
	if got := s.find(1, missing); got != -1 {
		t.Errorf("find(unknown weak sum) = %d, want -1", got)
	}
}

func TestFilterHasEveryBlock(t *testing.T) {
	for _, size := range []int64{3 * 2048, 1 << 20, 5<<20 + 7} {
		old := randBytes(7, int(size))
		_, sig, err := Sign(bytes.NewReader(old), size, testKey)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseSignature(sig, format.BlockSize(size), size, testKey)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range s.weak[:s.full] {
			if !s.filter.maybe(w) {
				t.Fatalf("size %d: block %d with weak sum %#x not in the filter", size, i, w)
			}
		}
	}
}
