package patch

import (
	"crypto/sha256"
	"io"
	"runtime"
	"sync"

	"github.com/ibt-tools/ibt/format"
)

// A new version is written to its staging file in chunks of chunkSize
// bytes. Each chunk is written out by one goroutine, in order, and its
// blocks hashed by another, while the next chunk is filled: the
// "sha256-blocks" leaves are independent, only their outer hash is
// sequential. At most maxInFlight chunks are held, so memory stays bounded
// whatever the file's size.
const chunkSize = 4 << 20

var maxInFlight = min(runtime.GOMAXPROCS(0), 4) + 1

// chunkPool recycles full-size chunk buffers between files.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

// hashWriter writes content to out (nil in a dry run) in large writes and
// computes its rsync file hash (see rsync.NewFileHash) with the blocks
// hashed in parallel.
type hashWriter struct {
	out     io.Writer
	bs      int
	leaves  *format.FileHasher
	buf     []byte
	pooled  bool
	pending []*leafJob
	err     error
	flushed int64 // the bytes handed on so far
	// base, if set, takes the leaves of the chunks in order, to hash the
	// update's base with them (see baseLeaves).
	base *baseLeaves
	// writes takes chunks to the goroutine that writes them to out, once
	// a file has more than one; wdone is closed when that goroutine ends
	// (see close).
	writes chan *leafJob
	wdone  chan struct{}
}

// leafJob hashes the blocks of one chunk, and has it written.
type leafJob struct {
	data    []byte
	off     int64 // where data starts in the file
	pooled  bool
	leaves  []byte
	done    chan struct{} // closed once hashed
	written chan struct{} // closed once written (or not, after an error); nil if written inline
	werr    error         // the error writing this chunk or an earlier one
}

func newHashWriter(out io.Writer, size int64) *hashWriter {
	bs := format.BlockSize(size)
	h := &hashWriter{out: out, bs: bs, leaves: format.NewFileHasher(size, bs)}
	// A chunk holds whole blocks, so that a block never spans two chunks.
	chunk := max(chunkSize/bs*bs, bs)
	if size >= int64(chunk) && chunk == chunkSize {
		h.buf, h.pooled = (*chunkPool.Get().(*[]byte))[:0], true
	} else {
		// never empty, so that Write always makes progress
		h.buf = make([]byte, 0, max(int(min(size, int64(chunk))), 64))
	}
	return h
}

// Write buffers p, writing and hashing each full chunk. An error writing
// out is returned as a *writeError and ends the writer.
func (h *hashWriter) Write(p []byte) (int, error) {
	if h.err != nil {
		return 0, h.err
	}
	n := len(p)
	for len(p) > 0 {
		if len(h.buf) == cap(h.buf) {
			if err := h.flush(false); err != nil {
				return n - len(p), err
			}
		}
		k := copy(h.buf[len(h.buf):cap(h.buf)], p)
		h.buf = h.buf[:len(h.buf)+k]
		p = p[k:]
	}
	return n, nil
}

// Buffer returns the free end of the chunk being filled, writing the chunk
// out first if it is full (see rsync.BufferWriter).
func (h *hashWriter) Buffer() ([]byte, error) {
	if h.err != nil {
		return nil, h.err
	}
	if len(h.buf) == cap(h.buf) {
		if err := h.flush(false); err != nil {
			return nil, err
		}
	}
	return h.buf[len(h.buf):cap(h.buf)], nil
}

// Commit adds n bytes written into the last Buffer to the chunk.
func (h *hashWriter) Commit(n int) { h.buf = h.buf[:len(h.buf)+n] }

// flush hands the buffered chunk to the writer and to a worker to hash;
// a file that fits in one chunk is written and hashed right here.
func (h *hashWriter) flush(final bool) error {
	if h.err != nil {
		return h.err
	}
	if len(h.buf) == 0 {
		return nil
	}
	j := &leafJob{data: h.buf, off: h.flushed, pooled: h.pooled, done: make(chan struct{})}
	h.flushed += int64(len(h.buf))
	inline := final && len(h.pending) == 0 && h.writes == nil
	if h.out != nil && inline {
		if _, err := h.out.Write(h.buf); err != nil {
			h.err = &writeError{err}
			return h.err
		}
	} else if h.out != nil {
		h.startWriter()
		j.written = make(chan struct{})
		h.writes <- j // never blocks: it holds as many as pending may
	}
	h.buf, h.pooled = nil, false
	if inline {
		j.run(h.bs)
	} else {
		go j.run(h.bs)
	}
	h.pending = append(h.pending, j)
	if len(h.pending) >= maxInFlight {
		h.collect(h.pending[0])
		h.pending = h.pending[1:]
	}
	if !final {
		h.buf, h.pooled = (*chunkPool.Get().(*[]byte))[:0], true
		if cap(h.buf) < cap(j.data) {
			h.buf, h.pooled = make([]byte, 0, cap(j.data)), false
		}
	}
	return nil
}

