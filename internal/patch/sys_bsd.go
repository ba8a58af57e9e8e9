//go:build darwin || freebsd || openbsd || netbsd

package patch

import (
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ibt-tools/ibt/format"
)

// utimeOmit is UTIME_OMIT of <sys/stat.h> on macOS and FreeBSD (x/sys/unix
// names it for FreeBSD only).
const utimeOmit = -2

// symlinkMTimes says that a symlink's own mtime is restored.
const symlinkMTimes = true

// symlinkMeta sets a symlink's own mode and mtime. Here, unlike on Linux, a
// symlink has a mode of its own (from the umask); indexes record every
// symlink as 0777, so that is what it gets, as on Linux.
func symlinkMeta(root *os.Root, name string, e *format.Entry) error {
	err := inDir(root, name, func(dirfd int, base string) error {
		if err := unix.Fchmodat(dirfd, base, e.Mode&0o7777, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &fs.PathError{Op: "lchmod", Path: name, Err: err}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return lutimes(root, name, e.MTime)
}

// lutimes sets the mtime of a symlink itself.
func lutimes(root *os.Root, name string, mtime int64) error {
	return lutimesAt(root, name, mtime, utimeOmit)
}

// syncFS makes the entries names lists durable. There is no syncfs here,
// and sync(2) on macOS returns before the data is written, so each file
// and directory is fsync'ed (see fsyncEach), then DIR once with Sync, which
// on macOS is F_FULLFSYNC and so also flushes the drive's cache for all of
// them.
func syncFS(root *os.Root, names names) error {
	if faults.noSync {
		return nil
	}
	return fsyncEach(root, names)
}

// startWriteback does nothing here: the flush before the commit writes the
// staged files back.
func startWriteback(*os.File, int64, int64) {}

// futimens sets the times of the file base in the directory dirfd, which is
// open as fd: x/sys/unix has no futimens here.
func futimens(_, dirfd int, base string, ts *[2]unix.Timespec) error {
	return unix.UtimesNanoAt(dirfd, base, ts[:], unix.AT_SYMLINK_NOFOLLOW)
}

// flushData does nothing here: the flush before the commit makes the
// staged files durable.
func flushData(*os.File) error { return nil }

// dropCache does nothing here.
func dropCache(*os.File, fs.FileInfo) {}
