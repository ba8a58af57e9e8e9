package merge

import (
	"bytes"
	"fmt"
	"io"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/diff"
)

// both composes a's change ca and b's change cb of the same path: the old
// entry is a's, the new one b's, and b's old entry must be a's new one.
func (m *merger) both(ca, cb *format.Change) error {
	if err := m.links(ca, cb); err != nil {
		return err
	}
	if err := m.noteA(ca); err != nil {
		return err
	}
	c := compose(ca.Old, cb.New)
	m.noteChanged(ca, c)
	if c == nil {
		return nil // created then deleted, or back as it was
	}
	if cb.From != "" {
		return m.fromB(cb, c)
	}
	copied := ca.From != "" && c.New != nil && c.New.Type == format.TypeFile && c.New.LinkTo == "" && c.Op != format.OpMeta
	if copied && c.Op == format.OpUpdate {
		c.Op = format.OpReplace // only a created file takes its content from another path
	}
	switch {
	case copied && !cb.HasData():
		// b changed the copy's metadata only: it is still a's copy
		c.From, c.FromNew, c.FromSize = ca.From, ca.FromNew, ca.FromSize
		return m.copyA(c)
	case copied && !ca.FromNew && cb.Op == format.OpUpdate && ca.FromSize == 0:
		// a renamed or copied a file of its old tree, b updated it: b's
		// delta is against that file's content
		return m.keepSource(m.b, c, ca.From, ca.New.Size)
	case copied && ca.FromNew && cb.Op == format.OpUpdate:
		// a copied a file it created before, b updated the copy: b's
		// delta against the content a gave that file
		r, size, err := m.sourceA(ca.From)
		if err != nil {
			return err
		}
		if size != ca.New.Size {
			return fmt.Errorf("archive %q is damaged: %q copies %q, whose size is not its own", m.a.Name, ca.Path(), ca.From)
		}
		if err := m.add(c); err != nil {
			return err
		}
		return m.applyOver(r, m.b, sink{w: m.w})
	case copied && !ca.FromNew && cb.Op == format.OpUpdate:
		// b's delta maps through a's, against the same file
		c.From, c.FromSize = ca.From, ca.FromSize
		if err := m.add(c); err != nil {
			return err
		}
		return m.through(ca, sink{w: m.w, update: true})
	}
	if err := m.add(c); err != nil {
		return err
	}
	if !c.HasData() {
		return nil
	}
	s := sink{w: m.w, update: c.Op == format.OpUpdate}
	var err error
	switch {
	case cb.HasData() && cb.Op != format.OpUpdate:
		err = m.pump(m.b, m.b.R.Content(), s)
	case cb.Op == format.OpUpdate && ca.HasData():
		err = m.through(ca, s)
	case cb.Op == format.OpUpdate && ca.Op == format.OpMeta && s.update:
		err = m.copyOps(m.b, s)
	case !cb.HasData() && ca.HasData():
		if ca.Op == format.OpUpdate && s.update {
			err = m.copyOps(m.a, s)
		} else if ca.Op != format.OpUpdate {
			err = m.pump(m.a, m.contentA(ca), s)
		} else {
			err = unsupported(c, "an update of a file whose old version the merged archive does not keep")
		}
	case ca.From != "":
		err = unsupported(c, fmt.Sprintf("an update of a copy of %q, whose content neither archive holds", ca.From))
	default:
		err = unsupported(c, "content that neither archive holds")
	}
	return err
}

// links checks that b's old entry at a path is a's new one.
func (m *merger) links(ca, cb *format.Change) error {
	an, bo := ca.New, cb.Old
	switch {
	case an == nil && bo == nil:
		return nil
	case bo != nil && bo.Skipped && (an == nil || an.Type == format.TypeFile):
		return nil
	case an != nil && an.Skipped && bo != nil && bo.Type == format.TypeFile:
		return nil
	case an == nil:
		return m.noLink("it changes %q, which the first one deletes", cb.Path())
	case bo == nil:
		return m.noLink("it creates %q, which the first one leaves in place", cb.Path())
	case !sameTreeEntry(an, bo):
		return m.noLink("its old entry at %q is not the one the first one makes", cb.Path())
	}
	return nil
}

// sameTreeEntry compares what the tree hash holds of two entries.
func sameTreeEntry(a, b *format.Entry) bool {
	return a.Type == b.Type && a.Mode == b.Mode && a.MTime == b.MTime && a.Size == b.Size &&
		a.Target == b.Target && bytes.Equal(a.Hash, b.Hash) && a.LinkTo == b.LinkTo && a.Rdev == b.Rdev
}

// compose returns the change from old to new, as ibt-diff would classify
// it, or nil for none.
func compose(old, new *format.Entry) *format.Change {
	switch {
	case old == nil && new == nil:
		return nil
	case old == nil:
		return &format.Change{Op: format.OpCreate, New: new}
	case new == nil:
		return &format.Change{Op: format.OpDelete, Old: old}
	case old.Skipped && new.Skipped:
		return &format.Change{Op: format.OpMeta, Old: old, New: new} // left alone
	}
	return diff.Compare(old, new)
}

