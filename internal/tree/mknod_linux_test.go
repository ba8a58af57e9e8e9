package tree

import (
	"testing"

	"golang.org/x/sys/unix"
)

const mknodWorks = true

// mknod makes a device node at path of the given mode and number (in
// Node.Rdev's form).
func mknod(t *testing.T, path string, mode uint32, rdev uint64) {
	t.Helper()
	if err := unix.Mknod(path, mode, int(SystemRdev(rdev))); err != nil {
		t.Fatal(err)
	}
}
