package format

import (
	"errors"
	"fmt"
)

// sequence checks the order of the records of a stream: the right records for
// the kind of stream, sorted by path, and in a delta stream exactly the
// promised bytes of data after each change that has data. Writer and Reader
// share it so that they agree.
type sequence struct {
	kind    Kind
	seeded  bool   // the header has a seed, so signatures may follow
	last    string // path of the last entry or change
	started bool
	cur     *Change // the change whose data records follow, in a delta stream
	left    int64   // bytes of cur's data still due
	count   uint64  // records so far
}

func (s *sequence) ordered(p string) error {
	if s.started && p <= s.last {
		return fmt.Errorf("%q after %q: records must be sorted by path (bytewise), one per path", p, s.last)
	}
	s.last, s.started = p, true
	return nil
}

func (s *sequence) entry(e *Entry) error {
	if s.kind != KindIndex {
		return fmt.Errorf("an entry record in a %s stream", s.kind)
	}
	if err := checkEntry(e); err != nil {
		return err
	}
	if err := s.keyed(e); err != nil {
		return err
	}
	if err := s.ordered(e.Path); err != nil {
		return err
	}
	s.count++
	return nil
}

func (s *sequence) change(c *Change) error {
	if s.kind == KindIndex {
		return errors.New("a change record in an index stream")
	}
	if err := s.dataDone(); err != nil {
		return err
	}
	if err := CheckChange(c); err != nil {
		return err
	}
	for _, e := range []*Entry{c.Old, c.New} {
		if err := s.keyed(e); err != nil {
			return err
		}
	}
	if err := s.ordered(c.Path()); err != nil {
		return err
	}
	s.cur = nil
	if s.kind == KindDelta && c.HasData() {
		s.cur, s.left = c, c.New.Size
	}
	s.count++
	return nil
}

// keyed checks that an entry's signature, if it has one, comes with the
// seed its strong sums were made with: without it they cannot be matched.
func (s *sequence) keyed(e *Entry) error {
	if e != nil && len(e.Sig) > 0 && !s.seeded {
		return fmt.Errorf("entry %q has a signature, but the stream's header has no signature seed: the stream was made by a version of ibt without seeds or is damaged; sign the tree again", e.Path)
	}
	return nil
}

// data checks that n bytes of data may follow now.
func (s *sequence) data(what string, n int64) error {
	if s.kind != KindDelta {
		return fmt.Errorf("a %s record in a %s stream", what, s.kind)
	}
	if s.cur == nil {
		return fmt.Errorf("a %s record after a change without data", what)
	}
	if n > s.left {
		return fmt.Errorf("%s of %d bytes, but only %d of the %d bytes of %q are left", what, n, s.left, s.cur.New.Size, s.cur.New.Path)
	}
	return nil
}

func (s *sequence) copy(c *Copy) error {
	if err := s.data("copy", c.Length); err != nil {
		return err
	}
	base, size := s.cur.Path(), s.cur.BaseSize()
	if s.cur.FromSize > 0 {
		base = s.cur.From
	}
	switch {
	case !s.cur.HasDelta():
		return fmt.Errorf("a copy record for %q, which is not an update: only an update copies from the old file", s.cur.New.Path)
	case c.Offset < 0 || c.Length <= 0:
		return fmt.Errorf("copy of %d bytes at offset %d: want a positive length and a non-negative offset", c.Length, c.Offset)
	case c.Offset > size-c.Length:
		return fmt.Errorf("copy of %d bytes at offset %d, beyond the %d bytes of the old %q", c.Length, c.Offset, size, base)
	}
	s.left -= c.Length
	s.count++
	return nil
}

func (s *sequence) literal(n int) error {
	if err := s.data("literal", int64(n)); err != nil {
		return err
	}
	if n == 0 || n > MaxChunk {
		return fmt.Errorf("literal of %d bytes: want 1 to %d", n, MaxChunk)
	}
	s.left -= int64(n)
	s.count++
	return nil
}

// dataDone checks that the current file, if any, has all its data.
func (s *sequence) dataDone() error {
	if s.cur != nil && s.left > 0 {
		return fmt.Errorf("%d of the %d bytes of %q are missing", s.left, s.cur.New.Size, s.cur.New.Path)
	}
	return nil
}
