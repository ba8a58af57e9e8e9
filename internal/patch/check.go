package patch

import (
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
)

// stagingName is the directory at the top of DIR where ibt-patch stages new
// versions and keeps its journal; ibt-sign never walks it.
const stagingName = tree.StagingName

// read reads the whole archive, checking each change against DIR and
// staging its new version, and logs the steps for the commit (see
// stepLog). Only the frames of the current path stay in memory.
func (a *applier) read(src *source) error {
	a.startWriter()
	defer a.stopWriter()
	var last string
	for i := 0; ; i++ {
		c, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		p := c.Path()
		if i > 0 && p <= last {
			// the reader checks this too; the frames depend on it
			return pathErr(ErrCorrupt, p, "", "comes after %q: the archive's changes are not in path order", last)
		}
		last = p
		if err := a.advance(p); err != nil {
			return err
		}
		pick, err := a.selectChange(c)
		if err != nil {
			return err
		}
		if pick == pickSkip {
			continue
		}
		s, err := a.check(src, c, i, pick == pickWait)
		if err != nil {
			return err
		}
		s.dropped = pick == pickDrop
		if err := a.logStep(s); err != nil {
			return err
		}
		a.waitFor(s, pick)
		if !s.dropped {
			a.count(s)
			a.noteUnrestorable(c.New)
		}
		if err := a.keepMTime(s); err != nil {
			return err
		}
		if f := a.frameOf(parent(p)); f != nil && f.emptied && s.present {
			f.present++
		}
		f := stepFrame(s)
		f.dropped = s.dropped
		if a.writer == nil {
			f.at = a.log.lastAt // for Options.Only, which has no stage writer
		}
		a.pushFrame(f)
	}
	if err := a.advance(""); err != nil {
		return err
	}
	if err := a.stopWriter(); err != nil {
		return err
	}
	if err := a.checkLaterSources(); err != nil {
		return err
	}
	return a.readAgain(src)
}

// check checks one change against the archive so far and against DIR, and
// stages its new version; one that waits (Options.Only) has its content
// staged by readAgain, but for an empty file.
func (a *applier) check(src *source, c *format.Change, i int, wait bool) (*step, error) {
	p := c.Path()
	if err := a.checkEntries(c); err != nil {
		return nil, err
	}
	if c.Old != nil {
		if err := a.parentIsDir(p, false); err != nil {
			return nil, err
		}
	}
	if c.New != nil {
		if err := a.parentIsDir(p, true); err != nil {
			return nil, err
		}
	}
	if staged := a.insideStaged(c); staged != "" {
		// below a directory that was not in DIR: nothing is at p either
		s := &step{c: c, i: i, state: stAbsent, staged: staged, inside: true}
		if err := a.checkDevice(s); err != nil {
			return nil, err
		}
		return s, a.stage(src, s)
	}
	fi, err := a.disk.lstat(p)
	if err != nil {
		return nil, err
	}
	s := &step{c: c, i: i, present: fi != nil}
	if likelyOld(c, fi) {
		s.state, s.unverified = stOld, true
	} else {
		a.disk.rememberRecorded(p, fi, c.Old)
		if s.state, err = a.classify(c, fi); err != nil {
			return nil, err
		}
	}
	s.done = s.state == stNew && (c.New == nil || c.New.Skipped || metaEqual(fi, c.New, a.chown) && a.xattrsEqual(p, c.Old, c.New))
	if c.Op == format.OpReplace && s.state == stOld && c.Old.Type == format.TypeDir && c.New.Type != format.TypeDir {
		s.late = true
	}
	if c.New != nil && c.New.LinkTo != "" && s.state != stNew {
		if err := a.linkTarget(s); err != nil {
			return nil, err
		}
	}
	if err := a.checkDevice(s); err != nil {
		return nil, err
	}
	if wait {
		return s, a.stageLater(s)
	}
	if err := a.stage(src, s); err != nil {
		return nil, err
	}
	return s, nil
}

// likelyOld reports whether the file an update finds has the old version's
// size and not the new version's size and mtime. Its hash is then not read
// here: patching builds the new version from it, and that version's hash is
// checked anyway, so a wrong base shows there and is only then looked at
// closely (see settleBase). This saves a whole read of a large file.
func likelyOld(c *format.Change, fi fs.FileInfo) bool {
	if c.Op != format.OpUpdate || fi == nil || !fi.Mode().IsRegular() ||
		c.Old.Type != format.TypeFile || c.New.Type != format.TypeFile || fi.Size() != c.Old.Size {
		return false
	}
	return fi.Size() != c.New.Size || fi.ModTime().UnixNano() != c.New.MTime
}

