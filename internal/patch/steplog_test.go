package patch

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// randomStep is a step with random flags, entries and states, as the
// step log may hold.
func randomStep(rng *rand.Rand) *step {
	types := []format.Type{format.TypeFile, format.TypeDir, format.TypeSymlink}
	ops := []format.Op{format.OpCreate, format.OpUpdate, format.OpDelete, format.OpReplace, format.OpMeta}
	c := &format.Change{Op: ops[rng.IntN(len(ops))]}
	path := "d/f" + string(rune('a'+rng.IntN(26)))
	if rng.IntN(2) == 0 {
		c.Old = &format.Entry{Path: path, Type: types[rng.IntN(len(types))]}
		if rng.IntN(3) == 0 {
			c.Old.Xattrs = []format.Xattr{{Name: "user.x", Value: []byte("v")}}
		}
	}
	if c.Old == nil || rng.IntN(3) > 0 {
		c.New = &format.Entry{Path: path, Type: types[rng.IntN(len(types))], Mode: 0o644, MTime: rng.Int64(), Size: rng.Int64N(1 << 40)}
		if c.New.Type == format.TypeFile {
			c.New.Hash = bytes.Repeat([]byte{byte(rng.IntN(256))}, 32)
		}
		if rng.IntN(4) == 0 {
			c.New.Xattrs = []format.Xattr{{Name: "user.y", Value: []byte{}}, {Name: "user.z", Value: []byte("zz")}}
		}
		if rng.IntN(5) == 0 {
			c.New.Hash = []byte{1, 2, 3} // not of the usual length
		}
	}
	s := &step{c: c, state: state(rng.IntN(3)), i: rng.IntN(1000),
		late: rng.IntN(4) == 0, done: rng.IntN(3) == 0, link: rng.IntN(5) == 0,
		lateLink: rng.IntN(6) == 0, inside: rng.IntN(3) == 0, dropped: rng.IntN(8) == 0}
	switch {
	case s.inside:
		s.staged = "stage/7/" + path
		s.dev, s.ino, s.ctime = rng.Uint64(), rng.Uint64(), rng.Int64()
	case rng.IntN(2) == 0:
		s.staged = stageName(s.i)
	}
	return s
}

// TestPeekStepAgreesWithDecode: what the commit's passes read of a record
// without decoding it is what decoding it gives, and a pass passes over
// no record that it acts on when decoded.
func TestPeekStepAgreesWithDecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 20000 {
		s := randomStep(rng)
		b := appendStep(nil, s)
		h, ok := peekStep(b)
		d, err := decodeStep(b)
		if !ok || err != nil {
			t.Fatalf("%+v: peek %v, decode %v", s, ok, err)
		}
		if d.c.New != nil && h.newType != d.c.New.Type || d.c.Op != h.op || d.state != h.state || d.lateLink != (h.flags2&recLateLink != 0) {
			t.Fatalf("peek %+v, decoded %+v", h, d)
		}
		removes := d.c.Op == format.OpDelete && d.state == stOld || d.late
		if removes && !needsRemove(h) {
			t.Fatalf("the remove pass passes over %+v", d)
		}
		meta := d.c.New != nil && !((d.staged != "" || d.done) && d.c.New.Type != format.TypeDir)
		if meta && !needsMeta(h) {
			t.Fatalf("the metadata pass passes over %+v", d)
		}
		// the decoded step holds nothing of the record, which a cursor reuses
		for i := range b {
			b[i] = 0xff
		}
		if d.c.New != nil && s.c.New.Hash != nil && !bytes.Equal(d.c.New.Hash, s.c.New.Hash) {
			t.Fatalf("the hash changed with the record's buffer: %x", d.c.New.Hash)
		}
		if d.c.New != nil && len(s.c.New.Xattrs) > 0 && !bytes.Equal(d.c.New.Xattrs[1].Value, s.c.New.Xattrs[1].Value) {
			t.Fatalf("an xattr changed with the record's buffer")
		}
	}
}

// TestPeekStepShortRecords: a record cut anywhere peeks as not ok or
// decodes as an error, never a panic.
func TestPeekStepShortRecords(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 200 {
		b := appendStep(nil, randomStep(rng))
		for n := range len(b) {
			peekStep(b[:n])
			if _, err := decodeStep(b[:n]); err == nil {
				t.Fatalf("a record cut to %d of %d bytes decoded", n, len(b))
			}
		}
	}
}

