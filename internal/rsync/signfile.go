package rsync

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/ibt-tools/ibt/format"
)

// signSegment is the length of the part of a file one SignFile worker hashes
// at a time: a LeafPipe run, a multiple of every block size.
const signSegment = LeafRunSize

// SignFile is Sign for content that can be read at any offset, such as an
// open file. A file of more than one segment is cut into segments of whole
// blocks read and hashed by a LeafPipe on up to workers goroutines at once
// (and one more, reading ahead); the leaves go into the file hash in order.
// The result is byte for byte that of Sign. It returns an error wrapping
// ErrSizeChanged if r holds fewer or more than size bytes.
func SignFile(r io.ReaderAt, size int64, workers int, key *format.StrongKey) (hash, sig []byte, err error) {
	if size < 0 {
		return nil, nil, fmt.Errorf("sign: negative size %d", size)
	}
	if format.Signed(size) && key == nil {
		return nil, nil, errNoKey
	}
	nseg := int((size + signSegment - 1) / signSegment)
	workers = max(1, min(workers, nseg))
	if workers == 1 {
		// One goroutine: the streaming path, which also probes past size.
		return Sign(io.NewSectionReader(r, 0, math.MaxInt64), size, key)
	}
	opt := LeafOptions{Runs: workers + 1}
	if format.Signed(size) {
		opt.Key = key
	}
	p := NewLeafPipe(size, format.BlockSize(size), opt)
	p.ReadAll(r)
	if hash, sig, err = p.Sum(); err != nil {
		var fd *findDataError
		if errors.Is(err, ErrSizeChanged) || errors.As(err, &fd) {
			return nil, nil, fmt.Errorf("sign: %w", err)
		}
		return nil, nil, fmt.Errorf("sign: read: %w", err)
	}
	var probe [1]byte
	switch n, err := r.ReadAt(probe[:], size); {
	case n > 0:
		return nil, nil, fmt.Errorf("sign: more than %d bytes: %w", size, ErrSizeChanged)
	case err != nil && !errors.Is(err, io.EOF):
		return nil, nil, fmt.Errorf("sign: read: %w", err)
	}
	return hash, sig, nil
}
