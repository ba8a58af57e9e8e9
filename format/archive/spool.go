package archive

import (
	"bufio"
	"io"

	"github.com/ibt-tools/ibt/format"
)

// spool holds a delta too big for memory in a format.TempFile, which leaves
// nothing behind however the process ends. One file serves every big delta
// of an archive in turn.
type spool struct {
	dir string
	f   *format.TempFile
	bw  *bufio.Writer
	n   int64
}

// start empties the spool for a new delta.
func (s *spool) start() error {
	if s.f == nil {
		f, err := format.CreateTempFile(s.dir, "ibt-archive-*.spool")
		if err != nil {
			return err
		}
		s.f = f
		s.bw = bufio.NewWriterSize(f, 256<<10)
	} else {
		if err := s.f.Truncate(0); err != nil {
			return err
		}
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		s.bw.Reset(s.f)
	}
	s.n = 0
	return nil
}

func (s *spool) write(b []byte) error {
	n, err := s.bw.Write(b)
	s.n += int64(n)
	return err
}

// reader returns the spooled bytes and their length.
func (s *spool) reader() (io.Reader, int64, error) {
	if err := s.bw.Flush(); err != nil {
		return nil, 0, err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, err
	}
	return bufio.NewReaderSize(s.f, 256<<10), s.n, nil
}

// close releases the file.
func (s *spool) close() {
	if s.f == nil {
		return
	}
	s.f.Close()
	s.f, s.bw = nil, nil
}
