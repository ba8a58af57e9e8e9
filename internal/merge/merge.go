// Package merge composes two consecutive archives into one that applies to
// the first one's old tree and gives the second one's new tree, without any
// tree: a merge join of their sorted changes, path by path. Several
// archives are merged by folding left, which the caller does.
package merge

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

// Input is one archive to merge and the name it is shown by. Open is
// called more than once: b's changes are read a first time for the renames
// and copies that refer to other paths (see from.go), and a again only for
// what that first read finds the join cannot wait for.
type Input struct {
	Name string
	Open func() (*archive.Reader, io.Closer, error)
	R    *archive.Reader // the reader of the merge join
}

// Options tune Merge.
type Options struct {
	Tool    string        // the tool writing the archive, e.g. "ibt-merge 0.2.0"
	Codec   archive.Codec // the output's codec
	Level   int           // its compression level
	TempDir string        // where the data of a file changed by both archives is spooled
}

// ErrNoLink is the error of two archives that do not make a chain: the
// second was not made from the first one's new tree.
var ErrNoLink = errors.New("the archives do not make a chain")

// ErrUnsupported is the error of a composition this version cannot make yet.
var ErrUnsupported = errors.New("not yet supported")

// LinkError says why b does not follow a.
type LinkError struct {
	A, B string // the archives' names
	Why  string
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("%q does not follow %q: %s", e.B, e.A, e.Why)
}

func (e *LinkError) Unwrap() error { return ErrNoLink }

// Hint says how to make a chain.
func (e *LinkError) Hint() string {
	return "give the archives in the order they were made, each one made against the index of the one before"
}

// Merge writes to w one archive equivalent to applying a, then b. a, the
// big one when it is a full backup, is read once, in step with b; the data
// of a file both change is spooled to a temporary file as b's copies reach
// into it, never held whole in memory.
func Merge(a, b Input, w io.Writer, opt Options) error {
	var err error
	var ac, bc io.Closer
	if a.R, ac, err = a.Open(); err != nil {
		return err
	}
	defer ac.Close()
	if b.R, bc, err = b.Open(); err != nil {
		return err
	}
	defer bc.Close()
	ah, bh := a.R.Header().Delta, b.R.Header().Delta
	m := &merger{a: a, b: b, aFull: ah.Time == 0, tempDir: opt.TempDir}
	// A diff against no index (a full backup) has no old index time; any
	// other's old index was walked after its predecessor's.
	switch {
	case bh.Time == 0:
		return m.noLink("it is a full backup, which starts a chain")
	case ah.Time != 0 && bh.Time <= ah.Time:
		return m.noLink("it was made from an index older than the first one's")
	}
	h := bh
	h.Time = ah.Time
	h.Tool = opt.Tool
	out, err := archive.NewWriter(w, h, archive.WriterOptions{Codec: opt.Codec, Level: opt.Level, TempDir: opt.TempDir})
	if err != nil {
		return err
	}
	m.w = out
	if m.aFull {
		m.tree = format.NewTreeHasher()
	}
	defer m.sp.close()
	defer m.st.close()
	if err := m.scan(); err != nil {
		return err
	}
	if err := m.join(); err != nil {
		return err
	}
	want := b.R.Trailer().TreeHash
	if m.tree != nil && want != nil && !bytes.Equal(m.tree.Sum(), want) {
		return m.noLink("the tree it makes from the first one's is not the tree it records")
	}
	return out.Close(format.Trailer{TreeHash: want})
}

type merger struct {
	a, b    Input
	w       *archive.Writer
	aFull   bool               // a is a full backup: its new tree is exactly its entries
	tree    *format.TreeHasher // of the merged full's entries, when aFull
	sp      spool              // a's data of the path both change
	buf     []byte             // pump's, kept from file to file
	tempDir string
	sources
}

func (m *merger) noLink(why string, args ...any) error {
	return &LinkError{A: m.a.Name, B: m.b.Name, Why: fmt.Sprintf(why, args...)}
}

func next(in Input) (*format.Change, error) {
	c, err := in.R.Next()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read archive %q: %w", in.Name, err)
	}
	return c, nil
}

