package patch

import (
	"io/fs"

	"github.com/ibt-tools/ibt/format"
)

// A change whose old entry is skipped (format.Entry.Skipped) comes from an
// old index made by ibt-sign --skip-changed, which could not read the file:
// the restore holds there whatever the chain put there before, an older
// version of the file or nothing, and the archive does not say which. The
// change is a delete or a replace, which clears or overwrites that, or a
// meta change whose new entry is skipped too, which leaves it alone: any
// regular file, or nothing, is its old version. Anything else (a directory, a symlink, a device) is not what any
// backup left there, and is a wrong base.

// classifySkippedOld is classify for a change whose old entry is skipped.
func (a *applier) classifySkippedOld(c *format.Change, fi fs.FileInfo) (state, error) {
	p := c.Path()
	if c.New != nil && c.New.Skipped {
		// skipped by both indexes: whatever file is there stays, out of
		// the tree's checks (see predict and verify)
		if fi == nil || fi.Mode().IsRegular() {
			return stNew, nil
		}
		return 0, pathErr(ErrWrongBase, p, fixWrongBase, "is %s, but the archive leaves alone a file that its last backups could not read, which only a regular file or nothing can stand for", a.disk.describe(p, fi))
	}
	if fi != nil && c.New != nil {
		// already in place: a second run, or a restore that has it
		isNew, err := a.disk.matches(p, fi, c.New)
		if err != nil {
			return 0, err
		}
		if isNew && c.New.LinkTo != "" {
			if isNew, err = a.linked(fi, c.New); err != nil {
				return 0, err
			}
		}
		if isNew {
			return stNew, nil
		}
	}
	switch {
	case fi == nil && c.Op == format.OpDelete:
		return stNew, nil
	case fi == nil:
		// nothing was restored there, or a killed run removed it
		return stAbsent, nil
	case fi.Mode().IsRegular():
		return stOld, nil
	}
	return 0, pathErr(ErrWrongBase, p, fixWrongBase, "is %s, but the archive %ss a file that its last backup could not read, which only a regular file or nothing can stand for", a.disk.describe(p, fi), c.Op)
}
