package diff

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// TestRenameSources checks which created files ibt-diff gives a source,
// and which one, on synthetic indexes.
func TestRenameSources(t *testing.T) {
	h := func(s string) []byte { return bytes.Repeat([]byte(s), 32)[:32] }
	f := func(p, content string, size int64) *format.Entry {
		return &format.Entry{Path: p, Type: format.TypeFile, Mode: 0o644, Size: size, Hash: h(content)}
	}
	type want struct {
		from    string
		fromNew bool
	}
	tests := []struct {
		name     string
		old, new []*format.Entry
		want     map[string]want // path of a created file -> its source
	}{
		{"rename to an earlier path", []*format.Entry{f("b", "x", 100)}, []*format.Entry{f("a", "x", 100)},
			map[string]want{"a": {"b", false}}},
		{"rename to a later path", []*format.Entry{f("a", "x", 100)}, []*format.Entry{f("b", "x", 100)},
			map[string]want{"b": {"a", false}}},
		{"copy of a kept file", []*format.Entry{f("a", "x", 100)}, []*format.Entry{f("a", "x", 100), f("b", "x", 100)},
			map[string]want{"b": {"a", false}}},
		{"copy of a file whose metadata changes", []*format.Entry{f("z", "x", 100)},
			[]*format.Entry{f("a", "x", 100), {Path: "z", Type: format.TypeFile, Mode: 0o600, Size: 100, Hash: h("x")}},
			map[string]want{"a": {"z", false}}},
		{"an updated file is no source", []*format.Entry{f("z", "x", 100)}, []*format.Entry{f("a", "x", 100), f("z", "y", 100)},
			map[string]want{"a": {}}},
		{"a replaced file is no source", []*format.Entry{f("z", "x", 100)},
			[]*format.Entry{f("a", "x", 100), {Path: "z", Type: format.TypeDir, Mode: 0o755}},
			map[string]want{"a": {}}},
		{"an earlier created file is", []*format.Entry{f("z", "x", 100)},
			[]*format.Entry{f("a", "x", 100), f("b", "x", 100), f("z", "y", 100)},
			map[string]want{"a": {}, "b": {"a", true}}},
		{"an old source beats a created one", []*format.Entry{f("z", "x", 100)},
			[]*format.Entry{f("a", "x", 100), f("b", "x", 100)},
			map[string]want{"a": {"z", false}, "b": {"z", false}}},
		{"too small to gain", []*format.Entry{f("b", "x", 63)}, []*format.Entry{f("a", "x", 63)},
			map[string]want{"a": {}}},
		{"same prefix, other content", []*format.Entry{f("b", "x", 100)},
			[]*format.Entry{{Path: "a", Type: format.TypeFile, Mode: 0o644, Size: 100, Hash: append(h("x")[:31:31], 'y')}},
			map[string]want{"a": {}}},
		{"full backup of duplicates", nil, []*format.Entry{f("a", "x", 100), f("b", "x", 100), f("c", "x", 100)},
			map[string]want{"a": {}, "b": {"a", true}, "c": {"a", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var oldR *format.Reader
			if tt.old != nil {
				oldR = indexOf(t, format.Header{}, tt.old...)
			}
			got := map[string]want{}
			r, err := newRenamer(format.Header{Kind: format.KindDiff, Tool: "test"})
			if err != nil {
				t.Fatal(err)
			}
			defer r.close()
			j := &join{oldName: "old", newName: "new"}
			if err := j.run(oldR, indexOf(t, format.Header{}, tt.new...), r.change, r.unchanged); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			w, err := format.NewWriter(&out, format.Header{Kind: format.KindDiff, Tool: "test"}, format.WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.finish(w); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(format.Trailer{}); err != nil {
				t.Fatal(err)
			}
			recs, _ := readAll(t, out.Bytes())
			for _, rec := range recs {
				if c := rec.(*format.Change); c.Op == format.OpCreate || c.Op == format.OpReplace {
					got[c.Path()] = want{c.From, c.FromNew}
				}
			}
			for p, w := range tt.want {
				if got[p] != w {
					t.Errorf("%q: source %+v, want %+v", p, got[p], w)
				}
			}
		})
	}
}

// TestDupFinder checks that a full backup's duplicates name the first copy
// as they stream out.
func TestDupFinder(t *testing.T) {
	h := bytes.Repeat([]byte{7}, 32)
	var got []string
	f := newDupFinder(func(c *format.Change) error {
		got = append(got, fmt.Sprintf("%s<%s,%v", c.Path(), c.From, c.FromNew))
		return nil
	})
	for _, p := range []string{"a", "b", "c"} {
		size := int64(100)
		if p == "c" {
			size = 10 // too small to gain
		}
		if err := f.change(&format.Change{Op: format.OpCreate, New: &format.Entry{Path: p, Size: size, Hash: h}}); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"a<,false", "b<a,true", "c<,false"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if f.matched != 1 || f.saved != 100 {
		t.Errorf("matched %d, saved %d", f.matched, f.saved)
	}
}