// join walks both change streams in path order.
func (m *merger) join() error {
	ca, err := next(m.a)
	if err != nil {
		return err
	}
	cb, err := next(m.b)
	if err != nil {
		return err
	}
	for ca != nil || cb != nil {
		switch {
		case cb == nil || (ca != nil && ca.Path() < cb.Path()):
			if err := m.onlyA(ca); err != nil {
				return err
			}
			if ca, err = next(m.a); err != nil {
				return err
			}
		case ca == nil || cb.Path() < ca.Path():
			if err := m.onlyB(cb); err != nil {
				return err
			}
			if cb, err = next(m.b); err != nil {
				return err
			}
		default:
			if err := m.both(ca, cb); err != nil {
				return err
			}
			if ca, err = next(m.a); err != nil {
				return err
			}
			if cb, err = next(m.b); err != nil {
				return err
			}
		}
	}
	return nil
}

func unsupported(c *format.Change, what string) error {
	return fmt.Errorf("change at %q: %s: %w", c.Path(), what, ErrUnsupported)
}

// add writes the merged change c, and adds its new entry to the tree hash
// of a merged full.
func (m *merger) add(c *format.Change) error {
	if m.tree != nil && c.New != nil {
		m.tree.Add(c.New)
	}
	m.emit(c)
	if err := m.w.AddChange(c); err != nil {
		return fmt.Errorf("failed to write archive: %w", err)
	}
	return nil
}

// onlyA copies a change of a alone: b leaves its path as a made it.
func (m *merger) onlyA(c *format.Change) error {
	if err := m.noteA(c); err != nil {
		return err
	}
	if c.From != "" {
		return m.copyA(c)
	}
	if err := m.add(c); err != nil {
		return err
	}
	return m.copyData(m.a, c)
}

// onlyB copies a change of b alone: its old entry is a's old tree's.
func (m *merger) onlyB(c *format.Change) error {
	if c.From != "" {
		n := *c
		return m.fromB(c, &n)
	}
	if m.aFull && c.Old != nil {
		if !c.Old.Skipped {
			return m.noLink("it changes %q, which the first one's tree does not have", c.Path())
		}
		// a skipped old entry matches nothing at its path as well
		switch c.Op {
		case format.OpDelete:
			return nil
		case format.OpReplace:
			n := *c
			n.Op, n.Old = format.OpCreate, nil
			if err := m.add(&n); err != nil {
				return err
			}
			return m.copyData(m.b, c)
		}
		return unsupported(c, "a skipped file after a full backup")
	}
	if err := m.add(c); err != nil {
		return err
	}
	return m.copyData(m.b, c)
}

// copyData copies the data of in's last change c to the output as is.
func (m *merger) copyData(in Input, c *format.Change) error {
	if !c.HasData() {
		return nil
	}
	if !c.HasDelta() {
		r := in.R.Content()
		if in.R == m.a.R {
			r = m.contentA(c)
		}
		r, stop := ahead(r, c.New.Size)
		defer stop()
		return m.pump(in, r, sink{w: m.w})
	}
	return m.copyOps(in, sink{w: m.w, update: true})
}

// keepSource writes c, a merged created file whose content is in's delta
// against a source of the old tree, of size bytes: a rename or copy by one archive
// and an update by the other. The delta of an empty source is literals
// only, the content.
func (m *merger) keepSource(in Input, c *format.Change, from string, size int64) error {
	if c.Op == format.OpUpdate {
		c.Op = format.OpReplace // only a created file takes its content from another path
	}
	c.From, c.FromNew, c.FromSize = "", false, 0
	if size > 0 {
		c.From, c.FromSize = from, size
	}
	if err := m.add(c); err != nil {
		return err
	}
	return m.copyOps(in, sink{w: m.w, update: size > 0})
}

// pump streams a created file's content from in to s.
func (m *merger) pump(in Input, r io.Reader, s sink) error {
	buf := m.buffer()
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if werr := s.literal(buf[:n]); werr != nil {
				return fmt.Errorf("failed to write archive: %w", werr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to read archive %q: %w", in.Name, err)
		}
	}
}

// buffer is pump's and through's buffer, kept from file to file.
func (m *merger) buffer() []byte {
	if m.buf == nil {
		m.buf = make([]byte, 256<<10)
	}
	return m.buf
}

// sink writes the data of the merged change: an update's ops, or a created
// file's content, where a copy from the old file cannot be.
type sink struct {
	w      *archive.Writer
	update bool
}

func (s sink) copy(off, n int64) error {
	if !s.update {
		return errors.New("a created file cannot copy from an old one")
	}
	return s.w.WriteCopy(off, n)
}

func (s sink) literal(p []byte) error {
	if s.update {
		return s.w.WriteLiteral(p)
	}
	return s.w.WriteContent(p)
}
