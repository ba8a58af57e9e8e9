// Package diff compares two indexes, the work of ibt-diff: a merge join of
// two streams sorted by path, in constant memory, that writes the changes
// from the old tree to the new one, and finds the renamed and copied files
// among the created ones.
package diff

import (
	"bytes"
	"fmt"
	"io"

	"github.com/ibt-tools/ibt/format"
)

// Options says how Join writes a diff.
type Options struct {
	Tool string // the creating tool, for the diff's header
	LZ4  bool   // frame the diff in lz4
	// OldName and NewName name the indexes in messages.
	OldName, NewName string
	// NoRenames writes the changes as the join finds them, without looking
	// for renamed and copied files.
	NoRenames bool
	// Warn, if set, is told of each skipped entry of the new index.
	Warn func(msg string)
}

// Stats is what Join found besides the changes.
type Stats struct {
	Sourced int   // created files given a source: renames and copies
	Saved   int64 // the bytes of their content, which the archive does not carry
	Skipped int   // skipped entries of the new index, left as the old one has them
}

// Join writes to w the diff from old to new, two index streams; old nil is
// the empty index, of a full backup. A created file whose content the old
// tree (or an earlier created file) holds names that file as its source
// (see renames.go), unless opt.NoRenames: an incremental diff's changes are
// then written once the join is done, a full backup's as they are found.
func Join(old, new *format.Reader, opt Options, w io.Writer) (Stats, error) {
	var st Stats
	// Only an update's old signature goes into the diff (see format.Entry.WithoutSig).
	new.SkipSignatures()
	// An update carries the old entry's signature, which ibt-delta
	// matches the new file against: it needs the old index's seed.
	h := format.Header{Kind: format.KindDiff, Tool: opt.Tool}.WithTree(new.Header())
	if old != nil {
		// and the old entries' quick check fields are as good as the
		// old index's walk time
		h.Seed, h.Time = old.Header().Seed, old.Header().Time
	}
	dw, err := format.NewWriter(w, h, format.WriterOptions{LZ4: opt.LZ4})
	if err != nil {
		return st, err
	}
	j := &join{oldName: opt.OldName, newName: opt.NewName, tree: format.NewTreeHasher(), warnf: opt.Warn}
	switch {
	case opt.NoRenames:
		err = j.run(old, new, dw.WriteChange, nil)
	case old == nil:
		f := newDupFinder(dw.WriteChange)
		err = j.run(nil, new, f.change, nil)
		st.Sourced, st.Saved = f.matched, f.saved
	default:
		st.Sourced, st.Saved, err = withRenames(j, old, new, dw, h)
	}
	st.Skipped = j.skipped
	if err != nil {
		return st, err
	}
	// The new index's tree hash is that of what a full backup of it
	// restores; where it has skipped entries, this diff leaves old
	// entries in their place, which the hash must describe.
	treeHash := new.Trailer().TreeHash
	if j.skipped > 0 {
		treeHash = j.tree.Sum()
	}
	if err := dw.Close(format.Trailer{TreeHash: treeHash}); err != nil {
		return st, fmt.Errorf("failed to write diff: %w", err)
	}
	return st, nil
}

// withRenames runs the join through a renamer, which writes the changes
// to w, whose header is h, with their sources once the join is done.
func withRenames(j *join, old, new *format.Reader, w *format.Writer, h format.Header) (matched int, saved int64, err error) {
	r, err := newRenamer(h)
	if err != nil {
		return 0, 0, err
	}
	defer r.close()
	if err := j.run(old, new, r.change, r.unchanged); err != nil {
		return 0, 0, err
	}
	if err := r.finish(w); err != nil {
		return 0, 0, err
	}
	return r.matched, r.saved, nil
}

// entryStream reads the entries of an index one at a time; a nil stream is
// the empty index.
type entryStream struct {
	r    *format.Reader
	name string
	cur  *format.Entry // nil at the end
}

func (s *entryStream) next() error {
	s.cur = nil
	if s.r == nil {
		return nil
	}
	rec, err := s.r.Next()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read index %q: %w", s.name, err)
	}
	e, ok := rec.(*format.Entry)
	if !ok {
		return fmt.Errorf("failed to read index %q: unexpected %T record", s.name, rec)
	}
	s.cur = e
	return nil
}

// join is the merge join of ibt-diff, and what it found besides changes.
type join struct {
	oldName, newName string
	// tree, if set, hashes the tree the changes give: the new index's
	// entries, and the old entries left in place of its skipped ones
	tree *format.TreeHasher
	// warnf, if set, says which skipped files are left alone
	warnf   func(msg string)
	skipped int // skipped entries of the new index
}

