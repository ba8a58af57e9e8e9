package merge

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

// A rename or a copy (Change.From) names another path, which the merge join
// meets before or after it. a, often a full backup of a big tree, is read
// once, by the join; b, the later archive, is read a first time for its
// changes alone (data skipped):
//   - b's sources: the join keeps a's change at each, and the content a
//     gives it, in a temporary file, before it writes that change; a
//     source after the b copy that takes it (a rename to an earlier
//     path) is read ahead, by a first read of a for those sources alone;
//   - a's copies from files a writes earlier (duplicates): the join
//     notes the merged hash of each file a writes and b changes, and a
//     copy whose source b changed gets the content a gave the source,
//     read again from a (sourceA).
//   - a's renames and copies from its old tree that b updates, and b's
//     renames or copies of files a updated: the merged file is a delta
//     against that old file (Change.FromSize), b's delta, or a's kept in
//     st (keepOps). ibt-patch reads an old source before the merged
//     archive changes it, whatever it does to it.
// Only the sources, b's changed paths and the files b changes that a
// writes are held in memory, not a's changes.

type sources struct {
	srcB    map[string]bool     // paths b copies from (true: created earlier in b)
	aheadB  map[string]bool     // of srcB, those after the b copy that takes them
	aAt     map[string]*copyOf  // a's change at each of srcB
	emitted map[string][]byte   // the merged new hash at each of srcB, and where b changes a file a created; nil if none
	stash   map[string][2]int64 // offset and size in st of a's content of a source
	opsAt   map[string]keptOps  // a's delta of a source, in st
	aOps    *opsCursor          // a's ops of the change the join is at, kept in st by noteA
	st      stashFile
	// keptA: sources whose content the join kept in st before writing
	// a's change there, which then reads it from st (contentA)
	keptA map[string]bool
}

// copyOf is what the merge keeps of a change: the reader reuses its
// changes' memory.
type copyOf struct {
	path     string
	op       format.Op
	from     string
	fromNew  bool
	fromSize int64
	hash     []byte // of the new file
}

func keepOf(c *format.Change) *copyOf {
	k := &copyOf{path: c.Path(), op: c.Op, from: c.From, fromNew: c.FromNew, fromSize: c.FromSize}
	if c.New != nil {
		k.hash = bytes.Clone(c.New.Hash)
	}
	return k
}

type stashFile struct {
	f    *format.TempFile
	size int64
}

// open creates the stash file, once.
func (s *stashFile) open(dir string) error {
	if s.f != nil {
		return nil
	}
	f, err := format.CreateTempFile(dir, "ibt-merge-*")
	if err != nil {
		return fmt.Errorf("failed to create a temporary file: %w", err)
	}
	s.f = f
	return nil
}

