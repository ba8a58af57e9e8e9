package patch

import (
	"errors"
	"io"
	"runtime"
	"sync"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/rsync"
)

// A new version is written to its staging file in chunks of chunkSize
// bytes. Each chunk is written out by one goroutine, in order, and its
// blocks hashed by another, while the next chunk is filled: the
// "sha256-blocks" leaves are independent, only their outer hash is
// sequential. At most maxInFlight chunks are held, so memory stays bounded
// whatever the file's size. Each chunk buffer is new memory, whose first
// touch costs a page fault a page; 1 MiB chunks fault a quarter as many
// pages as 4 MiB ones and stay nearer the caches, which made the durable
// patch of the db corpus faster (BENCHMARKS.md, "Measurements behind design
// choices").
const chunkSize = 1 << 20

var maxInFlight = min(runtime.GOMAXPROCS(0), 4) + 1

// chunkPool recycles full-size chunk buffers between files.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

// hashWriter writes content to out (nil in a dry run) in large writes and
// computes its rsync file hash with an rsync.LeafPipe, the blocks hashed
// on other cores while the next chunk is filled.
type hashWriter struct {
	out    io.Writer
	bs     int
	leaves *rsync.LeafPipe
	buf    []byte
	pooled bool
	// home, if set, is the pooled chunk that buf, a file's one chunk, was
	// cut from, to go back once the chunk is written
	home   *[]byte
	err    error
	single bool // no chunk handed on yet
	// base, if set, takes the leaves of the chunks in order, to hash the
	// update's base with them (see baseLeaves); tee, to keep them.
	base *baseLeaves
	tee  *leavesTee
	// writes takes chunks to the goroutine that writes them to out, once
	// a file has more than one; wdone is closed when that goroutine ends
	// (see close).
	writes chan *chunkWrite
	wdone  chan struct{}
}

// chunkWrite is a chunk on its way to out.
type chunkWrite struct {
	data    []byte
	written chan struct{} // closed once written (or not, after an error)
	err     error         // the error writing this chunk or an earlier one
}

func newHashWriter(out io.Writer, size int64) *hashWriter {
	bs := format.BlockSize(size)
	h := &hashWriter{out: out, bs: bs, single: true}
	h.leaves = rsync.NewLeafPipe(size, bs, rsync.LeafOptions{Runs: maxInFlight, OnLeaves: h.newLeaves})
	// A chunk holds whole blocks, so that a block never spans two chunks.
	chunk := max(chunkSize/bs*bs, bs)
	// never empty, so that Write always makes progress; a file of one
	// chunk has one byte more, so that a reader into Buffer sees its end
	// without handing the chunk on first
	n := max(int(min(size+1, int64(chunk))), 64)
	switch {
	case size >= int64(chunk) && chunk == chunkSize:
		h.buf, h.pooled = (*chunkPool.Get().(*[]byte))[:0], true
	case n <= chunkSize:
		// a file of one chunk: memory touched before, where a buffer new
		// for every file cost a page fault every 4 KiB
		h.home = chunkPool.Get().(*[]byte)
		h.buf = (*h.home)[:0:n]
	default:
		h.buf = make([]byte, 0, n)
	}
	return h
}

// newLeaves passes the leaves of the chunk at off on to tee and base.
func (h *hashWriter) newLeaves(off int64, leaves []byte) {
	h.tee.add(leaves)
	if h.base != nil {
		h.base.newLeaves(off, leaves)
	}
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

// flush hands the buffered chunk to the writer and to the leaf pipe; a
// file that fits in one chunk is written and hashed right here.
func (h *hashWriter) flush(final bool) error {
	if h.err != nil {
		return h.err
	}
	if len(h.buf) == 0 {
		return nil
	}
	data, pooled, home := h.buf, h.pooled, h.home
	h.buf, h.pooled, h.home = nil, false, nil
	if final && h.single {
		if h.out != nil {
			if _, err := h.out.Write(data); err != nil {
				h.err = &writeError{err}
				return h.err
			}
		}
		h.leaves.Hash(data)
		if home != nil {
			chunkPool.Put(home)
		}
		return nil
	}
	h.single = false
	var cw *chunkWrite
	if h.out != nil {
		h.startWriter()
		cw = &chunkWrite{data: data, written: make(chan struct{})}
		h.writes <- cw // never blocks: it holds as many as the pipe has in work
	}
	if err := h.leaves.Go(data, func() error {
		var err error
		if cw != nil {
			<-cw.written
			if cw.err != nil {
				err = &writeError{cw.err}
			}
		}
		if pooled {
			b := data[:0]
			chunkPool.Put(&b)
		}
		return err
	}); err != nil {
		h.err = err
		return err
	}
	if !final {
		h.buf, h.pooled = (*chunkPool.Get().(*[]byte))[:0], true
		if cap(h.buf) < cap(data) {
			h.buf, h.pooled = make([]byte, 0, cap(data)), false
		}
	}
	return nil
}

// startWriter starts the goroutine that writes chunks to out in order.
// After an error it writes nothing more and passes the error on.
func (h *hashWriter) startWriter() {
	if h.writes != nil {
		return
	}
	h.writes = make(chan *chunkWrite, maxInFlight)
	h.wdone = make(chan struct{})
	go func() {
		defer close(h.wdone)
		var err error
		for cw := range h.writes {
			if err == nil {
				_, err = h.out.Write(cw.data)
			}
			cw.err = err
			close(cw.written)
		}
	}()
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
	sum, _, err := h.leaves.Sum()
	if err != nil {
		h.err = err
		return nil, err
	}
	return sum, nil
}

// close waits for every chunk still being written or hashed and ends the
// writer: out must not be closed before, whether Sum was called or not.
func (h *hashWriter) close() {
	h.leaves.Close()
	if h.writes != nil {
		close(h.writes)
		<-h.wdone
		h.writes = nil
	}
}

// hashReaderAt returns the file hash of the size bytes of r, and passes
// the leaves on to base and tee if they are not nil. Chunks are read and
// hashed on other cores, several at once, so a disk has reads queued while
// the cores hash. It reports io.ErrUnexpectedEOF if r holds fewer bytes.
func hashReaderAt(r io.ReaderAt, size int64, base *baseLeaves, tee *leavesTee) ([]byte, error) {
	p := rsync.NewLeafPipe(size, format.BlockSize(size), rsync.LeafOptions{
		Runs: maxInFlight,
		OnLeaves: func(off int64, leaves []byte) {
			tee.add(leaves)
			if base != nil {
				base.newLeaves(off, leaves)
			}
		},
	})
	p.ReadAll(r)
	sum, _, err := p.Sum()
	if err != nil {
		return nil, readErr(err)
	}
	return sum, nil
}

// readErr is the error of a LeafPipe reading a file: a file found shorter
// than its size is io.ErrUnexpectedEOF, as for the callers it changed
// while it was read.
func readErr(err error) error {
	if errors.Is(err, rsync.ErrSizeChanged) {
		return io.ErrUnexpectedEOF
	}
	return err
}
