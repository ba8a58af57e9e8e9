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
	switch {
	case d.NoRenames:
		err = diffIndexes(oldIdx, newR.Reader, w.WriteChange, nil, oldName, newName)
	case oldIdx == nil:
		f := newDupFinder(w.WriteChange)
		err = diffIndexes(nil, newR.Reader, f.change, nil, oldName, newName)
		c.summary = fmt.Sprintf("%d created files are copies (%s not stored)", f.matched, humanBytes(f.saved))
	default:
		err = d.withRenames(c, oldIdx, newR.Reader, w, dh, oldName, newName)
	}
	if err != nil {
		return err
	}
	if err := w.Close(format.Trailer{TreeHash: newR.Trailer().TreeHash}); err != nil {
		return fmt.Errorf("failed to write diff: %w", err)
	}
	return out.commit()
}

// withRenames runs the join through a renamer, which writes the changes
// to w, whose header is h, with their sources once the join is done.
func (d *diffCmd) withRenames(c *runContext, old, new *format.Reader, w *format.Writer, h format.Header, oldName, newName string) error {
	r, err := newRenamer(h)
	if err != nil {
		return err
	}
	defer r.close()
	if err := diffIndexes(old, new, r.change, r.unchanged, oldName, newName); err != nil {
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
	o := &entryStream{r: old, name: oldName}
	n := &entryStream{r: new, name: newName}
	if err := o.next(); err != nil {
		return err
	}
	if err := n.next(); err != nil {
		return err
	}
	for o.cur != nil || n.cur != nil {
		var ch *format.Change
		advOld, advNew := false, false
		switch {
		case n.cur == nil || (o.cur != nil && o.cur.Path < n.cur.Path):
			ch, advOld = &format.Change{Op: format.OpDelete, Old: stripSig(o.cur)}, true
		case o.cur == nil || n.cur.Path < o.cur.Path:
			ch, advNew = &format.Change{Op: format.OpCreate, New: stripSig(n.cur)}, true
		default:
			ch, advOld, advNew = compareEntries(o.cur, n.cur), true, true
		}
		if ch != nil {
			if err := emit(ch); err != nil {
				return fmt.Errorf("failed to write diff: %w", err)
			}
		} else if keep != nil {
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

// compareEntries classifies two entries at the same path; nil means unchanged.
// A further hard link whose content changed is replaced, not updated: the
// first link's update gives that path a new inode on restore, so the link
// must be made again.
func compareEntries(old, new *format.Entry) *format.Change {
	switch {
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
