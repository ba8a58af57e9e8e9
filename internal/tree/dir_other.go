//go:build !(linux || darwin || freebsd || openbsd || netbsd)

package tree

import (
	"os"
	"path/filepath"
	"syscall"
)

// dirHandle is a directory by path: this system has no portable *at calls,
// so a directory replaced during the walk is caught only by a type check.
type dirHandle struct{ path string }

func openRootDir(path string) (dirHandle, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return dirHandle{}, err
	}
	if !fi.IsDir() {
		return dirHandle{}, syscall.ENOTDIR
	}
	return dirHandle{path}, nil
}

func (d dirHandle) openChild(name string) (dirHandle, error) {
	p := filepath.Join(d.path, name)
	fi, err := os.Lstat(p)
	if err != nil {
		return dirHandle{}, err
	}
	if !fi.IsDir() {
		return dirHandle{}, ErrChanged
	}
	return dirHandle{p}, nil
}

func (d dirHandle) close() {}

// identity is unknown here; Node.Dev and Node.Inode are zero to match.
func (d dirHandle) identity() (dev, inode uint64, err error) { return 0, 0, nil }

func (d dirHandle) lstat(name string, n *Node) (kind, error) {
	fi, err := os.Lstat(filepath.Join(d.path, name))
	if err != nil {
		return kindOther, err
	}
	return fillFromFileInfo(n, fi), nil
}

func (d dirHandle) readlink(name string, _ *[]byte) (string, error) {
	return os.Readlink(filepath.Join(d.path, name))
}

func (d dirHandle) list(l *listing, _ *[]byte) error {
	f, err := os.Open(d.path)
	if err != nil {
		return err
	}
	defer f.Close()
	return addAll(l, f)
}

// openIgnore opens the Excluder's ignore file rel through the root: a
// directory handle here is a path, which the root confines and it does not.
func (x *Excluder) openIgnore(_ dirHandle, rel string) (*os.File, error) {
	f, _, err := OpenFile(x.root, rel)
	return f, err
}
