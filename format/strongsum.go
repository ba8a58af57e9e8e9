package format

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"
)

// StrongKey is the secret of a signature's strong sums ("sha256-aes-sized"):
// AES-128 keyed by Header.Seed. The strong sum of a block is a prefix of
//
//	S = E_K(E_K(leaf[0:16]) XOR leaf[16:32]),   leaf = SHA-256(block)
//
// a two-block CBC-MAC of the leaf, a PRF on its fixed 32 bytes (see doc.go,
// and strong.go for why it is keyed). A StrongKey is safe for concurrent
// use: the expanded AES key is only read.
type StrongKey struct {
	block cipher.Block
}

// NewStrongKey returns the StrongKey of a seed of SeedLen bytes.
func NewStrongKey(seed []byte) (*StrongKey, error) {
	if len(seed) != SeedLen {
		return nil, fmt.Errorf("signature seed of %d bytes, want %d", len(seed), SeedLen)
	}
	b, err := aes.NewCipher(seed)
	if err != nil {
		return nil, fmt.Errorf("signature seed: %w", err)
	}
	return &StrongKey{block: b}, nil
}

// StrongSummer computes strong sums for one goroutine. Its scratch block
// lives on the heap with it, so that passing it to the cipher, an
// interface, costs no allocation per block as a stack buffer would.
type StrongSummer struct {
	block cipher.Block
	buf   [aes.BlockSize]byte
}

// Summer returns a StrongSummer for one goroutine.
func (k *StrongKey) Summer() *StrongSummer {
	return &StrongSummer{block: k.block}
}

// Sum returns the strong sum S of a block whose SHA-256 is leaf, all 16
// bytes of it; a signature keeps its first StrongLen bytes. The result is
// valid until the next call.
func (s *StrongSummer) Sum(leaf *[sha256.Size]byte) []byte {
	b := s.buf[:]
	copy(b, leaf[:aes.BlockSize])
	s.block.Encrypt(b, b)
	for i := range b {
		b[i] ^= leaf[aes.BlockSize+i]
	}
	s.block.Encrypt(b, b)
	return b
}
