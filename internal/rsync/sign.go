package rsync

import (
	"errors"
	"fmt"
	"io"

	"github.com/ibt-tools/ibt/format"
)

// ErrSizeChanged reports content shorter or longer than the size it was
// announced with, typically a file that changed while it was read.
var ErrSizeChanged = errors.New("size changed while reading")

// errNoKey reports a signature asked for without its key.
var errNoKey = errors.New("sign: a signature needs a key (the index's seed)")

// signChunk is about how much content Sign reads at once.
const signChunk = 1 << 20

// Sign reads exactly size bytes of content from r and returns the file hash
// and, if format.Signed(size), the signature: per block a 4-byte big-endian
// weak sum then format.StrongLen(size, format.BlockSize(size)) bytes of the
// block's strong sum under key (see format.StrongKey). Each byte is hashed
// once: the block's SHA-256 is both the leaf of the file hash and what the
// strong sum is keyed from. key may be nil for a file that is not Signed. It returns an error wrapping
// ErrSizeChanged if r yields fewer or more than size bytes.
func Sign(r io.Reader, size int64, key *format.StrongKey) (hash, sig []byte, err error) {
	return sign(r, size, format.BlockSize(size), format.Signed(size), key)
}

// sign is Sign with a chosen block size, for tests.
func sign(r io.Reader, size int64, blockSize int, signed bool, key *format.StrongKey) (hash, sig []byte, err error) {
	if size < 0 {
		return nil, nil, fmt.Errorf("sign: negative size %d", size)
	}
	if signed && key == nil {
		return nil, nil, errNoKey
	}
	var opt LeafOptions
	if signed {
		opt.Key = key
	}
	p := NewLeafPipe(size, blockSize, opt)
	chunk := int64(blockSize) * max(1, signChunk/int64(blockSize))
	buf := make([]byte, min(chunk, format.BlockCount(size, blockSize)*int64(blockSize)))
	for done := int64(0); done < size; {
		want := min(int64(len(buf)), size-done)
		n, err := io.ReadFull(r, buf[:want])
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, nil, fmt.Errorf("sign: got %d of %d bytes: %w", done+int64(n), size, ErrSizeChanged)
			}
			return nil, nil, fmt.Errorf("sign: read: %w", err)
		}
		done += int64(n)
		p.Hash(buf[:n])
	}
	var probe [1]byte
	switch n, err := io.ReadFull(r, probe[:]); {
	case n > 0:
		return nil, nil, fmt.Errorf("sign: more than %d bytes: %w", size, ErrSizeChanged)
	case err != nil && !errors.Is(err, io.EOF):
		return nil, nil, fmt.Errorf("sign: read: %w", err)
	}
	return p.Sum()
}