// TestStepLogPasses: every pass over a log gives each step its need
// accepts, in order, decoded as the record says, however it reuses its
// memory: a forward pass keeps the step before the current one intact
// (walkMerged holds both), dropped steps in between included; a pass with
// nothing to do reads nothing, yet finds a dropped step that keep turned
// into one it is for.
func TestStepLogPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	l, err := newStepLog(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	var recs [][]byte
	var offs []int64
	for i := range 3000 {
		s := randomStep(rng)
		p := fmt.Sprintf("p%05d", i)
		if s.c.Old != nil {
			s.c.Old.Path = p
		}
		if s.c.New != nil {
			s.c.New.Path = p
		}
		if s.c.Op == format.OpMeta && s.c.Old == nil {
			s.c.Op = format.OpCreate // OpMeta without Old is left to the dropped steps below
		}
		if i%97 == 0 {
			// a directory outside --only (of an op no other step has here)
			s = &step{c: &format.Change{Op: format.OpMeta, New: &format.Entry{Path: p, Type: format.TypeDir, Mode: 0o755}}, dropped: true}
		}
		if s.inside {
			s.staged = "stage/7/" + p
		}
		offs = append(offs, l.size)
		if err := l.add(s); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, appendStep(nil, s))
	}
	want := func(i int) *step {
		s, err := decodeStep(recs[i])
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	kept := func(need func(stepHead) bool) (idx []int) {
		for i, b := range recs {
			if h, _ := peekStep(b); need(h) && h.flags2&recDropped == 0 {
				idx = append(idx, i)
			}
		}
		return idx
	}
	all := func(stepHead) bool { return true }
	needs := map[string]func(stepHead) bool{"all": all, "remove": needsRemove, "meta": needsMeta,
		"late links": func(h stepHead) bool { return h.flags2&recLateLink != 0 },
		"none":       func(stepHead) bool { return false }}
	for name, need := range needs {
		idx := kept(need)
		var got []*step
		var prev *step
		prevAt := -1
		err := l.eachWhere(need, func(s *step) error {
			if prev != nil && !reflect.DeepEqual(prev, want(idx[prevAt])) {
				t.Fatalf("%s: the step before %q changed under the pass", name, s.c.Path())
			}
			got = append(got, s)
			prev, prevAt = s, len(got)-1
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(idx) {
			t.Fatalf("%s: a forward pass gave %d steps, want %d", name, len(got), len(idx))
		}
		if len(got) > 0 && !reflect.DeepEqual(got[len(got)-1], want(idx[len(idx)-1])) {
			t.Fatalf("%s: the last step is not its record's", name)
		}
		k := len(idx)
		err = l.backwardWhere(need, func(s *step) error {
			k--
			if !reflect.DeepEqual(s, want(idx[k])) {
				t.Fatalf("%s: backward, step %q is not its record's", name, s.c.Path())
			}
			return nil
		})
		if err != nil || k != 0 {
			t.Fatalf("%s: a backward pass left %d steps, err %v", name, k, err)
		}
	}
	// with walkMerged's two steps at once: the one visited, the one pending
	c, err := l.forward()
	if err != nil {
		t.Fatal(err)
	}
	idx := kept(all)
	s, pending := (*step)(nil), c.next()
	for i := 0; pending != nil; i++ {
		s, pending = pending, c.next()
		if !reflect.DeepEqual(s, want(idx[i])) {
			t.Fatalf("the visited step %q changed when the next was read", s.c.Path())
		}
	}
	// a dropped directory kept: the metadata pass, for directories, and a
	// pass for dropped-then-kept directories alone, find it
	only := func(h stepHead) bool {
		return h.newType == format.TypeDir && h.flags2 == 0 && h.flags == recNew && h.op == format.OpMeta && h.state == stAbsent
	}
	before := 0
	l.eachWhere(only, func(*step) error { before++; return nil })
	if before != 0 {
		t.Fatalf("%d steps other than the dropped ones are for the pass", before)
	}
	if err := l.keep(offs[97]); err != nil {
		t.Fatal(err)
	}
	found := false
	l.eachWhere(only, func(s *step) error {
		found = found || s.c.Path() == "p00097"
		return nil
	})
	if !found {
		t.Fatal("a pass did not find the step keep turned from dropped")
	}
}

// decodeStep decodes a record into new memory, as the log's lookups do.
func decodeStep(b []byte) (*step, error) {
	return decodeStepInto(new(decoded), b)
}