func (j *leafJob) run(bs int) {
	defer close(j.done)
	d := j.data
	j.leaves = make([]byte, 0, (len(d)+bs-1)/bs*sha256.Size)
	for len(d) > 0 {
		k := min(bs, len(d))
		leaf := sha256.Sum256(d[:k])
		j.leaves = append(j.leaves, leaf[:]...)
		d = d[k:]
	}
}

// startWriter starts the goroutine that writes chunks to out in order.
// After an error it writes nothing more and passes the error on.
func (h *hashWriter) startWriter() {
	if h.writes != nil {
		return
	}
	h.writes = make(chan *leafJob, maxInFlight)
	h.wdone = make(chan struct{})
	go func() {
		defer close(h.wdone)
		var err error
		for j := range h.writes {
			if err == nil {
				_, err = h.out.Write(j.data)
			}
			j.werr = err
			close(j.written)
		}
	}()
}

// collect waits for j to be hashed and written, and adds its leaves to the
// outer hash, in order. An error writing it ends the writer.
func (h *hashWriter) collect(j *leafJob) {
	<-j.done
	if j.written != nil {
		<-j.written
		if j.werr != nil && h.err == nil {
			h.err = &writeError{j.werr}
		}
	}
	h.leaves.AddLeaves(j.leaves)
	if h.base != nil {
		h.base.newLeaves(j.off, j.leaves)
	}
	j.release()
}

// Sum writes what is buffered and returns the file hash of everything
// written. The writer must not be used afterwards.
func (h *hashWriter) Sum() ([]byte, error) {
	if h.err != nil {
		return nil, h.err
	}
	if err := h.flush(true); err != nil {
		return nil, err
	}
	for _, j := range h.pending {
		h.collect(j)
	}
	h.pending = nil
	if h.err != nil {
		return nil, h.err
	}
	return h.leaves.Sum(), nil
}

// close waits for every chunk still being written or hashed and ends the
// writer: out must not be closed before, whether Sum was called or not.
func (h *hashWriter) close() {
	for _, j := range h.pending {
		h.collect(j)
	}
	h.pending = nil
	if h.writes != nil {
		close(h.writes)
		<-h.wdone
		h.writes = nil
	}
}

// hashReaderAt returns the file hash of the size bytes of r, and passes
// the leaves on to base if it is not nil. Chunks are read and hashed on
// other cores, several at once, so a disk has reads queued while the cores
// hash. It reports io.ErrUnexpectedEOF if r holds fewer bytes.
func hashReaderAt(r io.ReaderAt, size int64, base *baseLeaves) ([]byte, error) {
	bs := format.BlockSize(size)
	chunk := int64(max(chunkSize/bs*bs, bs))
	h := format.NewFileHasher(size, bs)
	var queue []*leafJob
	var err error
	collect := func() {
		j := queue[0]
		queue = queue[1:]
		<-j.done
		if j.werr != nil && err == nil {
			err = j.werr
		}
		if err == nil {
			h.AddLeaves(j.leaves)
			if base != nil {
				base.newLeaves(j.off, j.leaves)
			}
		}
		j.release()
	}
	for off := int64(0); off < size && err == nil; off += chunk {
		queue = append(queue, readLeaves(r, off, min(chunk, size-off), bs))
		if len(queue) >= maxInFlight {
			collect()
		}
	}
	for len(queue) > 0 {
		collect()
	}
	if err != nil {
		return nil, err
	}
	return h.Sum(), nil
}

// readLeaves reads the n bytes of r from off and hashes their blocks of
// bs bytes on another goroutine; the job's werr is the error reading.
func readLeaves(r io.ReaderAt, off, n int64, bs int) *leafJob {
	j := &leafJob{off: off, done: make(chan struct{})}
	if n == chunkSize {
		j.data, j.pooled = (*chunkPool.Get().(*[]byte))[:chunkSize], true
	} else {
		j.data = make([]byte, n)
	}
	go func() {
		if k, err := r.ReadAt(j.data, off); k < len(j.data) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			j.werr = err
			close(j.done)
			return
		}
		j.run(bs)
	}()
	return j
}

// release gives a pooled chunk buffer back.
func (j *leafJob) release() {
	if j.pooled {
		b := j.data[:0]
		chunkPool.Put(&b)
	}
	j.data, j.leaves = nil, nil
}
