//go:build unix

package cli

import (
	"errors"
	"os"
	"syscall"
)

// syncDir flushes the directory dir, and so the names in it, to disk. A
// filesystem that cannot flush a directory (some network and FUSE ones
// refuse) has nothing more to offer, and is not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.ENOSYS) {
		return nil
	}
	return err
}
