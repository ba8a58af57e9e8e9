package patch

import (
	"io/fs"
	"os"

	"github.com/ibt-tools/ibt/format"
)

// A hard link is an entry whose LinkTo names the first path of its inode,
// earlier in path order. Its first path is placed before it in the
// commit's first pass, so the link is then made in staging with os.Root's
// Link (linkat, confined to DIR) and renamed over its path.

// checkLink refuses a LinkTo that could not be a hard link of the archive's
// trees: not a file, not earlier in path order, or not a valid path.
func (a *applier) checkLink(p string, e *format.Entry) error {
	if e.Type != format.TypeFile {
		return pathErr(ErrCorrupt, p, "", "a %s recorded as a hard link to %q", e.Type, e.LinkTo)
	}
	if err := format.ValidPath(e.LinkTo); err != nil || e.LinkTo >= p {
		return pathErr(ErrCorrupt, p, "", "is a hard link to %q, which is not a path before it", e.LinkTo)
	}
	if e.LinkTo == stagingName || len(e.LinkTo) > len(stagingName) && e.LinkTo[:len(stagingName)+1] == stagingName+"/" {
		return pathErr(ErrUnsafe, p, "", "is a hard link into ibt-patch's staging directory")
	}
	return nil
}

// linked reports whether fi, found at a hard link's path, already is the
// inode of its first path, which must then stay as it is.
func (a *applier) linked(fi fs.FileInfo, e *format.Entry) (bool, error) {
	s, err := a.log.find(e.LinkTo)
	if err != nil {
		return false, err
	}
	if s != nil && (s.state != stNew || s.c.New == nil) {
		return false, nil
	}
	first, err := a.disk.lstat(e.LinkTo)
	return err == nil && first != nil && first.Mode().IsRegular() && os.SameFile(fi, first), nil
}

// unlinked reports whether fi, found at the path of old, a hard link the
// archive breaks, no longer is the inode of old's first path.
func (a *applier) unlinked(fi fs.FileInfo, old *format.Entry) (bool, error) {
	first, err := a.disk.lstat(old.LinkTo)
	if err != nil {
		return false, err
	}
	return first == nil || !os.SameFile(fi, first), nil
}

// linkTarget checks, at the commit, that the first path of the hard link
// of s is a regular file of the new tree: one the archive placed, or an
// unchanged one of the content the link records. A first path placed late
// makes the link late too.
func (a *applier) linkTarget(s *step) error {
	e := s.c.New
	t, err := a.log.find(e.LinkTo)
	if err != nil {
		return err
	}
	if t != nil {
		if t.c.New == nil || t.c.New.Type != format.TypeFile || t.c.New.LinkTo != "" {
			return pathErr(ErrCorrupt, e.Path, "", "is a hard link to %q, which is not a file placed before it", e.LinkTo)
		}
		s.lateLink = t.late
		return nil
	}
	fi, err := a.root.Lstat(e.LinkTo)
	if err != nil || !fi.Mode().IsRegular() {
		return pathErr(ErrWrongBase, e.Path, fixWrongBase, "is a hard link to %q, which is not a file in DIR", e.LinkTo)
	}
	h, err := a.disk.fileHash(e.LinkTo, fi)
	if err != nil {
		return err
	}
	if string(h) != string(e.Hash) || fi.Size() != e.Size {
		return pathErr(ErrWrongBase, e.Path, fixWrongBase, "is a hard link to %q, whose content is not the link's", e.LinkTo)
	}
	return nil
}
