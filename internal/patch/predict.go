package patch

import (
	"bytes"
	"fmt"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/index"
	"github.com/ibt-tools/ibt/internal/tree"
)

// verifiedName holds what predict read of the files the archive leaves
// alone, in the known file's layout, so that the verification after the
// commit does not read them again (see hashOf).
const verifiedName = stagingName + "/verified"

// predict checks, before anything in DIR changes, that the commit will
// leave the tree the archive records: it walks DIR as the verification
// does, takes the archive's new entry at every path the archive changes and
// DIR's entry everywhere else, and compares the tree hash of that with the
// archive's. The checks of each change prove the paths the archive names;
// this proves the rest, so that a DIR holding other files, or a file
// changed locally that the archive leaves alone, is refused untouched
// instead of failing the verification after the commit.
func (a *applier) predict(want []byte) error {
	if len(want) == 0 || !treeVerified || a.root == nil {
		return nil // the verification reports these
	}
	if a.ws != nil && a.ws.pending != nil {
		// DIR is half way through the commit of an interrupted run,
		// which made this check before its commit began; its
		// directories may lack the mtimes the commit gives back last
		return nil
	}
	if a.ws == nil {
		if pending, _ := readJournal(a.root); pending != nil {
			return nil // a dry run on a half-committed DIR: the same
		}
	}
	if a.only != nil {
		return a.predictOnly() // readAgain checked the archive's tree hash
	}
	var known *knownReader
	if !a.opt.NoKnown {
		known = openKnown(a.knownAt)
		defer known.close()
	}
	var record *knownWriter
	if a.ws != nil {
		record, _ = createKnown(a.verifiedPlace(), time.Now())
		defer record.abort()
	}
	th := format.NewTreeHasher()
	full := true       // every change of the archive creates its path
	var extra string   // the first path the archive leaves alone
	var changed string // the first of those the known file saw otherwise
	err := a.walkMerged(func(n *tree.Node, s *step) error {
		if s != nil {
			if s.c.Old != nil {
				full = false
			}
			if s.c.New != nil {
				th.Add(s.c.New) // which leaves out a skipped entry
			}
			return nil
		}
		if extra == "" {
			extra = n.Path
		}
		e := index.FromNode(n)
		if e.Type == format.TypeFile {
			h, _, err := a.hashOf(n, nil, known, nil, nil)
			if err != nil {
				return err
			}
			if changed == "" && known.stale(n.Path, n) {
				changed = n.Path
			}
			record.add(n, h)
			e.Hash = h
		}
		th.Add(&e)
		return nil
	})
	if err != nil {
		return asError(err, ErrWrongBase, "failed to check the paths the archive leaves alone")
	}
	if got := th.Sum(); !bytes.Equal(got, want) {
		switch {
		case full && a.header.Time == 0 && extra != "":
			// no old entries, and no old index (ibt-diff --full)
			return pathErr(ErrConflict, extra, "restore a full backup into a new or empty directory",
				"is in DIR, but not in the tree of the archive, a full backup: the restored tree would not be the backed-up one")
		case changed != "":
			return pathErr(ErrWrongBase, changed, "restore it to the version the last ibt-patch left, or restore the chain into a new directory",
				"was changed since ibt-patch last verified DIR, and the archive leaves it alone: the patched tree would not be the backed-up one")
		}
		return &Error{Class: ErrWrongBase,
			Detail: fmt.Sprintf("DIR differs from the archive's old tree outside the paths the archive changes (the patched tree would hash to %s, not %s)", short(got), short(want)),
			Fix:    "an entry the archive leaves alone was added, removed or changed in DIR: restore the chain into a new directory, and compare it with DIR (diff -r) to find it"}
	}
	if err := record.commit(); err != nil {
		a.warn(fmt.Sprintf("could not keep what the check read (the verification reads it again): %v", err))
	}
	return nil
}

// verifiedPlace is where predict keeps the hashes it read, for the
// verification of the same run.
func (a *applier) verifiedPlace() *knownPlace {
	return &knownPlace{root: a.root, name: verifiedName, temp: verifiedName + ".tmp"}
}
