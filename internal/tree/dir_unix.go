//go:build linux || darwin || freebsd || openbsd || netbsd

package tree

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// dirHandle is an open directory; every entry is read relative to it, so a
// directory renamed or replaced by a symlink during the walk cannot send the
// walk elsewhere.
type dirHandle struct{ fd int }

func openRootDir(path string) (dirHandle, error) {
	fd, err := retry(func() (int, error) {
		return unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	return dirHandle{fd}, err
}

// openChild opens the directory name in d without following a symlink.
func (d dirHandle) openChild(name string) (dirHandle, error) {
	fd, err := retry(func() (int, error) {
		return unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	})
	if err == unix.ELOOP || err == unix.ENOTDIR {
		// It was a directory when it was emitted.
		return dirHandle{-1}, ErrChanged
	}
	return dirHandle{fd}, err
}

func (d dirHandle) close() { unix.Close(d.fd) }

func (d dirHandle) identity() (dev, inode uint64, err error) {
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil {
		return 0, 0, err
	}
	return uint64(st.Dev), uint64(st.Ino), nil
}

func (d dirHandle) lstat(name string, n *Node) (kind, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return kindOther, err
	}
	return fillFromStat(n, &st), nil
}

// kindAt is the kind of name in d, for a listing that did not say.
func (d dirHandle) kindAt(name string) kind {
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		// Ordered as a non-directory; the entry's own lstat reports the error.
		return kindOther
	}
	return kindOfRaw(uint32(st.Mode))
}

// readlink returns the target of the symlink name in d, growing *buf to fit.
func (d dirHandle) readlink(name string, buf *[]byte) (string, error) {
	for {
		n, err := unix.Readlinkat(d.fd, name, *buf)
		if err != nil {
			return "", err
		}
		if n < len(*buf) {
			return string((*buf)[:n]), nil
		}
		*buf = make([]byte, 2*len(*buf))
	}
}

// retry repeats a system call interrupted by a signal, as some network and
// FUSE filesystems let open be.
func retry(call func() (int, error)) (int, error) {
	for {
		fd, err := call()
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// openRegular opens the regular file name in d for reading; anything but a
// regular file is an error wrapping ErrNotRegular, and is never opened (a
// device's open may act). The file is lstat'ed, then opened without
// following a symlink or blocking on a named pipe, and must still be the
// file the lstat saw.
func (d dirHandle) openRegular(name string) (*os.File, error) {
	var before unix.Stat_t
	if err := unix.Fstatat(d.fd, name, &before, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	if before.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, &notRegularError{name, kindOfRaw(uint32(before.Mode))}
	}
	fd, err := retry(func() (int, error) {
		return unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, &os.PathError{Op: "openat", Path: name, Err: err}
	}
	var after unix.Stat_t
	if err := unix.Fstat(fd, &after); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "fstat", Path: name, Err: err}
	}
	if after.Mode&unix.S_IFMT != unix.S_IFREG || after.Dev != before.Dev || after.Ino != before.Ino {
		unix.Close(fd)
		return nil, fmt.Errorf("%q %w", name, ErrChanged)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "fcntl", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// openIgnore opens the Excluder's ignore file of the directory d.
func (x *Excluder) openIgnore(d dirHandle, _ string) (*os.File, error) {
	return d.openRegular(x.name)
}
