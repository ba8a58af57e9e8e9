package rsync

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"
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
		{"empty", nil, "bfe30465eca41c1144bf7336cb8a014863b2be56ab60623875deed0963d47ab7"},
		{"abc", []byte("abc"), "17f700f29adb0cd748385adbe84a3a1e6c23fa196af7f312fb90e897ffcf046e"},
		{"5000 bytes of i%251", pattern(5000), "e3fd55678bb70b9baae81acf38dcb03339163f48963385aa537b94551c66947b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if def := hashByDefinition(tt.data, BlockSize(int64(len(tt.data)))); hex.EncodeToString(def) != tt.want {
				t.Errorf("definition gives %x, want %s", def, tt.want)
			}
			h := NewFileHash(int64(len(tt.data)))
			h.Write(tt.data)
			if got := hex.EncodeToString(h.Sum()); got != tt.want {
				t.Errorf("FileHash.Sum() = %s, want %s", got, tt.want)
			}
			got, _, err := Sign(bytes.NewReader(tt.data), int64(len(tt.data)))
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
