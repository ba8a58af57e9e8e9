package patch

import (
	"strings"

	"github.com/ibt-tools/ibt/format"
)

// While the archive is read, the checks of a change need only what the
// archive says about the directories above its path, and all of those came
// earlier in path order. frames keeps just these: the changes (and the
// directories the archive leaves alone but whose mtimes are kept) whose
// subtree the reading has not yet passed. Paths are in bytewise order, so a
// subtree "d/..." is one contiguous run, though not always right after "d"
// ("d.txt" sorts between them): a frame is dropped once a path beyond the
// run is read. Every frame is then a prefix of the current path, and there
// are at most as many as the path has bytes; in practice, its depth.
type frame struct {
	path    string
	changed bool // the archive changes the path; old and new are its entries' types
	old     entryType
	new     entryType
	late    bool
	// emptied: a directory the archive removes, whose entries on disk are
	// counted against the archive's deletions below it (see checkEmptied).
	emptied bool
	present int64 // entries below it that the archive deletes and are on disk
	// dropped: the step is a dropped directory (Options.Only), logged at
	// offset at, which keepParents keeps if an entry beneath it is selected
	dropped bool
	at      int64
	// staged: a directory staged whole (see stageTree), at this root name
	staged string
}

// entryType is an entry's type, or none.
type entryType struct {
	ok bool
	t  format.Type
}

func typeOfEntry(e *format.Entry) entryType {
	if e == nil {
		return entryType{}
	}
	return entryType{ok: true, t: e.Type}
}

func (e entryType) isDir() bool { return e.ok && e.t == format.TypeDir }

// covers reports whether the subtree run of f still lies ahead of, or
// contains, p.
func (f *frame) covers(p string) bool {
	if !strings.HasPrefix(p, f.path) {
		return false
	}
	return len(p) == len(f.path) || p[len(f.path)] <= '/'
}

// advance drops the frames whose subtree lies behind p, finishing the
// check of each emptied directory among them.
func (a *applier) advance(p string) error {
	for n := len(a.frames); n > 0 && !a.frames[n-1].covers(p); n = len(a.frames) {
		f := a.frames[n-1]
		a.frames = a.frames[:n-1]
		if f.emptied {
			if err := a.checkEmptied(&f); err != nil {
				return err
			}
		}
	}
	return nil
}

// frameOf returns the frame of q, an ancestor of the current path, or nil.
func (a *applier) frameOf(q string) *frame {
	for i := len(a.frames) - 1; i >= 0; i-- {
		if len(a.frames[i].path) == len(q) {
			if a.frames[i].path == q {
				return &a.frames[i]
			}
			return nil
		}
		if len(a.frames[i].path) < len(q) {
			return nil
		}
	}
	return nil
}

// changeOf returns the frame of q if the archive changes q.
func (a *applier) changeOf(q string) *frame {
	if f := a.frameOf(q); f != nil && f.changed {
		return f
	}
	return nil
}

// pushFrame adds f, whose path is the current path or one of its
// ancestors, keeping the frames ordered by length.
func (a *applier) pushFrame(f frame) {
	i := len(a.frames)
	for i > 0 && len(a.frames[i-1].path) > len(f.path) {
		i--
	}
	a.frames = append(a.frames, frame{})
	copy(a.frames[i+1:], a.frames[i:])
	a.frames[i] = f
}

// stepFrame returns the frame of the step s.
func stepFrame(s *step) frame {
	c := s.c
	return frame{
		path:    c.Path(),
		changed: true,
		old:     typeOfEntry(c.Old),
		new:     typeOfEntry(c.New),
		late:    s.late,
		emptied: s.state == stOld && c.Old.Type == format.TypeDir && (c.New == nil || c.New.Type != format.TypeDir),
		staged:  stagedTree(s),
	}
}

// stagedTree returns the root name of s if it is a directory staged whole.
func stagedTree(s *step) string {
	if s.staged != "" && s.c.New != nil && s.c.New.Type == format.TypeDir {
		return s.staged
	}
	return ""
}