// run merge-joins two sorted index streams, emitting each change in path
// order, and passing each old entry that did not change at all to keep, if
// set. old may be nil: everything is then created. A skipped entry of new
// (format.Entry.Skipped) changes nothing: the old entry at its path, if
// any, stays as it is. A skipped entry of old stands for whatever the chain
// restored there (an older version or nothing): it is the old entry of the
// delete or replace that clears or overwrites it (see Compare), and
// where new has it skipped too, a meta change of two skipped entries says
// to leave it alone.
func (j *join) run(old, new *format.Reader, emit func(*format.Change) error, keep func(*format.Entry) error) error {
	o := &entryStream{r: old, name: j.oldName}
	n := &entryStream{r: new, name: j.newName}
	if err := o.next(); err != nil {
		return err
	}
	if err := n.next(); err != nil {
		return err
	}
	for o.cur != nil || n.cur != nil {
		var ch *format.Change
		advOld, advNew := false, false
		var kept *format.Entry // the entry of the tree the changes give
		switch {
		case n.cur == nil || (o.cur != nil && o.cur.Path < n.cur.Path):
			ch, advOld = &format.Change{Op: format.OpDelete, Old: o.cur.WithoutSig()}, true
		case n.cur.Skipped:
			j.skipped++
			if o.cur != nil && o.cur.Path == n.cur.Path {
				advOld, kept = true, o.cur
				if o.cur.Skipped {
					// the restore holds what the last backup that
					// read it left, which neither index knows: the
					// change says to leave it alone
					ch, kept = &format.Change{Op: format.OpMeta, Old: o.cur, New: n.cur}, nil
					j.warn("%q changed while ibt-sign read it, and had when %q was made: left as the last backup that read it has it", n.cur.Path, j.oldName)
				} else {
					j.warn("%q changed while ibt-sign read it: left as %q has it", n.cur.Path, j.oldName)
				}
			} else if old == nil {
				j.warn("%q changed while ibt-sign read it and no version of it was read: this full backup cannot hold it, and leaves it out", n.cur.Path)
			} else {
				j.warn("%q changed while ibt-sign read it and %q does not have it: left out, as %q has it", n.cur.Path, j.oldName, j.oldName)
			}
			advNew = true
		case o.cur == nil || n.cur.Path < o.cur.Path:
			ch, advNew, kept = &format.Change{Op: format.OpCreate, New: n.cur.WithoutSig()}, true, n.cur
		default:
			ch, advOld, advNew, kept = Compare(o.cur, n.cur), true, true, n.cur
		}
		if kept != nil && j.tree != nil {
			j.tree.Add(kept)
		}
		if ch != nil {
			if err := emit(ch); err != nil {
				return fmt.Errorf("failed to write diff: %w", err)
			}
		} else if keep != nil && advOld {
			if err := keep(o.cur); err != nil {
				return err
			}
		}
		if advOld {
			if err := o.next(); err != nil {
				return err
			}
		}
		if advNew {
			if err := n.next(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (j *join) warn(format string, args ...any) {
	if j.warnf != nil {
		j.warnf(fmt.Sprintf(format, args...))
	}
}

// Compare classifies two entries at the same path into the change from
// old to new, as a diff records it; nil means unchanged.
// A further hard link whose content changed is replaced, not updated: the
// first link's update gives that path a new inode on restore, so the link
// must be made again. A skipped old entry (content unknown, see
// format.Entry.Skipped) is replaced by whatever new is: the restore holds
// an older version there, or nothing, and the new content is sent whole.
func Compare(old, new *format.Entry) *format.Change {
	switch {
	case old.Skipped:
		return &format.Change{Op: format.OpReplace, Old: old, New: new.WithoutSig()}
	case old.Type != new.Type,
		old.Type == format.TypeSymlink && old.Target != new.Target,
		old.Rdev != new.Rdev, // another device: made anew, as mknod makes it
		old.LinkTo != new.LinkTo,
		new.LinkTo != "" && (old.Size != new.Size || !bytes.Equal(old.Hash, new.Hash)):
		return &format.Change{Op: format.OpReplace, Old: old.WithoutSig(), New: new.WithoutSig()}
	case old.Type == format.TypeFile && new.LinkTo == "" &&
		(old.Size != new.Size || !bytes.Equal(old.Hash, new.Hash)):
		return &format.Change{Op: format.OpUpdate, Old: old, New: new.WithoutSig()}
	case !sameMetadata(old, new):
		return &format.Change{Op: format.OpMeta, Old: old.WithoutSig(), New: new.WithoutSig()}
	}
	return nil
}

// sameMetadata compares what ibt-patch restores besides content.
func sameMetadata(a, b *format.Entry) bool {
	if a.Mode != b.Mode || a.MTime != b.MTime || a.UID != b.UID || a.GID != b.GID || len(a.Xattrs) != len(b.Xattrs) {
		return false
	}
	for i := range a.Xattrs {
		if a.Xattrs[i].Name != b.Xattrs[i].Name || !bytes.Equal(a.Xattrs[i].Value, b.Xattrs[i].Value) {
			return false
		}
	}
	return true
}
