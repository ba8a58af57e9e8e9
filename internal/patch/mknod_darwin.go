package patch

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// mknodat makes the node at the root name. macOS has no mknodat: the path
// is DIR's own joined with name, which is always in the staging directory
// that ibt-patch made itself (see stage.go), so no component is a link.
func mknodat(root *os.Root, name string, mode uint32, dev uint64) error {
	p := filepath.Join(root.Name(), filepath.FromSlash(name))
	if mode&unix.S_IFMT == unix.S_IFIFO {
		return unix.Mkfifo(p, mode&0o7777)
	}
	return unix.Mknod(p, mode, int(dev))
}
