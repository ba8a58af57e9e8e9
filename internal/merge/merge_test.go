package merge

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

// op is an op of a test delta: a copy (lit nil) or a literal.
type op struct {
	off, n int64
	lit    []byte
}

func apply(old []byte, ops []op) []byte {
	var out []byte
	for _, o := range ops {
		if o.lit != nil {
			out = append(out, o.lit...)
		} else {
			out = append(out, old[o.off:o.off+o.n]...)
		}
	}
	return out
}

// randomDelta returns ops turning old into a random new file made of
// pieces of old and new bytes.
func randomDelta(r *rand.Rand, old []byte) []op {
	var ops []op
	for range 1 + r.IntN(8) {
		if len(old) > 0 && r.IntN(3) > 0 {
			off := r.Int64N(int64(len(old)))
			ops = append(ops, op{off: off, n: 1 + r.Int64N(int64(len(old))-off)})
		} else {
			b := make([]byte, 1+r.IntN(3000))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			ops = append(ops, op{lit: b})
		}
	}
	return ops
}

func hashOf(b []byte) []byte {
	h := make([]byte, 32)
	copy(h, format.NewTreeHasher().Sum()) // any 32 bytes, different for different contents
	for i, c := range b {
		h[i%32] ^= c + byte(i)
	}
	h[0] ^= byte(len(b))
	return h
}

func file(p string, b []byte, mtime int64) *format.Entry {
	return &format.Entry{Path: p, Mode: 0o644, MTime: mtime, Size: int64(len(b)), Hash: hashOf(b),
		BlockSize: uint32(format.BlockSize(int64(len(b))))}
}

