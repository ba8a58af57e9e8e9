package merge

import (
	"fmt"
	"sort"

	"github.com/ibt-tools/ibt/format"
)

// spool holds a's version of one file as a sequence of ops over a's old
// file: copies, and literals whose bytes are in a temporary file, so that
// b's copies from that version can be mapped back. Only the ops' positions
// are in memory.
type spool struct {
	f    *format.TempFile
	size int64   // bytes of literals in f
	ops  []sop   // in order of the new file
	at   []int64 // at[i]: offset of ops[i] in the new file
	end  int64   // size of the new file
	buf  []byte  // for reading literals back, kept from file to file
}

// sop is one op of a spooled file: n bytes copied from off of the old file,
// or (lit) n bytes at off of the spool file.
type sop struct {
	lit    bool
	off, n int64
}

func (s *spool) reset(dir string) error {
	if s.f == nil {
		f, err := format.CreateTempFile(dir, "ibt-merge-*")
		if err != nil {
			return fmt.Errorf("failed to create a temporary file: %w", err)
		}
		s.f = f
	}
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("failed to reuse a temporary file: %w", err)
	}
	s.size, s.ops, s.at, s.end = 0, s.ops[:0], s.at[:0], 0
	return nil
}

func (s *spool) close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

func (s *spool) push(o sop) {
	s.ops = append(s.ops, o)
	s.at = append(s.at, s.end)
	s.end += o.n
}

func (s *spool) addCopy(off, n int64) { s.push(sop{off: off, n: n}) }

func (s *spool) addLiteral(p []byte) error {
	if _, err := s.f.WriteAt(p, s.size); err != nil {
		return fmt.Errorf("failed to write a temporary file: %w", err)
	}
	n := int64(len(p))
	if k := len(s.ops) - 1; k >= 0 && s.ops[k].lit && s.ops[k].off+s.ops[k].n == s.size {
		// the next bytes of the literal before: one op, not one a read
		s.ops[k].n += n
		s.end += n
	} else {
		s.push(sop{lit: true, off: s.size, n: n})
	}
	s.size += n
	return nil
}

// hold writes p to the spool file outside the spooled file's ops, and
// returns where.
func (s *spool) hold(p []byte) (int64, error) {
	off := s.size
	if _, err := s.f.WriteAt(p, off); err != nil {
		return 0, fmt.Errorf("failed to write a temporary file: %w", err)
	}
	s.size += int64(len(p))
	return off, nil
}

// copyOut writes to out as literals the n bytes at off of the spool file.
func (s *spool) copyOut(off, n int64, out sink) error {
	if s.buf == nil {
		s.buf = make([]byte, 256<<10)
	}
	for done := int64(0); done < n; {
		c := min(n-done, int64(len(s.buf)))
		if _, err := s.f.ReadAt(s.buf[:c], off+done); err != nil {
			return fmt.Errorf("failed to read a temporary file: %w", err)
		}
		if err := out.literal(s.buf[:c]); err != nil {
			return err
		}
		done += c
	}
	return nil
}

// emit writes to out the n bytes at off of the spooled file's new version.
func (s *spool) emit(off, n int64, out sink) error {
	if off < 0 || n < 0 || off+n > s.end {
		return fmt.Errorf("a copy of %d bytes at %d is outside the file's %d bytes", n, off, s.end)
	}
	i := sort.Search(len(s.at), func(i int) bool { return s.at[i] > off }) - 1
	for n > 0 {
		o := s.ops[i]
		skip := off - s.at[i]
		k := min(o.n-skip, n)
		if !o.lit {
			if err := out.copy(o.off+skip, k); err != nil {
				return err
			}
		} else if err := s.copyOut(o.off+skip, k, out); err != nil {
			return err
		}
		off += k
		n -= k
		i++
	}
	return nil
}
