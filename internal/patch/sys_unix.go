//go:build linux || darwin || freebsd || openbsd || netbsd

package patch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ibt-tools/ibt/format"
)

// ownersNote is the warning given when the archive records owners this run
// cannot give.
const ownersNote = "owners are not restored: that needs running as root"

// treeVerified says that the patched tree can be checked against the
// archive's tree hash: the system keeps every field the hash covers.
const treeVerified = true

// modeEqual reports whether a file of mode have already has mode want.
func modeEqual(have, want fs.FileMode) bool { return have == want }

// ownerEqual reports whether fi has e's owner and group.
func ownerEqual(fi fs.FileInfo, e *format.Entry) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == e.UID && st.Gid == e.GID
}

func devOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}

// tryLock takes f's exclusive flock without waiting; held reports that
// another process has it. The kernel drops it when the process dies.
func tryLock(f *os.File) (held bool, err error) {
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}

// flushStaged is a no-op here: syncFS makes staged files durable later.
func flushStaged(*os.File) error { return nil }

// fsyncEach makes the entries names lists durable one by one: each regular
// file and directory among them that exists is fsync'ed, then DIR.
func fsyncEach(root *os.Root, names names) error {
	err := names(func(n string) error {
		fi, err := root.Lstat(name(n))
		if err != nil && gone(root, n, err) {
			return nil // removed, or below a directory the commit replaced
		}
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() && !fi.IsDir() {
			return nil // a symlink: its directory's fsync covers it
		}
		f, err := root.Open(name(n))
		if err != nil {
			return err
		}
		err = unix.Fsync(int(f.Fd()))
		f.Close()
		if err != nil {
			return &fs.PathError{Op: "fsync", Path: n, Err: err}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return syncDir(root, ".")
}

// gone reports whether err, from the lstat of the tree path n, says that
// n is no longer in the tree: it is missing, or a directory above it is
// now something else (a file, or a symlink, which the root refuses to
// follow, perhaps out of DIR).
func gone(root *os.Root, n string, err error) bool {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return true
	}
	p := parent(n)
	if p == "" {
		return false
	}
	fi, perr := root.Lstat(p)
	if perr != nil {
		return gone(root, p, perr)
	}
	return !fi.IsDir()
}

func syncDir(root *os.Root, name string) error {
	d, err := root.Open(name)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// inDir runs fn with a descriptor of the directory of the root name name,
// opened through the root, and name's final element, which fn must not
// follow: nothing is reached that the root did not resolve.
func inDir(root *os.Root, name string, fn func(dirfd int, base string) error) error {
	dir, base := path.Split(name)
	if dir == "" {
		dir = "."
	}
	f, err := root.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return fn(int(f.Fd()), base)
}

// lutimesAt sets the mtime of a symlink itself, leaving its atime (omit is
// the system's UTIME_OMIT). os.Root has no Lchtimes.
func lutimesAt(root *os.Root, name string, mtime int64, omit int64) error {
	err := inDir(root, name, func(dirfd int, base string) error {
		ts := []unix.Timespec{{Nsec: omit}, unix.NsecToTimespec(mtime)}
		if err := unix.UtimesNanoAt(dirfd, base, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &fs.PathError{Op: "lutimes", Path: name, Err: err}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set mtime: %w", err)
	}
	return nil
}
