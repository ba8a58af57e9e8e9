//go:build openbsd || netbsd

package patch

import (
	"os"

	"golang.org/x/sys/unix"
)

// mknodat makes the node name in the directory d. Here the device number
// is an int, as on macOS.
func mknodat(d *os.File, name string, mode uint32, dev uint64) error {
	return unix.Mknodat(int(d.Fd()), name, mode, int(dev))
}
