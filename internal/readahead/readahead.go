// Package readahead reads a stream on a goroutine of its own, a few chunks
// ahead of its reader, so that producing the stream (decompressing an
// archive) overlaps with what the reader does with it (writing files, or
// compressing another archive): with one goroutine the two alternate, and
// one of two cores waits half the time.
package readahead

import (
	"errors"
	"io"
	"sync"
)

// Reader reads ahead of its caller. Close stops the reading goroutine.
type Reader struct {
	full   chan chunk
	free   chan []byte
	stop   chan struct{}
	done   chan struct{} // closed when the goroutine has returned
	closer sync.Once
	cur    []byte
	off    int
	err    error
}

type chunk struct {
	b   []byte
	err error
}

// ErrClosed is returned by a Read after Close.
var ErrClosed = errors.New("read after the read-ahead was closed")

// New starts reading r into chunks buffers of size bytes each.
func New(r io.Reader, chunks, size int) *Reader {
	a := &Reader{
		full: make(chan chunk, chunks),
		free: make(chan []byte, chunks),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range chunks {
		a.free <- make([]byte, size)
	}
	go a.fill(r)
	return a
}

// firstChunk bounds the first chunk: its reader waits for it before
// anything else can start, so it is handed on after a few blocks of the
// stream rather than a whole chunk.
const firstChunk = 16 << 10

// fill reads r into free chunks until r fails or ends, or Close. A chunk is
// full unless it is the first (firstChunk) or the last: r's errors,
// io.ErrUnexpectedEOF included, are passed on as they are.
func (a *Reader) fill(r io.Reader) {
	defer close(a.done)
	for first := true; ; first = false {
		var b []byte
		select {
		case b = <-a.free:
		case <-a.stop:
			return
		}
		end := len(b)
		if first {
			end = min(end, firstChunk)
		}
		n, err := 0, error(nil)
		for n < end && err == nil {
			var k int
			k, err = r.Read(b[n:end])
			n += k
		}
		select {
		case a.full <- chunk{b[:n], err}:
		case <-a.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read reads what the goroutine has read, in order, then its error.
func (a *Reader) Read(p []byte) (int, error) {
	select {
	case <-a.stop:
		return 0, ErrClosed
	default:
	}
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
		case <-a.stop:
			a.err = ErrClosed
		}
	}
	n := copy(p, a.cur[a.off:])
	a.off += n
	return n, nil
}

// Close stops the reading goroutine and waits until it no longer reads
// the stream, which may then be read otherwise. It may be called more than
// once.
func (a *Reader) Close() {
	a.closer.Do(func() { close(a.stop) })
	<-a.done
}
