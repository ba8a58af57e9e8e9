package patch

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"

	"github.com/ibt-tools/ibt/format"
)

// A file of the old tree may be the source of a copy or rename (Change.From)
// and be rewritten by the same archive (updated or replaced): ibt-merge so
// writes a copy of a file that the next archive edits. The copy is staged
// from the old version, before the commit; but a commit interrupted after
// the rewrite was placed and before the copy was leaves the next run no old
// version to stage it from. So, before the commit, ibt-patch keeps the old
// version by a hard link under DIR/.ibt-patch/sources, named by the hash
// of its path, and a run that finishes an interrupted commit reads the
// source from there. The links go with the journal, in finish.

// keepSource keeps the old version of the source of s's copy, which step t
// rewrites. It is called once the archive has been read up to the later
// of the two: DIR still holds the old version, or, finishing an
// interrupted commit, the kept link is there already (made before that
// commit's journal). Nothing is kept for a copy already in place, nor
// from a source already rewritten (whose copy then fails its hash check).
func (a *applier) keepSource(s, t *step) error {
	c := s.c
	if t.c.Op != format.OpUpdate && t.c.Op != format.OpReplace {
		return sourceKept(c, t)
	}
	if a.opt.DryRun || a.ws.pending != nil || s.state == stNew || t.state == stNew {
		return nil
	}
	if err := a.root.Mkdir(sourcesDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return ioErr(sourcesDir, "create the directory of kept sources", err)
	}
	err := a.root.Link(c.From, keptSourceName(c.From))
	if err != nil && !errors.Is(err, fs.ErrExist) {
		e := ioErr(c.Path(), fmt.Sprintf("keep the old version of its source %q, which the archive rewrites", c.From), err)
		e.Fix = "DIR's filesystem must allow hard links; apply the archives the merge was made of instead"
		return e
	}
	return nil
}

// keptSourceName is where keepSource links the old version of p.
func keptSourceName(p string) string {
	sum := sha256.Sum256([]byte(p))
	return sourcesDir + "/" + hex.EncodeToString(sum[:16])
}

// oldSource is the name to read the old version of c's source at: the kept
// link, when finishing an interrupted commit that made one, or the source.
func (a *applier) oldSource(c *format.Change) string {
	if a.ws != nil && a.ws.pending != nil {
		name := keptSourceName(c.From)
		if _, err := a.root.Lstat(name); err == nil {
			return name
		}
	}
	return c.From
}
