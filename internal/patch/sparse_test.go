package patch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
)

// TestSparseWriterKeepsTheContent writes content of every shape through
// the sparse writer, in writes of every size, and reads back the same.
func TestSparseWriterKeepsTheContent(t *testing.T) {
	block := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	contents := map[string][]byte{
		"empty":              nil,
		"all zeros":          block(0, 3*sparseBlock+7),
		"data only":          block(1, 2*sparseBlock+1),
		"final hole":         cat(block(1, 10), block(0, 2*sparseBlock)),
		"hole in the middle": cat(block(1, sparseBlock), block(0, 3*sparseBlock), block(2, 5)),
		"zeros unaligned":    cat(block(1, 100), block(0, sparseBlock), block(3, 100)),
		"short zero tail":    cat(block(1, sparseBlock), block(0, 10)),
	}
	for name, want := range contents {
		for _, chunk := range []int{1, 1000, sparseBlock, 3*sparseBlock + 5, 1 << 20} {
			f, err := os.Create(filepath.Join(t.TempDir(), "f"))
			if err != nil {
				t.Fatal(err)
			}
			w := &sparseWriter{f: f}
			for rest := want; len(rest) > 0; rest = rest[min(chunk, len(rest)):] {
				if _, err := w.Write(rest[:min(chunk, len(rest))]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.finish(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			got, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s in writes of %d bytes: read back %d bytes differing from the %d written", name, chunk, len(got), len(want))
			}
		}
	}
}

// TestSparseWriterFlushesAsItWrites has a flush start every flushChunk
// bytes of data written, after that data is in the file, and keeps the
// first error of a flush for finish: a flush that failed has reported its
// error, which a later fsync of the file may not report again.
func TestSparseWriterFlushesAsItWrites(t *testing.T) {
	defer func(n int64) { flushChunk = n }(flushChunk)
	flushChunk = 4 * sparseBlock
	broken := &os.PathError{Op: "fdatasync", Path: "staged", Err: syscall.EIO}
	for _, failAt := range []int{0, 2} {
		var mu sync.Mutex
		var sizes []int64
		faults.flush = func(f *os.File) error {
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			sizes = append(sizes, fi.Size())
			if len(sizes) == failAt {
				return broken
			}
			return nil
		}
		f, err := os.Create(filepath.Join(t.TempDir(), "f"))
		if err != nil {
			t.Fatal(err)
		}
		// 10 chunks of data with a hole of 3 between, written a block at
		// a time, each flush waited for before the next write
		data := bytes.Repeat([]byte{7}, int(10*flushChunk))
		want := slices.Concat(data[:5*flushChunk], make([]byte, 3*flushChunk), data[5*flushChunk:])
		w := &sparseWriter{f: f, flush: true}
		for rest := want; len(rest) > 0; rest = rest[sparseBlock:] {
			if _, err := w.Write(rest[:sparseBlock]); err != nil {
				t.Fatal(err)
			}
			w.wait()
		}
		err = w.finish()
		f.Close()
		faults.flush = nil
		wantSizes := []int64{}
		for _, end := range []int64{1, 2, 3, 4, 5, 9, 10, 11, 12, 13} {
			wantSizes = append(wantSizes, end*flushChunk)
		}
		if !slices.Equal(sizes, wantSizes) {
			t.Errorf("flushes found the file at %v bytes, want %v", sizes, wantSizes)
		}
		if failAt > 0 && !errors.Is(err, syscall.EIO) || failAt == 0 && err != nil {
			t.Errorf("a flush failing at %d: finish = %v", failAt, err)
		}
		got, rerr := os.ReadFile(f.Name())
		if rerr != nil {
			t.Fatal(rerr)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("read back %d bytes differing from the %d written", len(got), len(want))
		}
	}
}
