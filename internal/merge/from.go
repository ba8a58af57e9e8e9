package merge

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/ibt-tools/ibt/format"
)

// A rename or a copy (Change.From) names another path, which the merge join
// meets before or after it. So a first read of both archives' changes
// (data skipped, but for what it keeps) finds them:
//   - b's sources: a's change there, if any, and the content a gives it,
//     kept in a temporary file, for a b copy whose source a wrote;
//   - a's sources: the merge join then notes b's change there, and once
//     it is done every copy of a passed through is checked to still hold
//     (its source neither updated nor replaced, or still created before it
//     with that content).
// Only the sources are held in memory: as many as the renames and copies.

type sources struct {
	srcB    map[string]bool      // paths b copies from (true: created earlier in b)
	aAt     map[string]*copyOf   // a's change at each of srcB
	srcA    map[string]bool      // paths a copies from (true: created earlier in a)
	bAt     map[string]format.Op // b's op at each of srcA, 0 for none
	emitted map[string][]byte    // the merged new hash at each source, nil if none
	fromsA  []*copyOf            // a's copies passed through, to check once joined
	stash   map[string][2]int64  // offset and size in st of a's content of srcB, and of keptA
	st      stashFile
	// keptA: sources created in a that b changes too, whose content the
	// join kept in st for a's copies of them (see copyA)
	keptA map[string]bool
}

// copyOf is what the merge keeps of a change: the reader reuses its
// changes' memory.
type copyOf struct {
	path    string
	op      format.Op
	from    string
	fromNew bool
	hash    []byte // of the new file
}

func keepOf(c *format.Change) *copyOf {
	k := &copyOf{path: c.Path(), op: c.Op, from: c.From, fromNew: c.FromNew}
	if c.New != nil {
		k.hash = bytes.Clone(c.New.Hash)
	}
	return k
}

func (k *copyOf) unsupported(what string) error {
	return fmt.Errorf("change at %q: %s: %w", k.path, what, ErrUnsupported)
}

type stashFile struct {
	f    *os.File
	size int64
}

func (s *stashFile) close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// scan reads the changes of b, then of a, for the sources of copies.
func (m *merger) scan() error {
	m.srcB, m.aAt, m.srcA = map[string]bool{}, map[string]*copyOf{}, map[string]bool{}
	m.bAt, m.emitted, m.stash = map[string]format.Op{}, map[string][]byte{}, map[string][2]int64{}
	m.keptA = map[string]bool{}
	err := m.scanOne(m.b, func(in Input, c *format.Change) error {
		if c.From != "" {
			m.srcB[c.From] = c.FromNew
		}
		return nil
	})
	if err != nil {
		return err
	}
	return m.scanOne(m.a, func(in Input, c *format.Change) error {
		if c.From != "" {
			m.srcA[c.From] = c.FromNew
		}
		p := c.Path()
		if _, ok := m.srcB[p]; !ok {
			return nil
		}
		m.aAt[p] = keepOf(c)
		if !c.HasData() || c.Op == format.OpUpdate {
			return nil
		}
		return m.keep(in, p)
	})
}

func (m *merger) scanOne(in Input, f func(Input, *format.Change) error) error {
	r, cl, err := in.Open()
	if err != nil {
		return err
	}
	defer cl.Close()
	in.R = r
	for {
		c, err := next(in)
		if err != nil {
			return err
		}
		if c == nil {
			return nil
		}
		if err := f(in, c); err != nil {
			return err
		}
	}
}

// keep stashes the content of in's created file at p.
func (m *merger) keep(in Input, p string) error {
	if m.st.f == nil {
		f, err := os.CreateTemp(m.tempDir, "ibt-merge-*")
		if err != nil {
			return fmt.Errorf("failed to create a temporary file: %w", err)
		}
		os.Remove(f.Name())
		m.st.f = f
	}
	n, err := io.Copy(io.NewOffsetWriter(m.st.f, m.st.size), in.R.Content())
	if err != nil {
		return fmt.Errorf("failed to keep the content of %q of archive %q: %w", p, in.Name, err)
	}
	m.stash[p] = [2]int64{m.st.size, n}
	m.st.size += n
	return nil
}

// emit notes the merged change c if its path is a source.
func (m *merger) emit(c *format.Change) {
	p := c.Path()
	_, a := m.srcA[p]
	_, b := m.srcB[p]
	if !a && !b {
		return
	}
	if c.New != nil && c.New.Type == format.TypeFile && c.New.LinkTo == "" && !c.New.Skipped {
		m.emitted[p] = bytes.Clone(c.New.Hash)
	} else {
		m.emitted[p] = nil
	}
}

// seenB notes b's change c if its path is a source of a's.
func (m *merger) seenB(c *format.Change) {
	if _, ok := m.srcA[c.Path()]; ok {
		m.bAt[c.Path()] = c.Op
	}
}

