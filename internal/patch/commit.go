package patch

import (
	"errors"
	"io/fs"
	"slices"
	"time"

	"github.com/ibt-tools/ibt/format"
)

// commit turns DIR into the new tree in an order that always works and
// that a second run can finish from any point:
//
//  1. in path order (parents first): directories are made (an old file or
//     symlink in the way removed first), and staged files and symlinks are
//     renamed over their paths, each rename atomic;
//  2. deepest first: deleted entries are removed, then a directory that
//     became a file or symlink, emptied by now, makes way for its staged
//     new version;
//  3. deepest first: directories, and entries that were already in place
//     or change only metadata, get their mode and mtime; directories the
//     archive does not describe get back the mtime they had.
//
// At every instant each file is its old or its new version: a path is
// only ever missing where a type change is half done, which the next run
// accepts and completes.
func (a *applier) commit() error {
	for _, s := range a.steps {
		if err := a.place(s); err != nil {
			return a.commitErr(s.c.Path(), err)
		}
	}
	for _, s := range slices.Backward(a.steps) {
		if err := a.remove(s); err != nil {
			return a.commitErr(s.c.Path(), err)
		}
	}
	for _, s := range slices.Backward(a.steps) {
		c := s.c
		if c.New == nil || s.staged != "" || (s.done && c.New.Type != format.TypeDir) {
			continue
		}
		if err := setMeta(a.root, c.New.Path, c.New, a.chown); err != nil {
			return a.commitErr(c.Path(), err)
		}
		if len(c.New.Xattrs) > 0 || c.Old != nil && len(c.Old.Xattrs) > 0 {
			if err := a.syncXattrs(c.New.Path, c.New); err != nil {
				return a.commitErr(c.Path(), err)
			}
		}
		a.stepped()
	}
	dirs := make([]string, 0, len(a.ws.journal.MTimes))
	for p := range a.ws.journal.MTimes {
		if p != "" {
			dirs = append(dirs, p)
		}
	}
	slices.Sort(dirs)
	for _, p := range slices.Backward(dirs) {
		err := a.root.Chtimes(p, time.Time{}, time.Unix(0, a.ws.journal.MTimes[p]))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return a.commitErr(p, err)
		}
		a.stepped()
	}
	return nil
}

// place does step 1 for s.
func (a *applier) place(s *step) error {
	c := s.c
	if c.New == nil || s.state == stNew || s.late {
		return nil
	}
	p := c.Path()
	if c.New.Type == format.TypeDir {
		if s.state == stOld {
			if err := a.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			a.stepped()
		}
		if err := a.root.Mkdir(p, 0o700); err != nil {
			if fi, serr := a.root.Lstat(p); serr != nil || !fi.IsDir() {
				return err
			}
		}
		a.stepped()
		return nil
	}
	return a.put(s)
}

// put moves the staged new version of s over its path, making a hard link
// first if s is one: both steps atomic, so the path is always its old or
// its new version.
func (a *applier) put(s *step) error {
	p := s.c.Path()
	if s.link {
		if err := a.root.Link(s.c.New.LinkTo, s.staged); err != nil {
			return err
		}
		a.written[p] = newFile{size: s.c.New.Size, mtime: s.c.New.MTime, hash: s.c.New.Hash}
	}
	if err := a.root.Rename(s.staged, p); err != nil {
		return err
	}
	a.stepped()
	return nil
}

// remove does step 2 for s.
func (a *applier) remove(s *step) error {
	c := s.c
	p := c.Path()
	switch {
	case c.Op == format.OpDelete && s.state == stOld:
		if err := a.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		a.stepped()
	case s.late:
		if err := a.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		a.stepped()
		if err := a.put(s); err != nil {
			return err
		}
	}
	return nil
}

// keptMTimes returns the current mtimes of the directories whose contents
// the commit changes but which the archive does not describe.
func (a *applier) keptMTimes() map[string]int64 {
	m := map[string]int64{}
	for _, s := range a.steps {
		if s.state == stNew {
			continue
		}
		q := parent(s.c.Path())
		if _, ok := a.index[q]; ok || q == "" {
			continue
		}
		if _, ok := m[q]; ok {
			continue
		}
		if fi, err := a.root.Lstat(q); err == nil && fi.IsDir() {
			m[q] = fi.ModTime().UnixNano()
		}
	}
	return m
}

// commitErr reports a failure during the commit, which a second run
// finishes once its cause is fixed.
func (a *applier) commitErr(p string, err error) error {
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	return &Error{Path: p, Class: errIO, Detail: "failed during the commit (every file is in its old or its new version)", Fix: fixResume, Err: unwrapPath(err)}
}

// stepped marks the end of one commit step, where tests inject crashes.
func (a *applier) stepped() {
	if faults.commitStep != nil {
		faults.commitStep()
	}
}
