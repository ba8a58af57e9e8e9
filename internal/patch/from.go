package patch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
)

// A created file with a source (Change.From: a rename or a copy) takes its
// content from a file DIR already has, not from the archive. Staged like
// any new version before the commit, it is read from:
//   - a file of the old tree, which the archive may delete or change in
//     metadata: its content then stays in DIR until the commit's first
//     pass has put the new file in place, so an interrupted commit can
//     always be finished. One the archive updates or replaces is kept by
//     a hard link until the commit's end (sources.go);
//   - or a file the archive creates earlier in path order: its staged new
//     version, or DIR's file once it is in place.
// Either way the copy must have the new entry's hash, or nothing changes.
// A source of the old tree with a FromSize is the base of the archive's
// delta instead (stageFromDelta): ibt-merge writes a file renamed by one
// archive and updated by the next so. It is kept in place the same way.

// stageFrom stages the new version of s from its source. In a dry run it
// only checks that the source holds the content.
func (a *applier) stageFrom(src *source, s *step, place bool) error {
	c := s.c
	p := c.Path()
	if err := a.checkFrom(s); err != nil {
		return err
	}
	if c.FromSize > 0 {
		return a.stageFromDelta(src, s)
	}
	if s.state == stNew {
		return nil
	}
	var name string
	if c.FromNew {
		t, err := a.log.find(c.From)
		if err != nil {
			return err
		}
		if t == nil || t.c.New == nil || t.c.New.Type != format.TypeFile || t.c.New.LinkTo != "" ||
			t.c.New.Size != c.New.Size || !bytes.Equal(t.c.New.Hash, c.New.Hash) {
			return pathErr(ErrCorrupt, p, "", "takes its content from %q, which the archive does not create before it with that content", c.From)
		}
		switch {
		case !place:
			return nil
		case t.staged != "":
			name = t.staged
		default:
			name = c.From
		}
	} else {
		if !place {
			return a.checkOldSource(c)
		}
		name = a.oldSource(c)
	}
	f, fi, err := tree.OpenFile(a.root, name)
	if err != nil {
		if c.FromNew {
			return ioErr(p, fmt.Sprintf("open its source %q", c.From), err)
		}
		return pathErr(ErrWrongBase, p, fixWrongBase, "takes its content from %q, which is not a file in DIR", c.From)
	}
	defer f.Close()
	err = a.stageFile(s, func(out *os.File) (int64, []byte, error) {
		return a.onePass(out, c.New, nil, func(w io.Writer) (int64, error) {
			n, err := io.Copy(w, io.LimitReader(f, c.New.Size+1))
			var we *writeError
			if err != nil && !errors.As(err, &we) {
				err = ioErr(p, fmt.Sprintf("read its source %q", c.From), err)
			}
			return n, err
		})
	})
	if !c.FromNew && (fi.Size() != c.New.Size || isCorrupt(err)) {
		return pathErr(ErrWrongBase, p, fixWrongBase, "takes its content from %q, which does not hold it", c.From)
	}
	return err
}

// stageFromDelta stages the new version of s from the archive's delta
// against its source of the old tree (in a dry run, only hashes it). The
// source is not checked by a hash of its own: the new version's is, and a
// source that is not the one the delta was made against fails it.
func (a *applier) stageFromDelta(src *source, s *step) error {
	c := s.c
	p := c.Path()
	if s.state == stNew {
		return drainOps(src)
	}
	f, fi, err := tree.OpenFile(a.root, a.oldSource(c))
	if err != nil || fi.Size() != c.FromSize {
		if err == nil {
			f.Close()
		}
		return pathErr(ErrWrongBase, p, fixWrongBase, "is a delta against %q, which is not the file of %d bytes it was made against", c.From, c.FromSize)
	}
	defer f.Close()
	err = a.stageFile(s, func(out *os.File) (int64, []byte, error) {
		return a.onePass(out, c.New, nil, func(w io.Writer) (int64, error) {
			return applyOps(src, p, f, c.FromSize, w, c.New.Size, nil)
		})
	})
	var e *Error
	if errors.As(err, &e) && e.Class == ErrCorrupt && e.Err == nil {
		// the archive read whole, its delta gives the wrong content
		return pathErr(ErrWrongBase, p, fixWrongBase, "is a delta against %q, which does not hold the content it was made against, or the archive's delta is damaged", c.From)
	}
	return err
}

// checkFrom refuses a source ibt-patch must not read: the staging
// directory, or an old file the archive creates. One it updates or
// replaces is kept (keepSource). That is done here for a source in path
// order before this change, by checkLaterSources for a later one.
func (a *applier) checkFrom(s *step) error {
	c := s.c
	p := c.Path()
	if c.From == stagingName || strings.HasPrefix(c.From, stagingName+"/") {
		return pathErr(ErrUnsafe, p, "", "takes its content from ibt-patch's staging directory")
	}
	if c.FromNew {
		return nil
	}
	if c.From > p {
		a.laterSources++
		return nil
	}
	t, err := a.log.find(c.From)
	if err != nil || t == nil {
		return err
	}
	return a.keepSource(s, t)
}

// sourceKept checks that t, the archive's step at the old source of c (or
// nil), leaves the source's content in place until the commit's end.
func sourceKept(c *format.Change, t *step) error {
	if t == nil || t.c.Op == format.OpDelete || t.c.Op == format.OpMeta && t.c.New.Type == format.TypeFile {
		return nil
	}
	return pathErr(ErrCorrupt, c.Path(), "", "takes its content from the old %q, which the archive does not keep (%s)", c.From, t.c.Op)
}

// checkLaterSources checks, once the whole archive is read, the old sources
// that come after the file they are copied to.
func (a *applier) checkLaterSources() error {
	if a.laterSources == 0 {
		return nil
	}
	return a.log.each(func(s *step) error {
		c := s.c
		if c.From == "" || c.FromNew || c.From < c.Path() {
			return nil
		}
		t, err := a.log.find(c.From)
		if err != nil || t == nil {
			return err
		}
		return a.keepSource(s, t)
	})
}

// checkOldSource checks, in a dry run, that the old source of c holds the
// new content.
func (a *applier) checkOldSource(c *format.Change) error {
	p := c.Path()
	fi, err := a.root.Lstat(c.From)
	if err != nil || !fi.Mode().IsRegular() {
		return pathErr(ErrWrongBase, p, fixWrongBase, "takes its content from %q, which is not a file in DIR", c.From)
	}
	h, err := a.disk.fileHash(c.From, fi)
	if err != nil {
		return err
	}
	if fi.Size() != c.New.Size || !bytes.Equal(h, c.New.Hash) {
		return pathErr(ErrWrongBase, p, fixWrongBase, "takes its content from %q, which does not hold it", c.From)
	}
	return nil
}

// isCorrupt reports whether err is classed ErrCorrupt.
func isCorrupt(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Class == ErrCorrupt
}
