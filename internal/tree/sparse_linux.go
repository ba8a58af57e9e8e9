package tree

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// SparseReader returns f as a reader that can also tell where f's data is
// (rsync.DataFinder), with SEEK_DATA: the holes of a sparse file need not
// be read to be hashed.
func SparseReader(f *os.File) io.ReaderAt { return &sparseFile{f} }

type sparseFile struct{ *os.File }

// NextData returns the offset of the first data at or after off: off when
// the filesystem cannot tell, and the file's end when only a hole follows.
// lseek moves the file's offset too, which ReadAt does not use.
func (s *sparseFile) NextData(off int64) (int64, error) {
	n, err := unix.Seek(int(s.Fd()), off, unix.SEEK_DATA)
	switch {
	case errors.Is(err, unix.ENXIO): // no data after off
		end, err := unix.Seek(int(s.Fd()), 0, io.SeekEnd)
		if err != nil {
			return off, nil
		}
		return max(end, off), nil
	case err != nil: // EINVAL and the like: no SEEK_DATA here
		return off, nil
	}
	return n, nil
}
