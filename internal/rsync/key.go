package rsync

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"

	"github.com/ibt-tools/ibt/format"
)

// Key is the secret of a signature's strong sums ("sha256-aes-sized"): AES-128
// keyed by the index's seed. The strong sum of a block is a prefix of
//
//	S = E_K(E_K(leaf[0:16]) XOR leaf[16:32]),   leaf = SHA-256(block)
//
// a two-block CBC-MAC of the leaf, a PRF on its fixed 32 bytes. Without the
// seed nobody can predict a block's strong sum, so nobody can craft an old
// block and a new window whose sums collide: a match that is not a real one
// stays a matter of chance (format/strong.go). A Key is safe for concurrent
// use: the expanded AES key is only read.
type Key struct {
	block cipher.Block
}

// NewKey returns the Key of a seed of format.SeedLen bytes.
func NewKey(seed []byte) (*Key, error) {
	if len(seed) != format.SeedLen {
		return nil, fmt.Errorf("signature seed of %d bytes, want %d", len(seed), format.SeedLen)
	}
	b, err := aes.NewCipher(seed)
	if err != nil {
		return nil, fmt.Errorf("signature seed: %w", err)
	}
	return &Key{block: b}, nil
}

// strongSummer computes keyed strong sums for one goroutine. Its scratch
// block lives on the heap with it, so that passing it to the cipher, an
// interface, costs no allocation per block as a stack buffer would.
type strongSummer struct {
	block cipher.Block
	buf   [aes.BlockSize]byte
}

// summer returns a strongSummer for one goroutine.
func (k *Key) summer() *strongSummer {
	return &strongSummer{block: k.block}
}

// sum returns the keyed strong sum of a block whose SHA-256 is leaf, all 16
// bytes of it; a signature keeps a prefix. The result is valid until the
// next call.
func (s *strongSummer) sum(leaf *[sha256.Size]byte) []byte {
	b := s.buf[:]
	copy(b, leaf[:aes.BlockSize])
	s.block.Encrypt(b, b)
	for i := range b {
		b[i] ^= leaf[aes.BlockSize+i]
	}
	s.block.Encrypt(b, b)
	return b
}
