package merge

import "io"

// readAhead reads a big file's data from an input in a goroutine of its own,
// ahead of the merge, so that decompressing the input overlaps with
// writing the output: otherwise the merge's one goroutine does both in turn
// and keeps one of two cores idle half the time. It holds aheadBuffers
// buffers of aheadSize bytes.
type readAhead struct {
	full chan chunk
	free chan []byte
	stop chan struct{}
	done chan struct{}
	buf  []byte // the chunk being read, given back once read
	rest []byte // its bytes not yet read
	err  error
}

type chunk struct {
	b   []byte
	n   int
	err error
}

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
	ra := &readAhead{full: make(chan chunk, aheadBuffers), free: make(chan []byte, aheadBuffers),
		stop: make(chan struct{}), done: make(chan struct{})}
	for range aheadBuffers {
		ra.free <- make([]byte, aheadSize)
	}
	go ra.run(r)
	return ra, ra.close
}

func (ra *readAhead) run(r io.Reader) {
	defer close(ra.done)
	for {
		var b []byte
		select {
		case b = <-ra.free:
		case <-ra.stop:
			return
		}
		n, err := io.ReadFull(r, b)
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		select {
		case ra.full <- chunk{b, n, err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.rest) == 0 {
		if ra.err != nil {
			return 0, ra.err
		}
		if ra.buf != nil {
			ra.free <- ra.buf
			ra.buf = nil
		}
		c := <-ra.full
		ra.buf, ra.rest, ra.err = c.b, c.b[:c.n], c.err
	}
	n := copy(p, ra.rest)
	ra.rest = ra.rest[n:]
	return n, nil
}

// close stops the reading goroutine and waits for it to end.
func (ra *readAhead) close() {
	close(ra.stop)
	<-ra.done
}
