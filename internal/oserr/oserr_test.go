package oserr

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"
)

func TestText(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "statat", Path: "d/f", Err: syscall.ENOTDIR},
			`cannot look at "d/f": a part of the path is not a directory`},
		{fmt.Errorf("failed to flush the patched tree to disk: %w", &fs.PathError{Op: "openat", Path: ".ibt-patch/lock", Err: syscall.EROFS}),
			`failed to flush the patched tree to disk: cannot open ".ibt-patch/lock": the filesystem is read-only`},
		{&os.LinkError{Op: "renameat", Old: "a", New: "b", Err: syscall.EXDEV},
			`cannot rename "a" to "b": it is on another filesystem`},
		{fmt.Errorf("chown: %w", &fs.PathError{Op: "lchown", Path: "x", Err: syscall.EPERM}),
			`chown: cannot set the owner of "x": permission denied`},
		{&fs.PathError{Op: "write", Path: "out", Err: syscall.ENOSPC},
			`cannot write "out": no space is left on the filesystem`},
		{fmt.Errorf("failed to create directory %q: %w", "/r", syscall.EROFS),
			`failed to create directory "/r": the filesystem is read-only`},
		{&os.SyscallError{Syscall: "syncfs", Err: syscall.EIO},
			`the device reported an input/output error`},
		{errors.New("no system error here"), "no system error here"},
	} {
		if got := Text(tc.err); got != tc.want {
			t.Errorf("Text(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
