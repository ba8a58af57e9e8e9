package patch

import (
	"bytes"
	"fmt"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
)

// walkMerged walks DIR as ibt-sign does, leaving out what the archive's
// exclusions and the workspace leave out, side by side with the step log:
// both are in path order, so visit is called once for every path either
// has, with DIR's entry there (n, nil if none) and the archive's change
// there (s, nil if none). The predict before the commit and the
// verification after it are such walks.
func (a *applier) walkMerged(visit func(n *tree.Node, s *step) error) error {
	log, err := a.log.forward()
	if err != nil {
		return err
	}
	pending := log.next() // the next step not yet visited
	ex := tree.NewExcluder(a.root, a.header.Exclude, format.IgnoreFile)
	err = tree.Walk(a.dir, tree.Options{Ignore: ex}, func(n *tree.Node) error {
		if err := ex.Err(); err != nil {
			return err
		}
		for pending != nil && pending.c.Path() < n.Path {
			if err := visit(nil, pending); err != nil {
				return err
			}
			pending = log.next()
		}
		var s *step
		if pending != nil && pending.c.Path() == n.Path {
			s, pending = pending, log.next()
		}
		return visit(n, s)
	})
	for ; err == nil && pending != nil; pending = log.next() {
		err = visit(nil, pending)
	}
	if err == nil {
		err = log.err
	}
	if err == nil {
		err = ex.Err()
	}
	return err
}

// entryDiff says how e, an entry as found in DIR, differs from want, the
// archive's, in what the tree hash covers: "" if it does not.
func entryDiff(e, want *format.Entry) string {
	switch {
	case e.Type != want.Type:
		return fmt.Sprintf("is a %s, but the archive's new tree has a %s", e.Type, want.Type)
	case e.Mode != want.Mode:
		return fmt.Sprintf("has mode %#o, but the archive's new tree has %#o", e.Mode, want.Mode)
	case e.MTime != want.MTime:
		return fmt.Sprintf("has mtime %d, but the archive's new tree has %d", e.MTime, want.MTime)
	case e.Size != want.Size || !bytes.Equal(e.Hash, want.Hash):
		return "has other content than the archive's new tree"
	case e.Target != want.Target:
		return fmt.Sprintf("points to %q, but the archive's new tree has %q", e.Target, want.Target)
	case e.LinkTo != want.LinkTo:
		return fmt.Sprintf("is a hard link to %q, but the archive's new tree has %q", e.LinkTo, want.LinkTo)
	case e.Rdev != want.Rdev:
		return "has another device number than the archive's new tree"
	}
	return ""
}
