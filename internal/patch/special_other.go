//go:build !(linux || darwin || freebsd || openbsd || netbsd)

package patch

import (
	"errors"
	"io/fs"
	"os"

	"github.com/ibt-tools/ibt/format"
)

// errNoSpecials is what mknod returns where the system has no special
// files, as here.
var errNoSpecials = errors.New("no special files on this system")

// rdevOf returns the device number of fi: none here.
func rdevOf(fs.FileInfo) uint64 { return 0 }

// mknod cannot make special files here.
func mknod(*os.Root, string, *format.Entry) error { return errNoSpecials }
