package format

import (
	"bytes"
	"crypto/aes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// strongByDefinition computes the strong sum of a block whose SHA-256 is
// leaf as the spec states it, with a fresh cipher and no shared code.
func strongByDefinition(seed []byte, leaf [sha256.Size]byte) []byte {
	c, err := aes.NewCipher(seed)
	if err != nil {
		panic(err)
	}
	x := make([]byte, 16)
	c.Encrypt(x, leaf[:16])
	for i := range x {
		x[i] ^= leaf[16+i]
	}
	c.Encrypt(x, x)
	return x
}

var strongTestSeed = []byte("ibt rsync tests!")

func strongTestSummer(t testing.TB) *StrongSummer {
	k, err := NewStrongKey(strongTestSeed)
	if err != nil {
		t.Fatal(err)
	}
	return k.Summer()
}

// TestStrongSumVector pins the keyed sum: the last block of the AES-128-CBC
// encryption, zero IV, of the leaf, as computed by
//
//	printf hello | sha256sum | cut -c1-64 | xxd -r -p |
//	openssl enc -aes-128-cbc -K "$(printf 'ibt rsync tests!' | xxd -p)" -iv 0 -nopad | tail -c 16
func TestStrongSumVector(t *testing.T) {
	leaf := sha256.Sum256([]byte("hello"))
	want, _ := hex.DecodeString("f1ea0ce6f8f30c0f319c8ba49cbce029")
	if got := strongTestSummer(t).Sum(&leaf); !bytes.Equal(got, want) {
		t.Errorf("strong sum %x, want %x", got, want)
	}
	if got := strongByDefinition(strongTestSeed, leaf); !bytes.Equal(got, want) {
		t.Errorf("strong sum by definition %x, want %x", got, want)
	}
}

func TestNewStrongKeyRefusesBadSeeds(t *testing.T) {
	for _, n := range []int{0, 8, 15, 17, 24, 32} {
		if _, err := NewStrongKey(make([]byte, n)); err == nil {
			t.Errorf("NewStrongKey accepted a seed of %d bytes", n)
		}
	}
}

func TestStrongSumAllocatesNothing(t *testing.T) {
	ss := strongTestSummer(t)
	leaf := sha256.Sum256([]byte("block"))
	if n := testing.AllocsPerRun(100, func() { ss.Sum(&leaf) }); n != 0 {
		t.Errorf("%v allocations a strong sum, want 0", n)
	}
}

func BenchmarkStrongSum(b *testing.B) {
	ss := strongTestSummer(b)
	leaf := sha256.Sum256([]byte("block"))
	b.SetBytes(sha256.Size)
	for b.Loop() {
		ss.Sum(&leaf)
	}
}
