package patch

import (
	"bytes"
	"os"
)

// A staged file keeps the holes of its new version: each aligned block of
// zeros is skipped instead of written, and the file is extended to its
// size at the end, so a filesystem with sparse files stores no zero
// blocks (elsewhere the skipped blocks read as zeros all the same). The
// content and its hash do not change; the zeros are hashed as they pass.
const sparseBlock = 4096

var zeroBlock [sparseBlock]byte

// writePiece bounds one write to a staged file. On Linux 6.18 (ext4, in a
// VM) writes of 1 MiB and more into new pages of the page cache ran several
// times slower than writes of 64 KiB, which go through small pages; the
// syscalls saved by larger writes are worth far less.
// Measurements: BENCHMARKS.md, "Measurements behind design choices".
// tmpfs has no such cost, and there a write of a whole chunk saves the
// syscalls, and the hand-offs between goroutines that each costs.
const writePiece = 64 << 10

// piece returns the bound of one write to f: a whole chunk on tmpfs.
func piece(f *os.File) int {
	if onTmpfs(f) {
		return chunkSize
	}
	return writePiece
}

// writebackChunk is how much of a staged file gets written before the
// disk is asked to start writing it back (see startWriteback), so the
// flush before the commit finds little left. Without the flush
// (--no-sync) it is started all the same: ext4 starts the writeback of a
// file renamed over another, all of it inside the rename, which made the
// commit of a large update twice as slow or more (see BENCHMARKS.md).
const writebackChunk = 16 << 20

// flushChunk is how much of a staged file gets written between the
// flushes started in the background while it is written (see
// sparseWriter.flush): the flush before the commit then waits for the
// file's last piece only, not for the disk to take in all of it: on a
// disk that caches writes, what an fsync waits for is the flush of that
// cache, which grows with what it took in since the last one (see
// BENCHMARKS.md, "Measurements behind design choices"). Tests make it
// smaller.
var flushChunk int64 = 64 << 20

// sparseWriter writes to f from offset 0, leaving holes for zero blocks.
type sparseWriter struct {
	f        *os.File
	off, end int64 // bytes given, and the end of those written
	started  int64 // the end of what writeback has been started for
	piece    int   // the most one write writes (see piece)
	// flush has what is written flushed to disk (flushData) on another
	// goroutine every flushChunk bytes of data, one flush at a time.
	// unflushed counts the bytes written since the last flush started;
	// flushing takes the error of the flush under way, nil if none is.
	flush     bool
	unflushed int64
	flushing  chan error
	flushErr  error
}

func isZero(b []byte) bool { return bytes.Equal(b, zeroBlock[:len(b)]) }

// Write writes p after what came before, one run of data blocks per call.
func (w *sparseWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), sparseBlock-int(w.off%sparseBlock))
		zero := isZero(p[:k])
		for k < len(p) {
			m := min(len(p)-k, sparseBlock)
			if isZero(p[k:k+m]) != zero {
				break
			}
			k += m
		}
		if !zero {
			if w.piece == 0 {
				w.piece = piece(w.f)
			}
			for i := 0; i < k; i += w.piece {
				if _, err := w.f.WriteAt(p[i:min(i+w.piece, k)], w.off+int64(i)); err != nil {
					return n - len(p), err
				}
			}
			w.end = w.off + int64(k)
			if w.end-w.started >= writebackChunk {
				startWriteback(w.f, w.started, w.end-w.started)
				w.started = w.end
			}
			if w.unflushed += int64(k); w.flush && w.unflushed >= flushChunk {
				w.startFlush()
			}
		}
		w.off += int64(k)
		p = p[k:]
	}
	return n, nil
}

// startFlush starts a flush of what is written, unless one is under way.
func (w *sparseWriter) startFlush() {
	if w.flushing != nil {
		select {
		case err := <-w.flushing:
			w.flushing = nil
			if w.flushErr == nil {
				w.flushErr = err
			}
		default:
			return
		}
	}
	w.unflushed = 0
	done := make(chan error, 1)
	w.flushing = done
	f := w.f
	go func() { done <- flushWritten(f) }()
}

// flushWritten flushes what is written of f (or has faults.flush stand for
// that).
func flushWritten(f *os.File) error {
	if faults.flush != nil {
		return faults.flush(f)
	}
	return flushData(f)
}

// wait waits for the flush under way, if any, and returns the first error
// of a flush. The error must not be dropped: the flush has reported it,
// and a later fsync of the file may not report it again.
func (w *sparseWriter) wait() error {
	if w.flushing != nil {
		if err := <-w.flushing; w.flushErr == nil {
			w.flushErr = err
		}
		w.flushing = nil
	}
	return w.flushErr
}

// finish extends the file over a final hole, and returns the error of a
// flush started while it was written.
func (w *sparseWriter) finish() error {
	if err := w.wait(); err != nil {
		return err
	}
	if w.end < w.off {
		return w.f.Truncate(w.off)
	}
	return nil
}
