package patch

import (
	"bytes"
	"math/rand/v2"
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
