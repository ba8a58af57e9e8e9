package cli

import (
	"bytes"
	"fmt"
	"io"

	"github.com/ibt-tools/ibt/format"
)

const diffHelp = `Compare two indexes and write the changes from OLD to NEW: created,
updated, deleted and type-changed entries, metadata changes. It is a merge
join of two sorted streams: memory stays constant on any tree.

A created file whose content an old file (or an earlier created one) has
is a rename or a copy: it names that file as its source and the archive
carries no content for it. An incremental diff writes its changes once the
join is done, as a rename to an earlier name is only known then; a full
backup's flow out at once (see --no-renames).

A file that ibt-sign --skip-changed marked skipped (it changed while read,
and no earlier entry was at hand) is left as OLD has it, with a warning; a
full backup leaves it out. A file OLD has skipped is written whole (or
deleted) over whatever the restore holds there, or left alone if NEW has
it skipped too.

Example:
  ibt-diff v1.idx v2.idx > v2.diff
  ibt-sign ~/data | ibt-diff v1.idx - > v2.diff
  ibt-diff --full v1.idx > full.diff      # full backup: everything is created`

type diffCmd struct {
	commonFlags
	Old  string `arg:"" placeholder:"OLD" help:"The old index ('-' for standard input); with --full, the new one."`
	New  string `arg:"" optional:"" placeholder:"NEW" help:"The new index ('-' for standard input)."`
	Full bool   `help:"Write a full backup: every entry of the one index given is created."`
	// NoRenames streams the changes straight out, for a consumer that
	// wants them before the join ends.
	NoRenames bool `name:"no-renames" help:"Do not look for renamed and copied files; their content goes into the archive. The changes then flow out as the join finds them instead of at its end."`
	outputFlag
	LZ4 bool `name:"lz4" help:"Frame the output in lz4."`
}

// streamHeapLimit is the memory limit of ibt-diff, ibt-delta and ibt-patch,
// unless GOMEMLIMIT or GOGC say otherwise. Their live heap is small but for
// the signature or the delta of one large file, which passes through them
// as records of up to 16 MB decoded, encoded again and parsed; the limit
// makes the collector take back each such record's garbage before the
// next, so that the process stays within the 64 MiB a command may use (on
// a 20 GiB file ibt-patch went from 62 to 41 MiB).
const streamHeapLimit = 32 << 20

func (d *diffCmd) run(c *runContext) error {
	defer tuneGC(100, streamHeapLimit)()
	oldName, newName := d.Old, d.New
	switch {
	case d.Full && d.New != "":
		return usagef("--full takes one index, the new one; got two")
	case !d.Full && d.New == "":
		return withHint(usagef("expected two indexes, OLD and NEW"), "for a full backup, use 'ibt-diff --full NEW'")
	case !d.Full && isStdin(oldName) && isStdin(newName):
		return usagef("only one of OLD and NEW can be standard input")
	}
	if d.Full {
		oldName, newName = "", d.Old
	}

	var oldIdx *format.Reader
	if oldName != "" {
		r, err := c.openIndex(oldName)
		if err != nil {
			return err
		}
		defer r.close()
		oldIdx = r.Reader
	}
	newR, err := c.openIndex(newName)
	if err != nil {
		return err
	}
	defer newR.close()
	// Only an update's old signature goes into the diff (see stripSig).
	newR.SkipSignatures()

	out, err := c.openOutput(d.outputFlag)
	if err != nil {
		return err
	}
	out.private = true // it holds (or hands on) the signatures' secret seed
	defer out.abort()
	h := newR.Header()
	// An update carries the old entry's signature, which ibt-delta
	// matches the new file against: it needs the old index's seed.
	dh := format.Header{Kind: format.KindDiff, Tool: c.name + " " + Version}.WithTree(h)
	if oldIdx != nil {
		// and the old entries' quick check fields are as good as the
		// old index's walk time
		dh.Seed, dh.Time = oldIdx.Header().Seed, oldIdx.Header().Time
	}
	w, err := format.NewWriter(out, dh, format.WriterOptions{LZ4: d.LZ4})
	if err != nil {
		return err
	}
	j := &join{oldName: oldName, newName: newName, tree: format.NewTreeHasher(), warnf: c.warnf}
	switch {
	case d.NoRenames:
		err = j.run(oldIdx, newR.Reader, w.WriteChange, nil)
	case oldIdx == nil:
		f := newDupFinder(w.WriteChange)
		err = j.run(nil, newR.Reader, f.change, nil)
		c.summary = fmt.Sprintf("%d created files are copies (%s not stored)", f.matched, humanBytes(f.saved))
	default:
		err = d.withRenames(c, j, oldIdx, newR.Reader, w, dh)
	}
	if err != nil {
		return err
	}
	// The new index's tree hash is that of what a full backup of it
	// restores; where it has skipped entries, this diff leaves old
	// entries in their place, which the hash must describe.
	treeHash := newR.Trailer().TreeHash
	if j.skipped > 0 {
		treeHash = j.tree.Sum()
		c.summary += fmt.Sprintf("; %d skipped files left as %s has them", j.skipped, displayName(oldName))
	}
	if err := w.Close(format.Trailer{TreeHash: treeHash}); err != nil {
		return fmt.Errorf("failed to write diff: %w", err)
	}
	return out.commit()
}

// withRenames runs the join through a renamer, which writes the changes
// to w, whose header is h, with their sources once the join is done.
func (d *diffCmd) withRenames(c *runContext, j *join, old, new *format.Reader, w *format.Writer, h format.Header) error {
	r, err := newRenamer(h)
	if err != nil {
		return err
	}
	defer r.close()
	if err := j.run(old, new, r.change, r.unchanged); err != nil {
		return err
	}
	if err := r.finish(w); err != nil {
		return err
	}
	c.summary = fmt.Sprintf("%d created files are renames or copies (%s not stored)", r.matched, humanBytes(r.saved))
	return nil
}

