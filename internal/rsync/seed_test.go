package rsync

import (
	"bytes"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// TestSeedChangesSignaturesOnly signs the same content with two seeds: the
// file hashes are equal, the signatures differ in every block's strong sum
// and in nothing else, and each key finds every match against its own
// signature and none against the other's.
func TestSeedChangesSignaturesOnly(t *testing.T) {
	const size = 300_000
	data := randBytes(7, size)
	other := mustKey([]byte("another seed 16B"))
	h1, sig1, err := SignFile(bytes.NewReader(data), size, 2, testKey)
	if err != nil {
		t.Fatal(err)
	}
	h2, sig2, err := SignFile(bytes.NewReader(data), size, 2, other)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h1, h2) {
		t.Fatalf("file hashes differ: %x and %x", h1, h2)
	}
	bs := format.BlockSize(size)
	entry := len(sig1) / int(format.BlockCount(size, bs))
	for i := 0; i < len(sig1); i += entry {
		if !bytes.Equal(sig1[i:i+4], sig2[i:i+4]) || bytes.Equal(sig1[i+4:i+entry], sig2[i+4:i+entry]) {
			t.Fatalf("block %d: entries %x and %x, want equal weak and different strong sums", i/entry, sig1[i:i+entry], sig2[i:i+entry])
		}
	}
	for _, tt := range []struct {
		name    string
		key     *format.StrongKey
		literal int64
	}{
		{"same seed", testKey, 0},
		{"other seed", other, size},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSignature(sig1, bs, size, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			var literal int64
			var out bytes.Buffer
			p := NewPatcher(bytes.NewReader(data), size, &out, size)
			hash, err := DeltaFile(s, bytes.NewReader(data), size, 2, func(op Op) error {
				if op.Kind == OpLiteral {
					literal += op.Length
				}
				return p.Apply(op)
			})
			if err != nil {
				t.Fatal(err)
			}
			if literal != tt.literal || !bytes.Equal(out.Bytes(), data) || !bytes.Equal(hash, h1) {
				t.Errorf("%d bytes literal, want %d (rebuilt equal: %v)", literal, tt.literal, bytes.Equal(out.Bytes(), data))
			}
		})
	}
}

func TestSignWithoutKey(t *testing.T) {
	data := randBytes(3, 5000)
	if _, _, err := Sign(bytes.NewReader(data), 5000, nil); err == nil {
		t.Error("Sign of a signed size without a key succeeded")
	}
	if _, _, err := SignFile(bytes.NewReader(data), 5000, 2, nil); err == nil {
		t.Error("SignFile of a signed size without a key succeeded")
	}
	_, sig, err := Sign(bytes.NewReader(data), 5000, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSignature(sig, format.BlockSize(5000), 5000, nil); err == nil {
		t.Error("ParseSignature without a key succeeded")
	}
}
