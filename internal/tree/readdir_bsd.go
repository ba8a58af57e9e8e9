//go:build darwin || freebsd || openbsd || netbsd

package tree

import (
	"os"

	"golang.org/x/sys/unix"
)

// list adds d's entries to l. The os package knows how each system reads a
// directory; it reads a duplicate so that d stays open for the lstats.
func (d dirHandle) list(l *listing, _ *[]byte) error {
	fd, err := unix.Dup(d.fd)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), ".")
	defer f.Close()
	return addAll(l, f)
}
