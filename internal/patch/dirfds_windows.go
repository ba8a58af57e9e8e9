package patch

import (
	"os"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
)

// dirFds resolves every name through the root here: Windows has no *at
// calls to hold directories for (see dirfds_unix.go).
type dirFds struct{ root *os.Root }

func newDirFds(root *os.Root) *dirFds { return &dirFds{root: root} }

func (d *dirFds) createStaged(name string, mode uint32) (*os.File, error) {
	return d.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, os.FileMode(mode))
}

func (d *dirFds) stagedMTime(name string, mtime int64) error {
	return d.root.Chtimes(name, time.Time{}, time.Unix(0, mtime))
}

func (d *dirFds) rename(name, p string) error { return d.root.Rename(name, p) }

func (d *dirFds) identity(p string) (dev, ino uint64, ctime int64, ok bool) {
	fi, err := d.root.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return 0, 0, 0, false
	}
	n := tree.NodeFromInfo(p, fi, "")
	return n.Dev, n.Inode, n.CTime, true
}

func (d *dirFds) mkdirStaged(name string, _ uint32) error { return d.root.Mkdir(name, 0o700) }

func (d *dirFds) stagedIdentity(name string) (dev, ino uint64, ctime int64, ok bool) {
	return d.identity(name)
}

func (d *dirFds) forget() {}

func (d *dirFds) close() {}

// makeSmall makes nothing here (ok false): the stage writer falls back to
// an os.File.
func (d *dirFds) makeSmall(string, smallFile) (dev, ino uint64, ctime int64, ok bool, err error) {
	return 0, 0, 0, false, nil
}

func (d *dirFds) dirMeta(p string, e *format.Entry, chown, _ bool) error {
	return setMeta(d.root, p, e, chown)
}
