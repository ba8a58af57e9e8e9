package archive

import (
	"errors"
	"fmt"

	"github.com/ibt-tools/ibt/format"
)

// checkChange refuses a change that the writer must not write and the
// reader must not return: a bad path, a missing or stray entry for its op,
// or sizes no file can have. Everything else is left to the applier.
func checkChange(c *format.Change) error {
	if err := checkEntries(c); err != nil {
		return fmt.Errorf("%s change at %q: %w", c.Op, c.Path(), err)
	}
	return nil
}

func checkEntries(c *format.Change) error {
	switch c.Op {
	case format.OpCreate:
		if c.Old != nil || c.New == nil {
			return errors.New("wants a new entry and no old one")
		}
	case format.OpDelete:
		if c.Old == nil || c.New != nil {
			return errors.New("wants an old entry and no new one")
		}
	case format.OpUpdate:
		if c.Old == nil || c.New == nil || c.Old.Type != format.TypeFile || c.New.Type != format.TypeFile {
			return errors.New("wants an old and a new file")
		}
	case format.OpMeta, format.OpReplace:
		if c.Old == nil || c.New == nil {
			return errors.New("wants an old and a new entry")
		}
	default:
		return fmt.Errorf("unknown op %d", c.Op)
	}
	if c.Old != nil && c.New != nil && c.Old.Path != c.New.Path {
		return fmt.Errorf("old entry is at %q", c.Old.Path)
	}
	if err := format.CheckFrom(c); err != nil {
		return err
	}
	for _, e := range []*format.Entry{c.Old, c.New} {
		if e == nil {
			continue
		}
		if err := format.ValidPath(e.Path); err != nil {
			return err
		}
		if e.LinkTo != "" {
			if err := format.ValidPath(e.LinkTo); err != nil {
				return fmt.Errorf("hard link target %q: %w", e.LinkTo, err)
			}
		}
		if e.Size < 0 {
			return fmt.Errorf("negative size %d", e.Size)
		}
	}
	return nil
}

// stripped returns a copy of c without block signatures, which applying
// an archive does not need and which would dwarf the rest of a record.
func stripped(c *format.Change) *format.Change {
	s := *c
	if c.Old != nil && c.Old.Sig != nil {
		e := *c.Old
		e.Sig = nil
		s.Old = &e
	}
	if c.New != nil && c.New.Sig != nil {
		e := *c.New
		e.Sig = nil
		s.New = &e
	}
	return &s
}
