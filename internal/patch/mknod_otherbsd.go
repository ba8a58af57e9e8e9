//go:build openbsd || netbsd

package patch

import (
	"os"

	"golang.org/x/sys/unix"
)

// mknodat makes the node at the root name in its directory, opened
// through the root: nothing outside DIR is reached. Here the device number
// is an int, as on Linux.
func mknodat(root *os.Root, name string, mode uint32, dev uint64) error {
	return inDir(root, name, func(dirfd int, base string) error {
		return unix.Mknodat(dirfd, base, mode, int(dev))
	})
}
