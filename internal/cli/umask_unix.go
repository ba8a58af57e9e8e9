//go:build unix

package cli

import (
	"os"
	"syscall"
)

// umask returns the process's file mode creation mask, which output files
// honour as files created by a shell redirection would.
func umask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}
