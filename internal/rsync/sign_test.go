package rsync

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/ibt-tools/ibt/format"
)

func TestSignLayout(t *testing.T) {
	for _, size := range []int{0, 1, 2048, 2049, 5700, 3 * 2048} {
		data := randBytes(uint64(size), size)
		hash, sig, err := Sign(iotest.HalfReader(bytes.NewReader(data)), int64(size), testKey)
		if err != nil {
			t.Fatalf("Sign(%d bytes): %v", size, err)
		}
		bs := format.BlockSize(int64(size))
		if want := hashByDefinition(data, bs); !bytes.Equal(hash, want) {
			t.Errorf("Sign(%d bytes) hash = %x, want %x", size, hash, want)
		}
		if !format.Signed(int64(size)) {
			if sig != nil {
				t.Errorf("Sign(%d bytes) gave a %d-byte signature to an unsigned size", size, len(sig))
			}
			continue
		}
		if int64(len(sig)) != format.SigLen(int64(size), bs) {
			t.Fatalf("Sign(%d bytes) signature is %d bytes, want %d", size, len(sig), format.SigLen(int64(size), bs))
		}
		summer := testKey.Summer()
		for i := 0; i*bs < size; i++ {
			block := data[i*bs : min(size, (i+1)*bs)]
			k := format.StrongLen(int64(size), bs)
			e := sig[i*(4+k) : (i+1)*(4+k)]
			leaf := sha256.Sum256(block)
			strong := summer.Sum(&leaf) // held to the spec's definition in format
			if binary.BigEndian.Uint32(e) != WeakSum(block) || !bytes.Equal(e[4:], strong[:k]) {
				t.Errorf("Sign(%d bytes) block %d entry %x, want weak %08x strong %x", size, i, e, WeakSum(block), strong[:k])
			}
		}
	}
}

func TestSignSizeChanged(t *testing.T) {
	data := randBytes(30, 10000)
	tests := []struct {
		name string
		r    io.Reader
		size int64
	}{
		{"shorter", bytes.NewReader(data[:9999]), 10000},
		{"empty", bytes.NewReader(nil), 10000},
		{"longer", bytes.NewReader(data), 9999},
		{"longer than empty", bytes.NewReader(data), 0},
		{"longer by data with EOF", iotest.DataErrReader(bytes.NewReader(data)), 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Sign(tt.r, tt.size, testKey); !errors.Is(err, ErrSizeChanged) {
				t.Fatalf("Sign = %v, want ErrSizeChanged", err)
			}
		})
	}
}

func TestSignReadError(t *testing.T) {
	bad := errors.New("disk on fire")
	_, _, err := Sign(&failingReader{data: make([]byte, 3000), err: bad}, 10000, testKey)
	if !errors.Is(err, bad) || errors.Is(err, ErrSizeChanged) {
		t.Fatalf("Sign = %v, want the read error", err)
	}
	if _, _, err := Sign(bytes.NewReader(nil), -1, testKey); err == nil {
		t.Fatal("Sign with size -1 succeeded")
	}
}
