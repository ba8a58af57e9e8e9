package patch

import (
	"errors"
	"io/fs"
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
//     new version; then, in path order, hard links to such files are made;
//  3. deepest first: directories, and entries that were already in place
//     or change only metadata, get their mode and mtime; directories the
//     archive does not describe get back the mtime they had.
//
// At every instant each file is its old or its new version: a path is
// only ever missing where a type change is half done, which the next run
// accepts and completes.
func (a *applier) commit() error {
	defer a.fds.forget()
	err := a.log.each(func(s *step) error {
		if err := a.place(s); err != nil {
			return a.commitErr(s.c.Path(), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// the steps below make and remove paths out of path order
	a.fds.forget()
	err = a.log.backwardWhere(needsRemove, func(s *step) error {
		if err := a.remove(s); err != nil {
			return a.commitErr(s.c.Path(), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.fds.forget()
	err = a.log.eachWhere(func(h stepHead) bool { return h.flags2&recLateLink != 0 }, func(s *step) error {
		if !s.lateLink {
			return nil
		}
		if err := a.put(s, nil); err != nil { // out of path order: not noted
			return a.commitErr(s.c.Path(), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = a.log.backwardWhere(needsMeta, func(s *step) error {
		c := s.c
		if c.New == nil || (s.staged != "" || s.done) && c.New.Type != format.TypeDir {
			return nil
		}
		var err error
		if c.New.Type == format.TypeDir && c.New.Path != "" {
			chown, chmod := a.chown, true
			if s.staged != "" && a.fresh != nil {
				// made in staging by this run (stageTree; every run
				// starts from an empty staging directory, see
				// openWorkspace), with the owner and, where it could
				// be, the mode it is to have
				chown = chown && !a.fresh.ownsDir(c.New)
				chmod = !a.fresh.makesDir(c.New)
			}
			err = a.fds.dirMeta(c.New.Path, c.New, chown, chmod)
		} else {
			err = setMeta(a.root, c.New.Path, c.New, a.chown)
		}
		if err != nil {
			return a.commitErr(c.Path(), err)
		}
		// a directory made in place may have taken its parent's default
		// ACL, which only root, who restores ACLs, can take away again;
		// one staged whole was made where none is (see stagesTree)
		made := c.New.Type == format.TypeDir && s.state != stNew && s.staged == "" && a.chown
		if len(c.New.Xattrs) > 0 || s.oldXattrs || made {
			if err := a.syncXattrs(c.New.Path, c.New); err != nil {
				return a.commitErr(c.Path(), err)
			}
		}
		a.stepped()
		return nil
	})
	if err != nil {
		return err
	}
	// Setting a directory's mtime leaves its parent's alone, so the kept
	// mtimes may be given back in any order.
	return a.ws.eachKept(func(p string, mtime int64) error {
		err := a.root.Chtimes(p, time.Time{}, time.Unix(0, mtime))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return a.commitErr(p, err)
		}
		a.stepped()
		return nil
	})
}

// needsRemove says whether remove may have anything to do for a step: the
// second pass of a full restore decodes none.
func needsRemove(h stepHead) bool {
	return h.op == format.OpDelete && h.state == stOld || h.flags&recLate != 0
}

// needsMeta says whether the metadata pass may have anything to do for a
// step: not for a file or symlink placed or found with its metadata.
func needsMeta(h stepHead) bool {
	return h.flags&recNew != 0 && (h.flags&(recStaged|recDone) == 0 || h.newType == format.TypeDir)
}

// place does step 1 for s.
func (a *applier) place(s *step) error {
	c := s.c
	if c.New == nil || s.state == stNew || s.late || s.lateLink {
		return nil
	}
	p := c.Path()
	if s.inside {
		// placed with the directory staged whole above it
		if c.New.Type == format.TypeFile && a.placed != nil {
			a.placed.add(p, s.dev, s.ino, s.ctime)
		}
		return nil
	}
	if c.New.Type == format.TypeDir && s.staged != "" {
		// a directory staged whole: an empty directory made at p since
		// the check would be replaced, a non-empty one or a file refused
		a.fds.forget()
		if err := a.fds.rename(s.staged, p); err != nil {
			return err
		}
		a.fds.forget()
		a.stepped()
		return nil
	}
	if c.New.Type == format.TypeDir {
		a.fds.forget()
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
	return a.put(s, a.placed)
}

// put moves the staged new version of s over its path, making a hard link
// first if s is one: both steps atomic, so the path is always its old or
// its new version. A placed file is noted in placed, if not nil, right
// after the rename.
func (a *applier) put(s *step, placed *placedLog) error {
	p := s.c.Path()
	if s.link {
		if err := a.root.Link(s.c.New.LinkTo, s.staged); err != nil {
			return err
		}
	}
	if err := a.fds.rename(s.staged, p); err != nil {
		return err
	}
	if s.c.New.Type == format.TypeFile && placed != nil {
		if dev, ino, ctime, ok := a.fds.identity(p); ok {
			placed.add(p, dev, ino, ctime)
		}
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
		a.fds.forget()
		if s.lateLink {
			return nil // once its first path is placed
		}
		if err := a.put(s, nil); err != nil { // out of path order: not noted
			return err
		}
	}
	return nil
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