// copyOps copies the ops of in's current update to s as they are: where
// the other archive left the file's content alone, its copies are from
// the same old file.
func (m *merger) copyOps(in Input, s sink) error {
	return m.eachOp(in, func(copy bool, off, n int64, data []byte) error {
		if copy {
			return s.copy(off, n)
		}
		return s.literal(data)
	})
}

// eachOp calls f for every op of in's current update.
func (m *merger) eachOp(in Input, f func(copy bool, off, n int64, data []byte) error) error {
	for {
		op, err := m.nextOp(in)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to read archive %q: %w", in.Name, err)
		}
		if err := f(op.Copy, op.Offset, op.Length, op.Data); err != nil {
			return fmt.Errorf("failed to write archive: %w", err)
		}
	}
}

// through maps b's update of a file through a's data for it: each of b's
// copies from a's new file becomes copies from a's old file or literals of
// a. a's content or delta is spooled as b's copies reach into it, so that
// reading a, mostly forward, overlaps with writing the output. When a
// created the file, b's ops are first held (up to maxHeldOps, their
// literals in the spool file): if each copy comes after the one before,
// as where b only rewrote parts of the file, a's content is read forward
// once and written as it is read, not spooled (forward).
func (m *merger) through(ca *format.Change, s sink) error {
	if err := m.sp.reset(m.tempDir); err != nil {
		return err
	}
	var content io.Reader
	if !ca.HasDelta() {
		var stop func()
		content, stop = ahead(m.contentA(ca), ca.New.Size)
		defer stop()
	}
	var buf []byte
	// more spools a's data until it covers the new file up to need, or ends.
	more := func(need int64) error {
		for m.sp.end < need {
			if content == nil {
				op, err := m.nextOp(m.a)
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return fmt.Errorf("failed to read archive %q: %w", m.a.Name, err)
				}
				if op.Copy {
					m.sp.addCopy(op.Offset, op.Length)
				} else if err := m.sp.addLiteral(op.Data); err != nil {
					return err
				}
				continue
			}
			if buf == nil {
				buf = m.buffer()
			}
			n, err := content.Read(buf)
			if n > 0 {
				if err := m.sp.addLiteral(buf[:n]); err != nil {
					return err
				}
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("failed to read archive %q: %w", m.a.Name, err)
			}
		}
		return nil
	}
	one := func(copy bool, off, n int64, data []byte) error {
		var err error
		if copy {
			if err := more(off + n); err != nil {
				return err
			}
			err = m.sp.emit(off, n, s)
		} else {
			err = s.literal(data)
		}
		if err != nil {
			return fmt.Errorf("failed to write archive: %w", err)
		}
		return nil
	}
	var held []heldOp
	if content != nil {
		inOrder, end := true, int64(0)
		for len(held) < maxHeldOps {
			op, err := m.b.R.NextOp()
			if err == io.EOF {
				if inOrder {
					return m.forward(content, held, s)
				}
				break
			}
			if err != nil {
				return fmt.Errorf("failed to read archive %q: %w", m.b.Name, err)
			}
			h := heldOp{copy: op.Copy, off: op.Offset, n: op.Length}
			if op.Copy {
				inOrder = inOrder && op.Offset >= end
				end = op.Offset + op.Length
			} else if h.off, err = m.sp.hold(op.Data); err != nil {
				return err
			} else {
				h.n = int64(len(op.Data))
			}
			held = append(held, h)
		}
	}
	for _, h := range held {
		if !h.copy {
			if err := m.sp.copyOut(h.off, h.n, s); err != nil {
				return fmt.Errorf("failed to write archive: %w", err)
			}
		} else if err := one(true, h.off, h.n, nil); err != nil {
			return err
		}
	}
	for {
		op, err := m.b.R.NextOp()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to read archive %q: %w", m.b.Name, err)
		}
		if err := one(op.Copy, op.Offset, op.Length, op.Data); err != nil {
			return err
		}
	}
}

// maxHeldOps bounds the ops of b's update that through holds in memory.
const maxHeldOps = 1 << 16

// heldOp is an op of b held by through: a copy of n bytes at off of a's new
// file, or a literal of n bytes at off of the spool file.
type heldOp struct {
	copy   bool
	off, n int64
}

// forward writes b's held ops, whose copies come in order, reading a's
// new file, content, once as they reach into it.
func (m *merger) forward(content io.Reader, held []heldOp, s sink) error {
	buf := m.buffer()
	var pos int64 // of content
	for _, h := range held {
		if !h.copy {
			if err := m.sp.copyOut(h.off, h.n, s); err != nil {
				return fmt.Errorf("failed to write archive: %w", err)
			}
			continue
		}
		skipped, err := io.CopyN(io.Discard, content, h.off-pos)
		pos += skipped
		for left := h.n; err == nil && left > 0; {
			var k int
			k, err = io.ReadFull(content, buf[:min(left, int64(len(buf)))])
			pos += int64(k)
			left -= int64(k)
			if k > 0 {
				if werr := s.literal(buf[:k]); werr != nil {
					return fmt.Errorf("failed to write archive: %w", werr)
				}
			}
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return fmt.Errorf("failed to write archive: a copy of %d bytes at %d is outside the file's %d bytes", h.n, h.off, pos)
		case err != nil:
			return fmt.Errorf("failed to read archive %q: %w", m.a.Name, err)
		}
	}
	return nil
}
