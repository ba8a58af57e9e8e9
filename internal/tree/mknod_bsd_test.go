//go:build darwin || freebsd

package tree

import "testing"

// mknodWorks is false here: the tests make devices on Linux only.
const mknodWorks = false

func mknod(t *testing.T, _ string, _ uint32, _ uint64) {
	t.Helper()
	t.Skip("devices are made on Linux only")
}
