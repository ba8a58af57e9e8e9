//go:build linux || darwin || freebsd || openbsd || netbsd

package patch

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
)

// errNoSpecials is what mknod returns where the system has no special
// files; never here.
var errNoSpecials = errors.New("no special files on this system")

// rdevOf returns the device number of fi in the index's form.
func rdevOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return tree.PortableRdev(uint64(st.Rdev))
	}
	return 0
}

// specialMode is the file type bits mknod takes for e's type.
func specialMode(t format.Type) uint32 {
	switch t {
	case format.TypeFIFO:
		return unix.S_IFIFO
	case format.TypeCharDev:
		return unix.S_IFCHR
	case format.TypeBlockDev:
		return unix.S_IFBLK
	}
	return unix.S_IFSOCK
}

// mknod makes the special file e at the root name, private until its
// metadata is set. The directory is opened through root, so the node is
// made inside DIR whatever a path component is.
func mknod(root *os.Root, name string, e *format.Entry) error {
	var rdev uint64
	if e.Type.IsDevice() {
		rdev = tree.SystemRdev(e.Rdev)
	}
	if err := mknodat(root, name, specialMode(e.Type)|0o600, rdev); err != nil {
		return &fs.PathError{Op: "mknod", Path: name, Err: err}
	}
	return nil
}
