package format

import (
	"bytes"
	"reflect"
	"testing"
)

// TestSkippedOldRoundTrip checks that a skipped entry may be the old entry
// of a replace or a delete, the changes ibt-diff makes where its old index
// has a skipped file, and both entries of a meta change, which it makes
// where both indexes have, and reads back as written, in a diff and a delta.
func TestSkippedOldRoundTrip(t *testing.T) {
	old := func(p string) *Entry {
		return &Entry{Path: p, Type: TypeFile, Mode: 0o644, MTime: t0, Size: 9, Dev: 1, Inode: 2, CTime: t0, Skipped: true}
	}
	changes := []*Change{
		{Op: OpDelete, Old: old("a")},
		{Op: OpReplace, Old: old("b"), New: &Entry{Path: "b", Type: TypeDir, Mode: 0o755, MTime: t0}},
		{Op: OpReplace, Old: old("c"), New: &Entry{Path: "c", Type: TypeFile, Mode: 0o644, MTime: t0, Size: 3, Hash: sum("abc")}},
		{Op: OpMeta, Old: old("d"), New: old("d")},
	}
	for _, kind := range []Kind{KindDiff, KindDelta} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Header{Kind: kind, Seed: testSeed(kind), Tool: "ibt-test"}, WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range changes {
			if err := w.WriteChange(c); err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			if kind == KindDelta && c.HasData() {
				// the replacing file's content
				if err := w.WriteLiteral([]byte("abc")); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Close(Trailer{}); err != nil {
			t.Fatal(err)
		}
		s, err := readAll(buf.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		var got []any
		for _, r := range s.records {
			if _, ok := r.(*Change); ok {
				got = append(got, r)
			}
		}
		for i, c := range changes {
			if !reflect.DeepEqual(got[i], c) {
				t.Errorf("%s: change %d reads back as %+v, want %+v", kind, i, got[i], c)
			}
		}
	}
}
