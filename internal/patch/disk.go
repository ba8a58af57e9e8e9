package patch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
)

// disk is DIR as ibt-patch sees it: every access goes through an os.Root,
// so the kernel refuses to leave DIR, and lookups refuse to pass through
// symlinks even inside DIR, so that a change only ever touches its own path.
type disk struct {
	root *os.Root // nil for a DIR that does not exist yet (dry run)
	dev  uint64   // device of DIR: staging renames need the same filesystem
	// dirs caches, for a path, whether it is a real directory on DIR's
	// filesystem with real directories all the way up. It is only valid
	// before the commit changes DIR.
	dirs map[string]bool
	// hashes caches the content hash of files read while checking (a
	// change hashes its path as the old and as the new version, and hard
	// links hash their first path).
	hashes map[string][]byte
	// known vouches for the hashes of files the last run verified, asked
	// in path order (see known.go).
	known *knownReader
	// recordedCutoff is the ctime before which the archive's old entries
	// vouch for files that still have their inode and times (see
	// recorded.go); 0 if they do not.
	recordedCutoff int64
}

func newDisk(root *os.Root) (*disk, error) {
	d := &disk{root: root, dirs: map[string]bool{"": true}, hashes: map[string][]byte{}}
	if root != nil {
		fi, err := root.Stat(".")
		if err != nil {
			return nil, ioErr("", "stat DIR", err)
		}
		d.dev = devOf(fi)
	}
	return d, nil
}

// parent returns the directory of a slash-separated path, "" for the top.
func parent(p string) string {
	d := path.Dir(p)
	if d == "." {
		return ""
	}
	return d
}

// name turns a tree path into a name for the root ("" is DIR itself).
func name(p string) string {
	if p == "" {
		return "."
	}
	return p
}

// isDir reports whether p is a real directory on DIR's filesystem reached
// through real directories only.
func (d *disk) isDir(p string) bool {
	if ok, seen := d.dirs[p]; seen {
		return ok
	}
	ok := false
	if d.root != nil && d.isDir(parent(p)) {
		fi, err := d.root.Lstat(p)
		ok = err == nil && fi.IsDir() && devOf(fi) == d.dev
	}
	if len(d.dirs) >= maxCached {
		clear(d.dirs)
		d.dirs[""] = true
	}
	d.dirs[p] = ok
	return ok
}

// lstat returns what is at p without following any symlink on the way: nil
// when p or one of its directories is missing or is not a real directory.
func (d *disk) lstat(p string) (fs.FileInfo, error) {
	if d.root == nil || !d.isDir(parent(p)) {
		return nil, nil
	}
	fi, err := d.root.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, ioErr(p, "stat", err)
	}
	return fi, nil
}

// typeOf returns the entry type of fi, or false for a type ibt does not record.
func typeOf(fi fs.FileInfo) (format.Type, bool) {
	switch {
	case fi.Mode().IsRegular():
		return format.TypeFile, true
	case fi.IsDir():
		return format.TypeDir, true
	case fi.Mode()&fs.ModeSymlink != 0:
		return format.TypeSymlink, true
	}
	return specialType(fi)
}

// fileHash returns the content hash of the regular file at p, of the size
// fi says.
func (d *disk) fileHash(p string, fi fs.FileInfo) ([]byte, error) {
	if h, ok := d.hashes[p]; ok {
		return h, nil
	}
	if h := d.known.lookup(p, tree.NodeFromInfo(p, fi, "")); h != nil {
		d.remember(p, h)
		return h, nil
	}
	return d.readHash(p)
}

// readHash reads the regular file at p to hash it, whatever the known
// file says of it.
func (d *disk) readHash(p string) ([]byte, error) {
	if faults.read != nil {
		faults.read(p)
	}
	f, fi, err := tree.OpenFile(d.root, p)
	if err != nil {
		return nil, ioErr(p, "open", err)
	}
	defer f.Close()
	sum, err := hashReaderAt(f, fi.Size(), nil)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, pathErr(ErrConflict, p, "run again once nothing writes to DIR", "changed while it was being read")
	}
	if err != nil {
		return nil, ioErr(p, "read", err)
	}
	d.remember(p, sum)
	return sum, nil
}

// remember caches the content hash of the file at p.
func (d *disk) remember(p string, sum []byte) {
	if len(d.hashes) >= maxCached {
		clear(d.hashes)
	}
	d.hashes[p] = sum
}

// matches reports whether fi at p is e: same type and, for a file, same
// content; for a symlink, same target. Metadata is not compared: it is
// what the patch sets.
func (d *disk) matches(p string, fi fs.FileInfo, e *format.Entry) (bool, error) {
	t, ok := typeOf(fi)
	if !ok || t != e.Type {
		return false, nil
	}
	switch t {
	case format.TypeFile:
		if fi.Size() != e.Size {
			return false, nil
		}
		h, err := d.fileHash(p, fi)
		if err != nil {
			return false, err
		}
		return bytes.Equal(h, e.Hash), nil
	case format.TypeSymlink:
		target, err := d.root.Readlink(p)
		if err != nil {
			return false, ioErr(p, "read symlink", err)
		}
		return target == e.Target, nil
	}
	return !t.IsSpecial() || specialMatches(fi, e), nil
}

// describe says what fi at p is, for an error message.
func (d *disk) describe(p string, fi fs.FileInfo) string {
	if fi == nil {
		return "nothing"
	}
	t, ok := typeOf(fi)
	if !ok {
		return "a " + fi.Mode().Type().String() + " special file"
	}
	switch t {
	case format.TypeFile:
		if h, ok := d.hashes[p]; ok {
			return fmt.Sprintf("a file of %d bytes with %s %s", fi.Size(), format.HashAlgorithm, short(h))
		}
		return fmt.Sprintf("a file of %d bytes", fi.Size())
	case format.TypeSymlink:
		target, _ := d.root.Readlink(p)
		return fmt.Sprintf("a symlink to %q", target)
	case format.TypeDir:
		return "a directory"
	}
	return describeSpecial(t, rdevOf(fi))
}

// want says what e is, for an error message.
func want(e *format.Entry) string {
	switch e.Type {
	case format.TypeFile:
		return fmt.Sprintf("a file of %d bytes with %s %s", e.Size, format.HashAlgorithm, short(e.Hash))
	case format.TypeSymlink:
		return fmt.Sprintf("a symlink to %q", e.Target)
	case format.TypeDir:
		return "a directory"
	}
	return describeSpecial(e.Type, e.Rdev)
}

func short(h []byte) string {
	if len(h) > 6 {
		return fmt.Sprintf("%x…", h[:6])
	}
	return fmt.Sprintf("%x", h)
}

// fileMode converts entry mode bits (07777) to an fs.FileMode.
func fileMode(m uint32) fs.FileMode {
	fm := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		fm |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		fm |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		fm |= fs.ModeSticky
	}
	return fm
}

// setMeta gives the entry at name (a root name) e's owner (when chown is
// set), mode and mtime, in that order, as chown clears setuid bits. A
// symlink's own metadata is set without following it, as far as the system
// allows (see symlinkMeta).
func setMeta(root *os.Root, name string, e *format.Entry, chown bool) error {
	if chown {
		if err := root.Lchown(name, int(e.UID), int(e.GID)); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
	}
	if e.Type == format.TypeSymlink {
		return symlinkMeta(root, name, e)
	}
	if err := root.Chmod(name, fileMode(e.Mode)); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	if err := root.Chtimes(name, time.Time{}, time.Unix(0, e.MTime)); err != nil {
		return fmt.Errorf("set mtime: %w", err)
	}
	return nil
}
