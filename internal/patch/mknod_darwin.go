package patch

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// mknodat makes the node name in the directory d. macOS has no mknodat:
// the path goes through d's name, a directory of the staging area that
// ibt-patch made itself.
func mknodat(d *os.File, name string, mode uint32, dev uint64) error {
	p := filepath.Join(d.Name(), name)
	if mode&unix.S_IFMT == unix.S_IFIFO {
		return unix.Mkfifo(p, mode&0o7777)
	}
	return unix.Mknod(p, mode, int(dev))
}
