package archive

import "github.com/ibt-tools/ibt/format"

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
