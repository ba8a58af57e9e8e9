package merge

import (
	"fmt"
	"io"
	"sync"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

// ReadOnce returns an Input of the archive read from src that reads src
// once, in order, however often the merge opens it: what one reader of
// the Input reads first is kept in a temporary file in tempDir (the
// system's if "") for the others. A later archive is opened twice (see
// Input), and one given as a pipe, such as a download, can only be read
// once; the later archives of a chain are the small ones. close releases
// the temporary file and src.
func ReadOnce(name string, src io.ReadCloser, tempDir string) (in Input, close func(), err error) {
	t, err := format.CreateTempFile(tempDir, "ibt-merge-input-*")
	if err != nil {
		return Input{}, nil, fmt.Errorf("failed to create a temporary file: %w", err)
	}
	s := &onceSpool{src: src, t: t}
	in = Input{Name: name, Open: func() (*archive.Reader, io.Closer, error) {
		r, err := archive.NewReader(&onceReader{s: s})
		if err != nil {
			return nil, nil, fmt.Errorf("failed to read archive %q: %w", name, err)
		}
		return r, io.NopCloser(nil), nil
	}}
	return in, func() { t.Close(); src.Close() }, nil
}

// onceSpool is src as read so far, kept in t.
type onceSpool struct {
	mu  sync.Mutex
	src io.Reader
	t   *format.TempFile
	n   int64 // bytes of src read, and kept in t
	err error // src's error or end, once met
	buf []byte
}

// readAt reads into p what src holds at off, reading src on as far as
// needed.
func (s *onceSpool) readAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for off >= s.n && s.err == nil {
		if s.buf == nil {
			s.buf = make([]byte, 256<<10)
		}
		k, err := s.src.Read(s.buf)
		if k > 0 {
			if _, werr := s.t.WriteAt(s.buf[:k], s.n); werr != nil {
				return 0, fmt.Errorf("failed to write a temporary file: %w", werr)
			}
			s.n += int64(k)
		}
		s.err = err
	}
	if off >= s.n {
		return 0, s.err
	}
	return s.t.ReadAt(p[:min(int64(len(p)), s.n-off)], off)
}

// onceReader reads a onceSpool from its start.
type onceReader struct {
	s   *onceSpool
	off int64
}

func (r *onceReader) Read(p []byte) (int, error) {
	n, err := r.s.readAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}