// checkEntries refuses what the archive reader lets through but ibt-patch
// will not do.
func (a *applier) checkEntries(c *format.Change) error {
	p := c.Path()
	if p == stagingName || strings.HasPrefix(p, stagingName+"/") {
		return pathErr(ErrUnsafe, p, "", "is reserved for ibt-patch's staging directory")
	}
	for _, e := range []*format.Entry{c.Old, c.New} {
		if e == nil {
			continue
		}
		if e.Type > format.MaxType {
			return pathErr(ErrCorrupt, p, "", "has an entry of unknown type %d", e.Type)
		}
		if e.LinkTo != "" {
			if err := a.checkLink(p, e); err != nil {
				return err
			}
		}
	}
	if c.Op == format.OpMeta && c.Old.Type != c.New.Type {
		return pathErr(ErrCorrupt, p, "", "a metadata change that changes the type from %s to %s", c.Old.Type, c.New.Type)
	}
	return nil
}

// parentIsDir checks that the directory of p is a directory in the
// archive's new tree (or old tree, for !isNew): either a directory the
// archive itself records there, or one it leaves unchanged, which must then
// be a real directory in DIR. This keeps every operation off symlinks,
// including one the archive itself creates.
func (a *applier) parentIsDir(p string, isNew bool) error {
	q := parent(p)
	if q == "" {
		return nil
	}
	if f := a.changeOf(q); f != nil {
		e, tree := f.old, "old"
		if isNew {
			e, tree = f.new, "new"
		}
		if !e.isDir() {
			return pathErr(ErrUnsafe, p, "", "its parent %q is not a directory in the archive's %s tree", q, tree)
		}
		return nil
	}
	return a.unchangedDir(q)
}

// unchangedDir checks that q, which the archive does not change, is a real
// directory in DIR, and so are its parents.
func (a *applier) unchangedDir(q string) error {
	if q == "" {
		return nil
	}
	if err, ok := a.checked[q]; ok {
		return err
	}
	var err error
	if f := a.changeOf(q); f != nil {
		if !f.old.isDir() || !f.new.isDir() {
			err = pathErr(ErrUnsafe, q, "", "holds entries the archive leaves unchanged, but is not a directory in both its trees")
		}
	} else if err = a.unchangedDir(parent(q)); err == nil && !a.disk.isDir(q) {
		fi, lerr := a.disk.lstat(q)
		switch {
		case lerr != nil:
			err = lerr
		case fi == nil:
			err = pathErr(ErrWrongBase, q, fixWrongBase, "is missing: the archive changes paths inside this directory")
		case fi.IsDir():
			err = pathErr(ErrUnsafe, q, "", "is on another filesystem than DIR; ibt-patch stages on DIR's and commits by renames")
		default:
			err = pathErr(ErrConflict, q, fixConflict, "is %s, but the archive expects a directory", a.disk.describe(q, fi))
		}
	}
	if len(a.checked) >= maxCached {
		clear(a.checked)
	}
	a.checked[q] = err
	return err
}

// classify finds which version of c's path is on disk, refusing anything
// that is neither the old nor the new one where the change requires it.
func (a *applier) classify(c *format.Change, fi fs.FileInfo) (state, error) {
	if c.Old != nil && c.Old.Skipped {
		return a.classifySkippedOld(c, fi) // any regular file or nothing is old
	}
	p := c.Path()
	is := func(e *format.Entry) (bool, error) {
		if fi == nil || e == nil {
			return false, nil
		}
		return a.disk.matches(p, fi, e)
	}
	isOld, err := is(c.Old)
	if err != nil {
		return 0, err
	}
	isNew, err := is(c.New)
	if err != nil {
		return 0, err
	}
	switch {
	case isNew && c.New.LinkTo != "":
		if isNew, err = a.linked(fi, c.New); err != nil {
			return 0, err
		}
	case isNew && c.Old != nil && c.Old.LinkTo != "":
		// a hard link broken into a file of its own, with the same
		// content: until it has an inode of its own it is the old link,
		// and metadata set on it would be set on the file it shares
		if isNew, err = a.unlinked(fi, c.Old); err != nil {
			return 0, err
		}
	}
	switch {
	case isNew:
		return stNew, nil
	case isOld:
		return stOld, nil
	case fi == nil && c.Op == format.OpDelete:
		return stNew, nil
	case fi == nil && (c.Op == format.OpCreate || c.Op == format.OpReplace):
		// A replace finds nothing when a killed run removed the old entry
		// and had not placed the new one yet.
		return stAbsent, nil
	}
	switch c.Op {
	case format.OpCreate:
		return 0, pathErr(ErrConflict, p, fixConflict, "already exists as %s, but the archive creates %s", a.disk.describe(p, fi), want(c.New))
	case format.OpUpdate:
		if fi == nil {
			return 0, pathErr(ErrWrongBase, p, fixWrongBase, "is missing, but the archive updates it")
		}
		return 0, pathErr(ErrWrongBase, p, fixWrongBase, "content does not match the old version the archive was made against (expected %s, found %s)", want(c.Old), a.disk.describe(p, fi))
	case format.OpMeta:
		if fi == nil {
			return 0, pathErr(ErrWrongBase, p, fixWrongBase, "is missing, but the archive changes its metadata")
		}
		return 0, pathErr(ErrWrongBase, p, fixWrongBase, "content does not match the version the archive was made against (expected %s, found %s)", want(c.Old), a.disk.describe(p, fi))
	}
	return 0, pathErr(ErrConflict, p, fixConflict, "differs from what the archive %ss (expected %s, found %s)", c.Op, want(c.Old), a.disk.describe(p, fi))
}