// fromA notes a's copy c, passed through, for checkFromA.
func (m *merger) fromA(c *format.Change) {
	if c.From != "" {
		m.fromsA = append(m.fromsA, keepOf(c))
	}
}

// checkFromA checks that each of a's copies still holds in the merged
// archive: b leaves an old-tree source in place (or deletes it), and a
// source created earlier still has the content.
func (m *merger) checkFromA() error {
	for _, c := range m.fromsA {
		if c.fromNew {
			h, ok := m.emitted[c.from]
			if !ok || h == nil || !bytes.Equal(h, c.hash) {
				return c.unsupported(fmt.Sprintf("a copy of %q, which the later archive changes", c.from))
			}
			continue
		}
		switch m.bAt[c.from] {
		case 0, format.OpMeta, format.OpDelete:
		default:
			return c.unsupported(fmt.Sprintf("a copy of %q, which the later archive changes", c.from))
		}
	}
	return nil
}

// fromB writes c, the merged change of b's copy cb, with a source the
// merged archive has, or the content a gave the source.
func (m *merger) fromB(cb, c *format.Change) error {
	f := cb.From
	c.From, c.FromNew = "", false
	created := c.Op == format.OpCreate || c.Op == format.OpReplace
	if h := m.emitted[f]; created && h != nil && f < c.Path() && bytes.Equal(h, cb.New.Hash) {
		// the merged archive creates the source before, with the content
		c.From, c.FromNew = f, true
		return m.add(c)
	}
	if cb.FromNew {
		return unsupported(cb, fmt.Sprintf("a copy of %q, which the earlier archive changes", f))
	}
	ac := m.aAt[f]
	if ac == nil && m.aFull {
		return m.noLink("it copies %q, which the first one's tree does not have", f)
	}
	if ac == nil || ac.op == format.OpMeta {
		// a left the source's content alone: it is in a's old tree
		if !created {
			return unsupported(cb, fmt.Sprintf("a copy of %q over an updated file", f))
		}
		c.From = f
		return m.add(c)
	}
	if ac.from != "" && !ac.fromNew && created {
		// a copied the source from its old tree: so does the merged
		// archive, if b leaves that file alone too (checkFromA)
		c.From = ac.from
		m.fromA(c)
		return m.add(c)
	}
	at, ok := m.stash[f]
	if !ok {
		return unsupported(cb, fmt.Sprintf("a copy of %q, whose content the earlier archive only updates", f))
	}
	if at[1] != c.New.Size {
		return m.noLink("it copies %q, whose size is not the one the first one gives it", f)
	}
	if err := m.add(c); err != nil {
		return err
	}
	s := sink{w: m.w, update: c.Op == format.OpUpdate}
	r := io.NewSectionReader(m.st.f, at[0], at[1])
	return m.pump(Input{Name: "a temporary file"}, r, s)
}

// keepSourceA keeps, before the join composes it with b's change there,
// the content a gives a file that a's copies later in a take as their
// source: b changes it, so the merged archive cannot copy it, and those
// copies are written with this content instead (copyA).
func (m *merger) keepSourceA(ca *format.Change) error {
	p := ca.Path()
	if fromNew, ok := m.srcA[p]; !ok || !fromNew || !ca.HasData() || ca.Op == format.OpUpdate {
		return nil
	}
	if _, ok := m.stash[p]; ok {
		return nil // kept by the scan, for b's copies: a's content is still unread
	}
	if err := m.keep(m.a, p); err != nil {
		return err
	}
	m.keptA[p] = true
	return nil
}

// contentA is a's content of its created file ca: from the archive, or
// from st where keepSourceA read it.
func (m *merger) contentA(ca *format.Change) io.Reader {
	if m.keptA[ca.Path()] {
		at := m.stash[ca.Path()]
		return io.NewSectionReader(m.st.f, at[0], at[1])
	}
	return m.a.R.Content()
}

// copyA writes c, a's copy of another file, as a copy where the merged
// archive still gives its source that content; else, for a source created
// earlier in a, as a created file with the content a gave the source
// (kept by the scan or by keepSourceA), since b changed or deleted it.
// Other copies are checked once the join is done (checkFromA).
func (m *merger) copyA(c *format.Change) error {
	if c.FromNew && c.New != nil {
		at, kept := m.stash[c.From]
		if h := m.emitted[c.From]; (h == nil || !bytes.Equal(h, c.New.Hash)) && kept && at[1] == c.New.Size {
			n := *c
			n.From, n.FromNew = "", false
			if err := m.add(&n); err != nil {
				return err
			}
			return m.pump(Input{Name: "a temporary file"}, io.NewSectionReader(m.st.f, at[0], at[1]), sink{w: m.w})
		}
	}
	m.fromA(c)
	return m.add(c)
}
