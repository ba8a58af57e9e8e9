//go:build !linux

package patch

import (
	"errors"
	"os"
)

// cloneFile is unsupported here: updates are written in one pass.
func cloneFile(dst, src *os.File) error { return errors.ErrUnsupported }

func cloneUnsupported(err error) bool { return errors.Is(err, errors.ErrUnsupported) }

func copyRange(dst, src *os.File, soff, doff, n int64) (int64, error) {
	return 0, errors.ErrUnsupported
}

func punchHole(f *os.File, off, n int64) error { return errors.ErrUnsupported }

func onTmpfs(*os.File) bool { return false }
