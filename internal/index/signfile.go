package index

import (
	"errors"
	"fmt"
	"io"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/hint"
	"github.com/ibt-tools/ibt/internal/rsync"
	"github.com/ibt-tools/ibt/internal/tree"
)

// signFileWorkers fills in the content hash and block signatures of a file
// entry, its strong sums keyed by key, with at most workers goroutines hashing one large file in parallel
// segments. Small files take one: the sign pipeline already hashes several
// at once, while a single large file would otherwise leave cores idle.
// progress is told of the bytes as they are read, so that a bar moves
// during a large file too.
func signFileWorkers(files *tree.Files, e *format.Entry, workers int, key *format.StrongKey, progress func(int64)) error {
	f, fi, err := files.Open(e.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi.Size() != e.Size || fi.ModTime().UnixNano() != e.MTime {
		return changedWhileReading(e.Path)
	}
	if testHookReading != nil {
		testHookReading(e.Path)
	}
	e.BlockSize = uint32(format.BlockSize(e.Size))
	e.Hash, e.Sig, err = rsync.SignFile(withProgress(endAt(tree.SparseReader(f), e.Size), progress), e.Size, workers, key)
	if errors.Is(err, rsync.ErrSizeChanged) {
		return changedWhileReading(e.Path)
	}
	if err != nil {
		return fmt.Errorf("failed to read %q: %w", e.Path, err)
	}
	after, err := f.Stat()
	if err != nil {
		return fmt.Errorf("failed to read %q: %w", e.Path, err)
	}
	if after.Size() != e.Size || after.ModTime().UnixNano() != e.MTime {
		return changedWhileReading(e.Path)
	}
	return nil
}

// testHookReading, set by tests only, is called with a file's path as its
// content is about to be read: a test writes to the file there to play a
// program that writes it while ibt-sign reads it.
var testHookReading func(path string)

// progressReaderAt reports the bytes read through it; ReadAt may be called
// from several goroutines, as progress may.
type progressReaderAt struct {
	r        io.ReaderAt
	progress func(int64)
}

func (p *progressReaderAt) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(b, off)
	p.progress(int64(n))
	return n, err
}

// endReaderAt reads r below size, the size of the open file as its fstat
// gave it, and answers a read at size or beyond as the end of the file
// without a system call. SignFile reads there only to probe for content
// beyond size; signFileWorkers's fstat after the read catches a file that
// grew all the same, and on a tree of small files the probe was one system
// call in ten.
type endReaderAt struct {
	r    io.ReaderAt
	size int64
}

func (e *endReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if off >= e.size && len(b) > 0 {
		return 0, io.EOF
	}
	return e.r.ReadAt(b, off)
}

// endAt wraps r in an endReaderAt that still finds r's data if r can.
func endAt(r io.ReaderAt, size int64) io.ReaderAt {
	e := &endReaderAt{r, size}
	if df, ok := r.(rsync.DataFinder); ok {
		return struct {
			*endReaderAt
			rsync.DataFinder
		}{e, df}
	}
	return e
}

// withProgress wraps r in a progressReaderAt that still finds r's data if
// r can (see rsync.DataFinder).
func withProgress(r io.ReaderAt, progress func(int64)) io.ReaderAt {
	p := &progressReaderAt{r, progress}
	if df, ok := r.(rsync.DataFinder); ok {
		return struct {
			*progressReaderAt
			rsync.DataFinder
		}{p, df}
	}
	return p
}

func changedWhileReading(path string) error {
	return hint.With(fmt.Errorf("%q %w", path, errChangedWhileReading),
		"run the command again once the file is no longer being written")
}
