package diff

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// joined runs Join on two indexes (old nil for a full backup) and returns
// the diff's header, its changes as "op path<source" lines, its trailer,
// the stats and the warnings.
func joined(t *testing.T, old, new []*format.Entry, opt Options) (format.Header, []string, format.Trailer, Stats, []string) {
	t.Helper()
	var oldR *format.Reader
	if old != nil {
		oldR = indexOf(t, format.Header{Time: 42}, old...)
	}
	var warnings []string
	opt.Tool, opt.OldName, opt.NewName = "test", "old.idx", "new.idx"
	opt.Warn = func(msg string) { warnings = append(warnings, msg) }
	var out bytes.Buffer
	st, err := Join(oldR, indexOf(t, format.Header{}, new...), opt, &out)
	if err != nil {
		t.Fatal(err)
	}
	r, err := format.NewReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	recs, tr := readAll(t, out.Bytes())
	var changes []string
	for _, rec := range recs {
		c := rec.(*format.Change)
		s := fmt.Sprintf("%s %s", c.Op, c.Path())
		if c.From != "" {
			s += "<" + c.From
		}
		changes = append(changes, s)
	}
	return r.Header(), changes, tr, st, warnings
}

func file(p, content string, size int64) *format.Entry {
	return &format.Entry{Path: p, Type: format.TypeFile, Mode: 0o644, Size: size, Hash: bytes.Repeat([]byte(content), 32)[:32]}
}

// TestJoin checks the diffs Join writes: their header, changes and
// sources, and what it counts.
func TestJoin(t *testing.T) {
	old := []*format.Entry{file("a", "x", 100), file("b", "y", 100), file("c", "z", 100)}
	new := []*format.Entry{file("a", "x", 100), file("b", "w", 100), file("d", "z", 100), file("e", "z", 100)}
	op := func(o format.Op, p string) string { return fmt.Sprintf("%s %s", o, p) }

	h, changes, _, st, _ := joined(t, old, new, Options{})
	if h.Kind != format.KindDiff || h.Tool != "test" || h.Time != 42 || len(h.Seed) != format.SeedLen {
		t.Errorf("header %+v: want a diff with the old index's seed and walk time", h)
	}
	want := []string{op(format.OpUpdate, "b"), op(format.OpDelete, "c"), op(format.OpCreate, "d") + "<c", op(format.OpCreate, "e") + "<c"}
	if !slices.Equal(changes, want) || st.Sourced != 2 || st.Saved != 200 {
		t.Errorf("incremental: %q, %+v; want %q, 2 sourced", changes, st, want)
	}

	_, changes, _, st, _ = joined(t, old, new, Options{NoRenames: true})
	want = []string{op(format.OpUpdate, "b"), op(format.OpDelete, "c"), op(format.OpCreate, "d"), op(format.OpCreate, "e")}
	if !slices.Equal(changes, want) || st.Sourced != 0 {
		t.Errorf("--no-renames: %q, %+v; want %q, none sourced", changes, st, want)
	}

	h, changes, _, st, _ = joined(t, nil, new, Options{})
	want = []string{op(format.OpCreate, "a"), op(format.OpCreate, "b"), op(format.OpCreate, "d"), op(format.OpCreate, "e") + "<d"}
	if !slices.Equal(changes, want) || st.Sourced != 1 || len(h.Seed) != 0 {
		t.Errorf("full: %q, %+v, seed %x; want %q, 1 sourced, no seed", changes, st, h.Seed, want)
	}
}

// TestJoinSkipped checks that a skipped entry of the new index leaves the
// old entry in place, with a warning naming the old index, and that the
// diff's tree hash then describes the tree the changes give.
func TestJoinSkipped(t *testing.T) {
	old := []*format.Entry{file("a", "x", 100), file("b", "y", 100)}
	skipped := &format.Entry{Path: "b", Type: format.TypeFile, Mode: 0o644, Size: 7, Skipped: true}
	new := []*format.Entry{file("a", "x", 100), skipped, {Path: "c", Type: format.TypeFile, Mode: 0o644, Size: 1, Skipped: true}}
	_, changes, tr, st, warnings := joined(t, old, new, Options{})
	if len(changes) != 0 || st.Skipped != 2 {
		t.Errorf("changes %q, %d skipped; want none, 2 skipped", changes, st.Skipped)
	}
	th := format.NewTreeHasher()
	th.Add(old[0])
	th.Add(old[1])
	if !bytes.Equal(tr.TreeHash, th.Sum()) {
		t.Errorf("tree hash %x, want that of the old entries left in place", tr.TreeHash)
	}
	want := []string{`"b" changed while ibt-sign read it: left as "old.idx" has it`,
		`"c" changed while ibt-sign read it and "old.idx" does not have it: left out, as "old.idx" has it`}
	if !slices.Equal(warnings, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(want, "\n"))
	}
}