func isStdin(name string) bool { return name == "-" }

// indexInput is an opened index stream.
type indexInput struct {
	*format.Reader
	close func() error
}

// openIndex opens name as an index stream and checks its kind.
func (c *runContext) openIndex(name string) (*indexInput, error) {
	f, err := c.openInput(name)
	if err != nil {
		return nil, err
	}
	r, err := format.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("failed to read index %q: %w", displayName(name), err)
	}
	if k := r.Header().Kind; k != format.KindIndex {
		f.Close()
		return nil, withHint(fmt.Errorf("%q is a %s stream, not an index", displayName(name), k),
			"indexes are made by ibt-sign")
	}
	return &indexInput{Reader: r, close: f.Close}, nil
}

func displayName(name string) string {
	if name == "-" || name == "" {
		return "standard input"
	}
	return name
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
		return fmt.Errorf("failed to read index %q: %w", displayName(s.name), err)
	}
	e, ok := rec.(*format.Entry)
	if !ok {
		return fmt.Errorf("failed to read index %q: unexpected %T record", displayName(s.name), rec)
	}
	s.cur = e
	return nil
}

// diffIndexes merge-joins two sorted index streams, emitting each change in
// path order, and passing each old entry that did not change at all to
// keep, if set. old may be nil: everything is then created.
func diffIndexes(old, new *format.Reader, emit func(*format.Change) error, keep func(*format.Entry) error, oldName, newName string) error {
	j := &join{oldName: oldName, newName: newName}
	return j.run(old, new, emit, keep)
}

// join is the merge join of ibt-diff, and what it found besides changes.
type join struct {
	oldName, newName string
	// tree, if set, hashes the tree the changes give: the new index's
	// entries, and the old entries left in place of its skipped ones
	tree *format.TreeHasher
	// warnf, if set, says which skipped files are left alone
	warnf   func(format string, args ...any)
	skipped int // skipped entries of the new index
}

// run merge-joins two sorted index streams, emitting each change in path
// order, and passing each old entry that did not change at all to keep, if
// set. old may be nil: everything is then created. A skipped entry of new
// (format.Entry.Skipped) changes nothing: the old entry at its path, if
// any, stays as it is. A skipped entry of old stands for whatever the chain
// restored there (an older version or nothing): it is the old entry of the
// delete or replace that clears or overwrites it (see compareEntries), and
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
			ch, advOld = &format.Change{Op: format.OpDelete, Old: stripSig(o.cur)}, true
		case n.cur.Skipped:
			j.skipped++
			if o.cur != nil && o.cur.Path == n.cur.Path {
				advOld, kept = true, o.cur
				if o.cur.Skipped {
					// the restore holds what the last backup that
					// read it left, which neither index knows: the
					// change says to leave it alone
					ch, kept = &format.Change{Op: format.OpMeta, Old: o.cur, New: n.cur}, nil
					j.warn("%q changed while ibt-sign read it, and had when %q was made: left as the last backup that read it has it", n.cur.Path, displayName(j.oldName))
				} else {
					j.warn("%q changed while ibt-sign read it: left as %q has it", n.cur.Path, displayName(j.oldName))
				}
			} else if old == nil {
				j.warn("%q changed while ibt-sign read it and no version of it was read: this full backup cannot hold it, and leaves it out", n.cur.Path)
			} else {
				j.warn("%q changed while ibt-sign read it and %q does not have it: left out, as %q has it", n.cur.Path, displayName(j.oldName), displayName(j.oldName))
			}
			advNew = true
		case o.cur == nil || n.cur.Path < o.cur.Path:
			ch, advNew, kept = &format.Change{Op: format.OpCreate, New: stripSig(n.cur)}, true, n.cur
		default:
			ch, advOld, advNew, kept = compareEntries(o.cur, n.cur), true, true, n.cur
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
		j.warnf(format, args...)
	}
}

// compareEntries classifies two entries at the same path; nil means unchanged.
// A further hard link whose content changed is replaced, not updated: the
// first link's update gives that path a new inode on restore, so the link
// must be made again. A skipped old entry (content unknown, see
// format.Entry.Skipped) is replaced by whatever new is: the restore holds
// an older version there, or nothing, and the new content is sent whole.
func compareEntries(old, new *format.Entry) *format.Change {
	switch {
	case old.Skipped:
		return &format.Change{Op: format.OpReplace, Old: old, New: stripSig(new)}
	case old.Type != new.Type,
		old.Type == format.TypeSymlink && old.Target != new.Target,
		old.Rdev != new.Rdev, // another device: made anew, as mknod makes it
		old.LinkTo != new.LinkTo,
		new.LinkTo != "" && (old.Size != new.Size || !bytes.Equal(old.Hash, new.Hash)):
		return &format.Change{Op: format.OpReplace, Old: stripSig(old), New: stripSig(new)}
	case old.Type == format.TypeFile && new.LinkTo == "" &&
		(old.Size != new.Size || !bytes.Equal(old.Hash, new.Hash)):
		return &format.Change{Op: format.OpUpdate, Old: old, New: stripSig(new)}
	case !sameMetadata(old, new):
		return &format.Change{Op: format.OpMeta, Old: stripSig(old), New: stripSig(new)}
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

// stripSig returns e without its block signatures, which only an update's
// delta needs.
func stripSig(e *format.Entry) *format.Entry {
	if e == nil || e.Sig == nil {
		return e
	}
	c := *e
	c.Sig = nil
	return &c
}
