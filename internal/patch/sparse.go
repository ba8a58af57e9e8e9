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

// sparseWriter writes to f from offset 0, leaving holes for zero blocks.
type sparseWriter struct {
	f        *os.File
	off, end int64 // bytes given, and the end of those written
	started  int64 // the end of what writeback has been started for
	piece    int   // the most one write writes (see piece)
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
		}
		w.off += int64(k)
		p = p[k:]
	}
	return n, nil
}

// finish extends the file over a final hole.
func (w *sparseWriter) finish() error {
	if w.end < w.off {
		return w.f.Truncate(w.off)
	}
	return nil
}