func (s *stashFile) close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// scan reads the changes of b for the sources of its copies and the paths
// it changes, and, if a b copy takes a source after it, a's changes at
// those sources.
func (m *merger) scan() error {
	m.srcB, m.aheadB, m.aAt = map[string]bool{}, map[string]bool{}, map[string]*copyOf{}
	m.emitted, m.stash, m.keptA = map[string][]byte{}, map[string][2]int64{}, map[string]bool{}
	m.opsAt = map[string]keptOps{}
	err := m.scanOne(m.b, func(in Input, c *format.Change) error {
		if c.From != "" {
			m.srcB[c.From] = c.FromNew
			if c.From > c.Path() {
				m.aheadB[c.From] = true
			}
		}
		return nil
	})
	if err != nil || len(m.aheadB) == 0 {
		return err
	}
	return m.scanOne(m.a, func(in Input, c *format.Change) error {
		p := c.Path()
		if !m.aheadB[p] {
			return nil
		}
		m.aAt[p] = keepOf(c)
		if c.HasData() && c.HasDelta() {
			return m.keepOps(in, c)
		}
		if !c.HasData() {
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

// nextOp returns the next op of in's current change: a's from st, where
// noteA kept it.
func (m *merger) nextOp(in Input) (archive.DeltaOp, error) {
	if in.R == m.a.R && m.aOps != nil {
		return m.aOps.next()
	}
	return in.R.NextOp()
}

// keptOps is a delta kept in st: its ops, encoded as in an archive's
// updated/ member, and the sizes of the file it makes and of its base.
type keptOps struct {
	off, n            int64
	newSize, baseSize int64
}

// keepOps stashes the ops of in's change c, whose data is a delta.
func (m *merger) keepOps(in Input, c *format.Change) error {
	if err := m.st.open(m.tempDir); err != nil {
		return err
	}
	k := keptOps{off: m.st.size, newSize: c.New.Size, baseSize: c.BaseSize()}
	w := bufio.NewWriterSize(io.NewOffsetWriter(m.st.f, m.st.size), 64<<10)
	var b []byte
	err := m.eachOp(in, func(copy bool, off, n int64, data []byte) error {
		b = b[:0]
		if copy {
			b = binary.AppendUvarint(binary.AppendUvarint(append(b, 'C'), uint64(off)), uint64(n))
		} else {
			b = binary.AppendUvarint(append(b, 'L'), uint64(len(data)))
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		k.n += int64(len(b))
		if !copy {
			if _, err := w.Write(data); err != nil {
				return err
			}
			k.n += int64(len(data))
		}
		return nil
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return fmt.Errorf("failed to keep the delta of %q of archive %q: %w", c.Path(), in.Name, err)
	}
	m.opsAt[c.Path()] = k
	m.st.size += k.n
	return nil
}

// opsCursor reads ops kept in st by keepOps.
type opsCursor struct {
	r   *bufio.Reader
	buf []byte
}

func (m *merger) opsCursor(k keptOps) *opsCursor {
	return &opsCursor{r: bufio.NewReaderSize(io.NewSectionReader(m.st.f, k.off, k.n), 64<<10)}
}

// next returns the next op, or io.EOF after the last; Data is valid until
// the next call.
func (o *opsCursor) next() (archive.DeltaOp, error) {
	kind, err := o.r.ReadByte()
	if err == io.EOF {
		return archive.DeltaOp{}, io.EOF
	}
	a, err1 := binary.ReadUvarint(o.r)
	if err != nil || err1 != nil {
		return archive.DeltaOp{}, fmt.Errorf("failed to read a temporary file: %w", errors.Join(err, err1))
	}
	if kind == 'C' {
		n, err := binary.ReadUvarint(o.r)
		if err != nil {
			return archive.DeltaOp{}, fmt.Errorf("failed to read a temporary file: %w", err)
		}
		return archive.DeltaOp{Copy: true, Offset: int64(a), Length: int64(n)}, nil
	}
	if a > format.MaxChunk {
		return archive.DeltaOp{}, errors.New("failed to read a temporary file: a literal longer than a chunk")
	}
	if a > uint64(len(o.buf)) {
		o.buf = make([]byte, a)
	}
	if _, err := io.ReadFull(o.r, o.buf[:a]); err != nil {
		return archive.DeltaOp{}, fmt.Errorf("failed to read a temporary file: %w", err)
	}
	return archive.DeltaOp{Data: o.buf[:a], Length: int64(a)}, nil
}

// replayOps writes the ops kept at k to s.
func (m *merger) replayOps(k keptOps, s sink) error {
	o := m.opsCursor(k)
	for {
		op, err := o.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if op.Copy {
			err = s.copy(op.Offset, op.Length)
		} else {
			err = s.literal(op.Data)
		}
		if err != nil {
			return fmt.Errorf("failed to write archive: %w", err)
		}
	}
}

// keep stashes the content of in's created file at p.
func (m *merger) keep(in Input, p string) error {
	if err := m.st.open(m.tempDir); err != nil {
		return err
	}
	n, err := io.Copy(io.NewOffsetWriter(m.st.f, m.st.size), in.R.Content())
	if err != nil {
		return fmt.Errorf("failed to keep the content of %q of archive %q: %w", p, in.Name, err)
	}
	m.stash[p] = [2]int64{m.st.size, n}
	m.st.size += n
	return nil
}

// emit notes the merged change c if its path is a source of b's.
func (m *merger) emit(c *format.Change) {
	if _, ok := m.srcB[c.Path()]; ok {
		m.emitted[c.Path()] = newHash(c)
	}
}

// newHash is the hash of c's new entry if it is a file whose content a copy
// can take, else nil.
func newHash(c *format.Change) []byte {
	if c != nil && c.New != nil && c.New.Type == format.TypeFile && c.New.LinkTo == "" && !c.New.Skipped {
		return bytes.Clone(c.New.Hash)
	}
	return nil
}

// noteA keeps, before the join writes it, a's change ca at a source of b's
// copies, and the content or the delta it gives the source; the join then
// reads a's delta from st (aOps).
func (m *merger) noteA(ca *format.Change) error {
	m.aOps = nil
	p := ca.Path()
	if _, ok := m.srcB[p]; !ok || m.aheadB[p] {
		return nil
	}
	m.aAt[p] = keepOf(ca)
	if ca.HasData() && ca.HasDelta() {
		if err := m.keepOps(m.a, ca); err != nil {
			return err
		}
		m.aOps = m.opsCursor(m.opsAt[p])
		return nil
	}
	if !ca.HasData() || ca.HasDelta() {
		return nil
	}
	if err := m.keep(m.a, p); err != nil {
		return err
	}
	m.keptA[p] = true
	return nil
}

// noteChanged notes the merged change c of a file that a wrote (ca: created
// or updated) and b changed: a's later copies of it (duplicates) hold only
// if c keeps its content.
func (m *merger) noteChanged(ca, c *format.Change) {
	if newHash(ca) == nil {
		return
	}
	if h := newHash(c); h == nil || !bytes.Equal(h, ca.New.Hash) {
		m.emitted[ca.Path()] = h
	}
}

// fromB writes c, the merged change of b's copy cb, with a source the
// merged archive has, or the content a gave the source. A copy over a
// file of a's old tree becomes a replace: only a created file takes its
// content from another path.
func (m *merger) fromB(cb, c *format.Change) error {
	f := cb.From
	c.From, c.FromNew, c.FromSize = "", false, 0
	switch c.Op {
	case format.OpMeta:
		return m.add(c) // the copy gave back the content of a's old tree
	case format.OpUpdate:
		c.Op = format.OpReplace
	}
	if h := m.emitted[f]; h != nil && f < c.Path() && bytes.Equal(h, cb.New.Hash) {
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
	switch {
	case ac == nil || ac.op == format.OpMeta:
		// a left the source's content alone: it is in a's old tree
		if cb.FromSize > 0 {
			return m.keepSource(m.b, c, f, cb.FromSize)
		}
		c.From = f
		return m.add(c)
	case ac.from != "" && !ac.fromNew && ac.fromSize == 0:
		// a copied the source from its old tree: so does the merged
		// archive
		if cb.FromSize > 0 {
			return m.keepSource(m.b, c, ac.from, cb.FromSize)
		}
		c.From = ac.from
		return m.add(c)
	case cb.FromSize > 0 && m.hasOps(f):
		return m.deltaThrough(cb, c, ac)
	case cb.FromSize > 0 && !m.hasStash(f):
		return unsupported(cb, fmt.Sprintf("a delta against %q, which the earlier archive changes", f))
	}
	if at, ok := m.opsAt[f]; ok {
		// a's data of the source is a delta: against its old version
		// (an update), or a file of its old tree (a FromSize). The
		// merged file is that delta against that file, which ibt-patch
		// reads before the merged archive changes it: so a file updated
		// and then renamed or copied is a's update at its new path.
		if at.newSize != c.New.Size {
			return m.noLink("it copies %q, whose size is not the one the first one gives it", f)
		}
		if at.baseSize > 0 {
			c.From, c.FromSize = baseOfA(f, ac, at)
		}
		if err := m.add(c); err != nil {
			return err
		}
		return m.replayOps(at, sink{w: m.w, update: at.baseSize > 0})
	}
	at, ok := m.stash[f]
	if !ok {
		return unsupported(cb, fmt.Sprintf("a copy of %q, whose content the earlier archive only updates", f))
	}
	switch {
	case cb.FromSize > 0 && at[1] != cb.FromSize:
		return m.noLink("its delta against %q is against %d bytes, not the %d the first one gives it", f, cb.FromSize, at[1])
	case cb.FromSize == 0 && at[1] != c.New.Size:
		return m.noLink("it copies %q, whose size is not the one the first one gives it", f)
	}
	if err := m.add(c); err != nil {
		return err
	}
	s := sink{w: m.w, update: false}
	r := io.NewSectionReader(m.st.f, at[0], at[1])
	if cb.FromSize > 0 {
		// b's delta against the content a gave the source
		return m.applyOver(r, m.b, s)
	}
	return m.pump(Input{Name: "a temporary file"}, r, s)
}

// applyOver writes to s the content in's current delta makes of base, a's
// content of its base file kept in st.
func (m *merger) applyOver(base *io.SectionReader, in Input, s sink) error {
	return m.eachOp(in, func(copy bool, off, n int64, data []byte) error {
		if !copy {
			return s.literal(data)
		}
		return m.pump(Input{Name: "a temporary file"}, io.NewSectionReader(base, off, n), s)
	})
}

// baseOfA is the file of a's old tree that a's delta at of the source f,
// whose change is ac, copies from, and its size.
func baseOfA(f string, ac *copyOf, at keptOps) (string, int64) {
	if ac.fromSize > 0 {
		return ac.from, at.baseSize
	}
	return f, at.baseSize
}

// hasOps reports whether st holds a's delta of the source f.
func (m *merger) hasOps(f string) bool {
	_, ok := m.opsAt[f]
	return ok
}

// deltaThrough writes c, the merged change of cb, b's delta against f,
// which a updated (or made a delta against a file of its old tree, ac):
// b's copies map through a's delta kept in st, as through maps an update
// of the same path, against a's base of f.
func (m *merger) deltaThrough(cb, c *format.Change, ac *copyOf) error {
	at := m.opsAt[cb.From]
	if at.newSize != cb.FromSize {
		return m.noLink("its delta against %q is against %d bytes, not the %d the first one gives it", cb.From, cb.FromSize, at.newSize)
	}
	if at.baseSize > 0 {
		c.From, c.FromSize = baseOfA(cb.From, ac, at)
	}
	if err := m.add(c); err != nil {
		return err
	}
	saved := m.aOps
	m.aOps = m.opsCursor(at)
	defer func() { m.aOps = saved }()
	return m.through(&format.Change{Op: format.OpUpdate, New: &format.Entry{Size: at.newSize}}, sink{w: m.w, update: at.baseSize > 0})
}

// hasStash reports whether st holds a's content of the source f.
func (m *merger) hasStash(f string) bool {
	_, ok := m.stash[f]
	return ok
}

// contentA is a's content of its created file ca: from the archive, or
// from st where noteA kept it.
func (m *merger) contentA(ca *format.Change) io.Reader {
	if m.keptA[ca.Path()] {
		at := m.stash[ca.Path()]
		return io.NewSectionReader(m.st.f, at[0], at[1])
	}
	return m.a.R.Content()
}

// sourceA returns the content a gives its created file p, which the join
// has passed: kept in st, or read again from a and kept.
func (m *merger) sourceA(p string) (*io.SectionReader, int64, error) {
	if _, ok := m.stash[p]; !ok {
		from, err := m.keepFromA(p)
		if err != nil {
			return nil, 0, err
		}
		if from != "" {
			// p is itself a copy of a file a created before it
			if _, _, err := m.sourceA(from); err != nil {
				return nil, 0, err
			}
			m.stash[p] = m.stash[from]
		}
	}
	at := m.stash[p]
	return io.NewSectionReader(m.st.f, at[0], at[1]), at[1], nil
}

// keepFromA reads a again up to its change at p and keeps in st the content
// it gives p, or returns the file a created before p that p is a copy of.
func (m *merger) keepFromA(p string) (string, error) {
	in := Input{Name: m.a.Name}
	r, cl, err := m.a.Open()
	if err != nil {
		return "", err
	}
	defer cl.Close()
	in.R = r
	for {
		c, err := next(in)
		if err != nil {
			return "", err
		}
		switch {
		case c == nil || c.Path() > p:
			return "", fmt.Errorf("archive %q changed while it was read: no change at %q", in.Name, p)
		case c.Path() < p:
			continue
		case c.From != "" && c.FromNew:
			return c.From, nil
		case c.HasData() && !c.HasDelta():
			return "", m.keep(in, p)
		}
		return "", fmt.Errorf("change at %q: a copy of it, whose content the earlier archive does not hold: %w", p, ErrUnsupported)
	}
}

// copyA writes c, a's copy of another file. A copy of a file created
// earlier in a still holds if b left that file's content alone; else it is
// written as a created file with the content a gave the source. A copy
// from the old tree holds whatever b does to the source: ibt-patch takes
// the old version.
func (m *merger) copyA(c *format.Change) error {
	if c.FromNew && c.New != nil {
		if h, changed := m.emitted[c.From]; changed && (h == nil || !bytes.Equal(h, c.New.Hash)) {
			r, size, err := m.sourceA(c.From)
			if err != nil {
				return err
			}
			if size != c.New.Size {
				return fmt.Errorf("archive %q is damaged: %q copies %q, whose size is not its own", m.a.Name, c.Path(), c.From)
			}
			n := *c
			n.From, n.FromNew = "", false
			if err := m.add(&n); err != nil {
				return err
			}
			return m.pump(Input{Name: "a temporary file"}, r, sink{w: m.w})
		}
	}
	if err := m.add(c); err != nil {
		return err
	}
	return m.copyData(m.a, c)
}
