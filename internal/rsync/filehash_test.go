package rsync

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// hashByDefinition is the "sha256-blocks" definition of the package doc.
func hashByDefinition(data []byte, bs int) []byte {
	var head [12]byte
	binary.LittleEndian.PutUint64(head[:], uint64(len(data)))
	binary.LittleEndian.PutUint32(head[8:], uint32(bs))
	msg := head[:]
	for p := data; len(p) > 0; {
		b := p[:min(bs, len(p))]
		p = p[len(b):]
		leaf := sha256.Sum256(b)
		msg = append(msg, leaf[:]...)
	}
	sum := sha256.Sum256(msg)
	return sum[:]
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// TestFileHashVectors pins the hash: it is part of the wire format.
func TestFileHashVectors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "5ae228a2da09b99bbd50297d3c4c88ea807c97f7c0c3bc9d3874537735602204"},
		{"abc", []byte("abc"), "c53414b5008f7a7f5f2d3cafff6713ff5c0cd854b518c5d95fa53a9323b2b9c5"},
		{"5000 bytes of i%251", pattern(5000), "93409b808edb85bddf32afa2a8c642f032402b928a44d1bd450fe0e512c9d570"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if def := hashByDefinition(tt.data, format.BlockSize(int64(len(tt.data)))); hex.EncodeToString(def) != tt.want {
				t.Errorf("definition gives %x, want %s", def, tt.want)
			}
			h := NewFileHash(int64(len(tt.data)))
			h.Write(tt.data)
			if got := hex.EncodeToString(h.Sum()); got != tt.want {
				t.Errorf("FileHash.Sum() = %s, want %s", got, tt.want)
			}
			got, _, err := Sign(bytes.NewReader(tt.data), int64(len(tt.data)), testKey)
			if err != nil || hex.EncodeToString(got) != tt.want {
				t.Errorf("Sign hash = %x, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestFileHashAnySplit(t *testing.T) {
	const bs = 64
	data := randBytes(20, 10*bs+13)
	want := hashByDefinition(data, bs)
	for _, step := range []int{1, 3, bs - 1, bs, bs + 1, 5 * bs, len(data)} {
		h := newFileHash(int64(len(data)), bs)
		for p := data; len(p) > 0; {
			c := p[:min(step, len(p))]
			p = p[len(c):]
			if n, err := h.Write(c); n != len(c) || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		if h.Written() != int64(len(data)) {
			t.Errorf("step %d: Written() = %d, want %d", step, h.Written(), len(data))
		}
		if got := h.Sum(); !bytes.Equal(got, want) {
			t.Errorf("step %d: Sum() = %x, want %x", step, got, want)
		}
		if got := h.Sum(); !bytes.Equal(got, want) {
			t.Errorf("step %d: second Sum() = %x, want %x", step, got, want)
		}
	}
}

func TestFileHashDependsOnSize(t *testing.T) {
	// The same bytes announced with another size hash differently, so a
	// hash never vouches for content of the wrong length.
	data := []byte("abc")
	a := NewFileHash(3)
	a.Write(data)
	b := NewFileHash(4)
	b.Write(data)
	if bytes.Equal(a.Sum(), b.Sum()) {
		t.Fatal("hashes of the same bytes under sizes 3 and 4 are equal")
	}
}
