package patch

import (
	"bytes"
	"fmt"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/index"
	"github.com/ibt-tools/ibt/internal/tree"
)

// verify walks the patched tree as ibt-sign does and compares its tree
// hash with the one the archive records for the new tree, or with
// Options.Only, each entry with the selected one of the archive (only.go).
// Files this run wrote or found in their new version are not read again:
// the walk is in path order, as the step log is, so the two are read side
// by side.
func (a *applier) verify(want []byte) error {
	if len(want) == 0 {
		return &Error{Class: ErrVerify, Detail: "the archive records no tree hash to verify the patched tree against"}
	}
	if !treeVerified {
		a.warn("the patched tree is not checked against the archive's tree hash: this system does not keep Unix modes, symlink mtimes and hard links as the hash records them; each new file's content was checked")
		return nil
	}
	var known *knownReader
	var record *knownWriter
	if a.opt.NoKnown {
		if err := a.knownAt.remove(); err != nil {
			a.warn(fmt.Sprintf("could not remove the known file: %v", err))
		}
	} else {
		known = openKnown(a.knownAt)
		defer known.close()
		// A known file that cannot be written is no reason to fail: the
		// next run reads what it would have vouched for.
		record, _ = createKnown(a.knownAt, time.Now())
		defer record.abort()
	}
	verified := openKnown(a.verifiedPlace())
	defer verified.close()
	placed := a.placed.reader()
	th := format.NewTreeHasher()
	var changed string // the first path left alone that changed since predict
	err := a.walkMerged(func(n *tree.Node, s *step) error {
		switch {
		case s != nil && s.c.New != nil && s.c.New.Skipped:
			return nil // a file the backups could not read, left alone
		case n == nil && s.c.New != nil:
			return &Error{Path: s.c.Path(), Class: ErrVerify, Detail: "is missing after the patch, but the archive's new tree has it"}
		case n == nil:
			return nil
		case s != nil && s.c.New == nil:
			return &Error{Path: n.Path, Class: ErrVerify, Detail: "is still there after the patch, but the archive deletes it"}
		case s == nil && a.only != nil:
			return &Error{Path: n.Path, Class: ErrVerify, Detail: "is in DIR after the patch, but not among the entries --only restores"}
		}
		e := index.FromNode(n)
		if a.chown && s != nil && (e.UID != s.c.New.UID || e.GID != s.c.New.GID) {
			// owners are not in the tree hash (a restore without root
			// cannot give them), so the ones this run gave are checked here
			return &Error{Path: n.Path, Class: ErrVerify, Detail: fmt.Sprintf("has owner %d:%d after the patch, but the archive gives it %d:%d", e.UID, e.GID, s.c.New.UID, s.c.New.GID)}
		}
		if e.Type == format.TypeFile {
			h, vouched, err := a.hashOf(n, s, known, verified, placed)
			if err != nil {
				return err
			}
			if placed.at(n.Path) {
				record.placedFile(n)
			}
			e.Hash = h
			if vouched {
				record.add(n, h)
			}
			if s == nil && changed == "" && verified.stale(n.Path, n) {
				changed = n.Path
			}
		}
		if s != nil {
			if d := entryDiff(&e, s.c.New); d != "" {
				return &Error{Path: n.Path, Class: ErrVerify, Detail: d + " after the patch",
					Fix: "something changed it while ibt-patch ran: run the same ibt-patch again"}
			}
		}
		th.Add(&e)
		return nil
	})
	if err != nil {
		return asError(err, ErrVerify, "failed to verify the patched tree")
	}
	// With Options.Only the tree is the archive's cut down to the selected
	// entries, each compared with its entry above: no tree hash of it is
	// recorded, and readAgain checked the archive's.
	if got := th.Sum(); a.only == nil && !bytes.Equal(got, want) {
		if changed != "" {
			return &Error{Path: changed, Class: ErrVerify, Detail: "changed while ibt-patch ran, which leaves it alone: the patched tree differs from the archive's new tree"}
		}
		return &Error{Class: ErrVerify,
			Detail: fmt.Sprintf("the patched tree differs from the archive's new tree (tree hash %s, want %s)", short(got), short(want)),
			Fix:    "an entry the archive leaves alone changed while ibt-patch ran (the check before the commit found DIR as the archive expects): run the same ibt-patch again, or restore the chain into a new directory and compare it with DIR (diff -r)"}
	}
	if err := record.commit(); err != nil {
		a.warn(fmt.Sprintf("could not record the verified files in the known file (the next run reads them again): %v", err))
	}
	return nil
}

// hashOf returns the content hash of the file n, taking it from s, the
// step at its path if any, if that placed or found it (every new file of
// the archive was checked against its hash) and its size and mtime are
// the new ones, or else from known if the file is unchanged since an
// earlier run verified it, or from verified if unchanged since predict
// read it before the commit, or else by reading it. vouched says that the
// hash may go into the known file: it was read, or known vouched for it,
// or placed shows the file untouched since the commit put it in place (a
// file rewritten since with its size and mtime put back would otherwise
// pass for good).
func (a *applier) hashOf(n *tree.Node, s *step, known, verified *knownReader, placed *placedReader) (h []byte, vouched bool, err error) {
	if s != nil && s.c.New != nil && s.c.New.Type == format.TypeFile && s.c.New.Size == n.Size && s.c.New.MTime == n.MTime {
		return s.c.New.Hash, placed.unchanged(n), nil
	}
	if h := known.lookup(n.Path, n); h != nil {
		return h, true, nil
	}
	if h := verified.lookup(n.Path, n); h != nil {
		return h, true, nil
	}
	if faults.read != nil {
		faults.read(n.Path)
	}
	f, fi, err := tree.OpenFile(a.root, n.Path)
	if err != nil {
		return nil, false, &Error{Path: n.Path, Class: ErrVerify, Detail: "failed to read it to verify the patched tree", Err: err}
	}
	defer f.Close()
	sum, err := a.disk.hashFile(f, fi.Size())
	if err != nil {
		return nil, false, &Error{Path: n.Path, Class: ErrVerify, Detail: "failed to read it to verify the patched tree", Err: err}
	}
	return sum, true, nil
}
