package merge

import (
	"io"

	"github.com/ibt-tools/ibt/internal/readahead"
)

// A big file's data is read from its input on a goroutine of its own,
// ahead of the merge, so that decompressing the input overlaps with
// writing the output: otherwise the merge's one goroutine does both in turn
// and keeps one of two cores idle half the time. It holds aheadBuffers
// buffers of aheadSize bytes.
const (
	aheadBuffers = 4
	aheadSize    = 256 << 10
	// aheadMin is the smallest file read ahead: a small one is read at
	// once, and would only pay for the goroutine.
	aheadMin = 1 << 20
)

// ahead returns r read ahead when size makes it worth it, and the function
// that stops the reading and must be called before r is read otherwise (or
// the archive it belongs to is read on).
func ahead(r io.Reader, size int64) (io.Reader, func()) {
	if size < aheadMin {
		return r, func() {}
	}
	ra := readahead.New(r, aheadBuffers, aheadSize)
	return ra, ra.Close
}