// newTestWriter starts a plain archive of a delta made from an old index
// of time tm.
func newTestWriter(t *testing.T, buf *bytes.Buffer, tm int64) *archive.Writer {
	t.Helper()
	h := format.Header{Kind: format.KindDelta, Version: format.Version, Hash: format.HashAlgorithm,
		Weak: format.WeakAlgorithm, Strong: format.StrongAlgorithm, Tool: "test", Time: tm}
	w, err := archive.NewWriter(buf, h, archive.WriterOptions{Codec: archive.None})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// updateArchive is an archive of one update of path from old to ops(old),
// made from an old index of time t.
func updateArchive(t *testing.T, tm int64, old []byte, ops []op, mtime int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newTestWriter(t, &buf, tm)
	nw := apply(old, ops)
	c := &format.Change{Op: format.OpUpdate, Old: file("f", old, tm), New: file("f", nw, mtime)}
	if err := w.AddChange(c); err != nil {
		t.Fatal(err)
	}
	for _, o := range ops {
		var err error
		if o.lit != nil {
			err = w.WriteLiteral(o.lit)
		} else {
			err = w.WriteCopy(o.off, o.n)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(format.Trailer{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func input(name string, b []byte) Input {
	return Input{Name: name, Open: func() (*archive.Reader, io.Closer, error) {
		r, err := archive.NewReader(bytes.NewReader(b))
		return r, io.NopCloser(nil), err
	}}
}

// TestUpdatesCompose merges two updates of a file and checks that the
// merged delta, applied to the first one's old file, gives the second
// one's new file: b's copies mapped through a's delta.
func TestUpdatesCompose(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		v0 := make([]byte, 1+r.IntN(20000))
		for j := range v0 {
			v0[j] = byte(r.Uint32())
		}
		d1 := randomDelta(r, v0)
		v1 := apply(v0, d1)
		d2 := randomDelta(r, v1)
		v2 := apply(v1, d2)
		a := updateArchive(t, 100, v0, d1, 200)
		b := updateArchive(t, 200, v1, d2, 300)
		var out bytes.Buffer
		if err := Merge(input("a", a), input("b", b), &out, Options{Tool: "test", Codec: archive.None}); err != nil {
			if bytes.Equal(v0, v2) || bytes.Equal(hashOf(v0), hashOf(v2)) {
				continue
			}
			t.Fatalf("case %d: %v", i, err)
		}
		mr, err := archive.NewReader(&out)
		if err != nil {
			t.Fatal(err)
		}
		c, err := mr.Next()
		if err != nil {
			t.Fatal(err)
		}
		if c.Op != format.OpUpdate || !bytes.Equal(c.Old.Hash, hashOf(v0)) || !bytes.Equal(c.New.Hash, hashOf(v2)) {
			t.Fatalf("case %d: merged change %v, want an update from v0 to v2", i, c)
		}
		var got []byte
		for {
			o, err := mr.NextOp()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Copy {
				got = append(got, v0[o.Offset:o.Offset+o.Length]...)
			} else {
				got = append(got, o.Data...)
			}
		}
		if !bytes.Equal(got, v2) {
			t.Fatalf("case %d: the merged delta gives %d bytes, not the second update's %d", i, len(got), len(v2))
		}
		if _, err := mr.Next(); err != io.EOF {
			t.Fatalf("case %d: after the change: %v", i, err)
		}
	}
}

// TestChainRefused gives the archives in the wrong order.
func TestChainRefused(t *testing.T) {
	v0, v1 := []byte("zero"), []byte("one")
	a := updateArchive(t, 100, v0, []op{{lit: v1}}, 200)
	b := updateArchive(t, 200, v1, []op{{lit: []byte("two")}}, 300)
	err := Merge(input("b", b), input("a", a), io.Discard, Options{Tool: "test"})
	var le *LinkError
	if !errors.As(err, &le) || le.A != "b" || le.B != "a" {
		t.Fatalf("merging b then a: %v, want a LinkError naming both", err)
	}
	// the right order, but a's new file is not b's old one
	c := updateArchive(t, 200, []byte("other"), []op{{lit: []byte("two")}}, 300)
	if err := Merge(input("a", a), input("c", c), io.Discard, Options{Tool: "test"}); !errors.Is(err, ErrNoLink) {
		t.Fatalf("merging a and c: %v, want ErrNoLink", err)
	}
}

// changesArchive is an archive of the changes cs, made from an old index
// of time tm, with no data (none of cs may have any).
func changesArchive(t *testing.T, tm int64, cs ...*format.Change) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newTestWriter(t, &buf, tm)
	for _, c := range cs {
		if err := w.AddChange(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(format.Trailer{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCopyOverAFileThenDeleted: a replaces a file by a copy of another,
// b deletes it; the merge deletes the old file.
func TestCopyOverAFileThenDeleted(t *testing.T) {
	old, q := file("p", []byte("the old p"), 100), []byte("the content of q, copied over p")
	copied := file("p", q, 150)
	a := changesArchive(t, 100, &format.Change{Op: format.OpReplace, Old: old, New: copied, From: "q"})
	b := changesArchive(t, 200, &format.Change{Op: format.OpDelete, Old: copied})
	var out bytes.Buffer
	if err := Merge(input("a", a), input("b", b), &out, Options{Tool: "test", Codec: archive.None}); err != nil {
		t.Fatal(err)
	}
	r, err := archive.NewReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Next()
	if err != nil || c.Op != format.OpDelete || !bytes.Equal(c.Old.Hash, old.Hash) {
		t.Fatalf("merged change %v, %v; want the delete of the old p", c, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the delete: %v", err)
	}
}

// TestDuplicateOfDuplicate: a full backup records c as a copy of b, itself
// a copy of a; the incremental deletes b. The merged full gives c the
// content of a, which a's archive holds under a alone.
func TestDuplicateOfDuplicate(t *testing.T) {
	x := []byte("the same content in three files, long enough to be a copy")
	var buf bytes.Buffer
	w := newTestWriter(t, &buf, 0)
	if err := w.AddChange(&format.Change{Op: format.OpCreate, New: file("a", x, 50)}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteContent(x); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"b", "c"} {
		from := map[string]string{"b": "a", "c": "b"}[p]
		if err := w.AddChange(&format.Change{Op: format.OpCreate, New: file(p, x, 50), From: from, FromNew: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(format.Trailer{}); err != nil {
		t.Fatal(err)
	}
	b := changesArchive(t, 100, &format.Change{Op: format.OpDelete, Old: file("b", x, 50)})
	var out bytes.Buffer
	if err := Merge(input("full", buf.Bytes()), input("inc", b), &out, Options{Tool: "test", Codec: archive.None}); err != nil {
		t.Fatal(err)
	}
	r, err := archive.NewReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "c"} {
		c, err := r.Next()
		if err != nil || c.Path() != want || c.Op != format.OpCreate {
			t.Fatalf("merged change %v, %v; want the creation of %q", c, err, want)
		}
		if c.From != "" {
			if c.From != "a" || !c.FromNew {
				t.Fatalf("%q copies %q", want, c.From)
			}
			continue
		}
		got, err := io.ReadAll(r.Content())
		if err != nil || !bytes.Equal(got, x) {
			t.Fatalf("content of %q: %q, %v", want, got, err)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after c: %v", err)
	}
}
