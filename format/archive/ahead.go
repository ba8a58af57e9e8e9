package archive

import (
	"errors"
	"io"
	"sync"
)

// aheadReader decompresses on a goroutine of its own, a few chunks ahead
// of the reader, so that a consumer that spends its time in system calls
// (ibt-patch writing many small files) overlaps them with the decoding,
// as `tar xzf` does with its gzip process. Close stops the goroutine,
// which otherwise waits for the next Read.
type aheadReader struct {
	full chan aheadChunk
	free chan []byte
	done chan struct{}
	stop sync.Once
	cur  []byte
	off  int
	err  error
}

type aheadChunk struct {
	b   []byte
	err error
}

const (
	aheadChunks    = 4
	aheadChunkSize = 256 << 10
)

var errReaderClosed = errors.New("archive: read after Close")

func newAheadReader(r io.Reader) *aheadReader {
	a := &aheadReader{
		full: make(chan aheadChunk, aheadChunks),
		free: make(chan []byte, aheadChunks),
		done: make(chan struct{}),
	}
	for range aheadChunks {
		a.free <- make([]byte, aheadChunkSize)
	}
	go a.fill(r)
	return a
}

// fill reads r into free chunks until r fails or ends, or Close.
func (a *aheadReader) fill(r io.Reader) {
	for {
		var b []byte
		select {
		case b = <-a.free:
		case <-a.done:
			return
		}
		n, err := 0, error(nil)
		for n < len(b) && err == nil {
			var k int
			k, err = r.Read(b[n:])
			n += k
		}
		select {
		case a.full <- aheadChunk{b[:n], err}:
		case <-a.done:
			return
		}
		if err != nil {
			return
		}
	}
}

func (a *aheadReader) Read(p []byte) (int, error) {
	for a.off == len(a.cur) {
		if a.err != nil {
			return 0, a.err
		}
		if a.cur != nil {
			a.free <- a.cur[:cap(a.cur)] // never blocks: there are as many slots as chunks
			a.cur, a.off = nil, 0
		}
		select {
		case c := <-a.full:
			a.cur, a.off, a.err = c.b, 0, c.err
		case <-a.done:
			a.err = errReaderClosed
		}
	}
	n := copy(p, a.cur[a.off:])
	a.off += n
	return n, nil
}

func (a *aheadReader) close() {
	a.stop.Do(func() { close(a.done) })
}