// metaEqual reports whether fi already has e's mode and mtime (as far as
// the system keeps them: see modeEqual and symlinkMTimes), and its owner
// where owners are restored.
func metaEqual(fi fs.FileInfo, e *format.Entry, owners bool) bool {
	if fi.ModTime().UnixNano() != e.MTime && (symlinkMTimes || e.Type != format.TypeSymlink) {
		return false
	}
	if owners && !ownerEqual(fi, e) {
		return false
	}
	return e.Type == format.TypeSymlink || modeEqual(fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky), fileMode(e.Mode))
}

// checkEmptied checks that a directory the archive removes holds only
// entries the archive removes too: anything else would be lost, or make
// the commit fail half way. Its entries on disk are counted against the
// ones the archive deletes below it and found on disk; the archive's are a
// subset of the disk's, so equal counts mean equal sets. Only when they
// differ are the names looked up, to say which is extra.
func (a *applier) checkEmptied(f *frame) error {
	p := f.path
	n, err := a.eachName(p, nil)
	if err != nil {
		return err
	}
	if n == f.present {
		return nil
	}
	_, err = a.eachName(p, func(child string) error {
		s, err := a.log.find(child)
		if err != nil {
			return err
		}
		if s == nil || s.c.New != nil {
			return pathErr(ErrConflict, child, fixConflict, "is not in the archive's old tree, but the archive removes its directory %q", p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return pathErr(ErrConflict, p, "run again once nothing writes to DIR", "changed while it was being checked")
}

// eachName counts the entries of the directory p, calling fn (if set) with
// the path of each, reading the directory a batch at a time.
func (a *applier) eachName(p string, fn func(child string) error) (int64, error) {
	d, err := a.root.Open(p)
	if err != nil {
		return 0, ioErr(p, "list directory", err)
	}
	defer d.Close()
	var n int64
	for {
		names, err := d.Readdirnames(1024)
		for _, name := range names {
			n++
			if fn != nil {
				if err := fn(p + "/" + name); err != nil {
					return n, err
				}
			}
		}
		if err == io.EOF || err == nil && len(names) == 0 {
			return n, nil
		}
		if err != nil {
			return n, ioErr(p, "list directory", err)
		}
	}
}

// keepMTime notes the mtime of the directory of s if the commit may change
// its contents and the archive does not describe it, so that the commit can
// give it back. A frame marks it as noted until the reading leaves it.
func (a *applier) keepMTime(s *step) error {
	if a.kept == nil || s.state == stNew {
		return nil
	}
	q := parent(s.c.Path())
	if q == "" || a.frameOf(q) != nil {
		return nil
	}
	a.pushFrame(frame{path: q})
	if fi, err := a.root.Lstat(q); err == nil && fi.IsDir() {
		return a.kept.add(q, fi.ModTime().UnixNano())
	}
	return nil
}

// noteUnrestorable warns once about metadata of e this run cannot restore.
func (a *applier) noteUnrestorable(e *format.Entry) {
	if e == nil {
		return
	}
	if !a.chown && (e.UID != a.euid || e.GID != a.egid) && (e.UID != 0 || e.GID != 0) {
		a.warn(ownersNote)
	}
	if !symlinkMTimes && e.Type == format.TypeSymlink {
		a.warn("symlinks are restored without their mtimes: this system cannot set a symlink's own time")
	}
	if !xattrsRestored && len(e.Xattrs) > 0 {
		a.warn("extended attributes are not restored: ibt restores them on Linux only")
	}
	for _, x := range e.Xattrs {
		if xattrsRestored && !a.restorable(x.Name) {
			a.warn("extended attributes other than user.* are not restored: that needs running as root")
		}
	}
}

// stageName is the root name of the staged version of the i-th change.
func stageName(i int) string {
	return stageDir + "/" + strconv.Itoa(i)
}
