package index

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/rsync"
)

// testTree makes a small tree and returns its directory.
func testTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	big := make([]byte, 300<<10) // signed: more than one block
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	for p, data := range map[string][]byte{
		"a": big, "d/f": []byte("a small file\n"), "x.tmp": []byte("excluded\n"),
		"d/ignored": []byte("ignored\n"), "d/" + IgnoreFile: []byte("ignored\n"),
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// build runs Build on dir and returns the index stream, the stats and the
// warnings.
func build(t *testing.T, dir string, opt Options) ([]byte, Stats, []string, error) {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var warnings []string
	opt.Tool, opt.Name = "test", dir
	opt.Warn = func(msg string) { warnings = append(warnings, msg) }
	var out bytes.Buffer
	st, err := Build(root, opt, &out)
	return out.Bytes(), st, warnings, err
}

func entriesOf(t *testing.T, stream []byte) (format.Header, []*format.Entry, format.Trailer) {
	t.Helper()
	r, err := format.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	recs, tr := readAll(t, stream)
	var es []*format.Entry
	for _, rec := range recs {
		es = append(es, rec.(*format.Entry))
	}
	return r.Header(), es, tr
}

// TestBuild checks an index of a small tree: its header, its entries in
// path order, without the excluded ones, each file's hash and signatures
// those of its content under the index's seed, and its tree hash.
func TestBuild(t *testing.T) {
	dir := testTree(t)
	stream, st, _, err := build(t, dir, Options{Exclude: []string{"*.tmp"}, Jobs: 3})
	if err != nil {
		t.Fatal(err)
	}
	h, es, tr := entriesOf(t, stream)
	if h.Kind != format.KindIndex || h.Tool != "test" || h.Root != dir || !slices.Equal(h.Exclude, []string{"*.tmp"}) ||
		len(h.Seed) != format.SeedLen || h.Time == 0 {
		t.Errorf("header %+v", h)
	}
	var paths []string
	th := format.NewTreeHasher()
	key, err := format.NewStrongKey(h.Seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		paths = append(paths, e.Path)
		th.Add(e)
		if e.Type != format.TypeFile {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Path))
		if err != nil {
			t.Fatal(err)
		}
		hash, sig, err := rsync.SignFile(bytes.NewReader(data), int64(len(data)), 1, key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(e.Hash, hash) || !bytes.Equal(e.Sig, sig) || int(e.BlockSize) != format.BlockSize(e.Size) {
			t.Errorf("%q: hash or signatures are not those of its content", e.Path)
		}
	}
	if want := []string{"a", "d", "d/" + IgnoreFile, "d/f", "l"}; !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
	if !bytes.Equal(tr.TreeHash, th.Sum()) {
		t.Error("the tree hash is not that of the entries")
	}
	if st.Entries != 5 || st.HashedFiles != 3 || st.ReusedFiles != 0 {
		t.Errorf("stats %+v: want 5 entries, 3 files hashed", st)
	}
}

// TestBuildPrev checks that files the previous index vouches for keep its
// hashes and signatures unread, with its seed, and that Checksum reads
// them all under a new seed.
func TestBuildPrev(t *testing.T) {
	dir := testTree(t)
	v1, _, _, err := build(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h1, es1, _ := entriesOf(t, v1)
	// a previous walk an hour after the files last changed: none is racy
	h1.Time = time.Now().Add(time.Hour).UnixNano()
	v2, st, _, err := build(t, dir, Options{Prev: indexOf(t, h1, es1...), PrevName: "v1.idx"})
	if err != nil {
		t.Fatal(err)
	}
	h2, es2, _ := entriesOf(t, v2)
	if st.ReusedFiles != 4 || st.HashedFiles != 0 || !bytes.Equal(h2.Seed, h1.Seed) {
		t.Errorf("stats %+v, seed kept %v: want all 4 files reused under the previous seed", st, bytes.Equal(h2.Seed, h1.Seed))
	}
	for i := range es2 {
		if !bytes.Equal(es2[i].Hash, es1[i].Hash) || !bytes.Equal(es2[i].Sig, es1[i].Sig) {
			t.Errorf("%q: hash or signatures differ from the previous index's", es2[i].Path)
		}
	}
	v3, st, _, err := build(t, dir, Options{Prev: indexOf(t, h1, es1...), PrevName: "v1.idx", Checksum: true})
	if err != nil {
		t.Fatal(err)
	}
	if h3, _, _ := entriesOf(t, v3); st.ReusedFiles != 0 || st.HashedFiles != 4 || bytes.Equal(h3.Seed, h1.Seed) {
		t.Errorf("checksum: stats %+v: want every file read under a new seed", st)
	}
}

// TestBuildChangedWhileRead checks a file written to while it is read: a
// failure with the fix, or with SkipChanged an entry marked skipped and a
// warning.
func TestBuildChangedWhileRead(t *testing.T) {
	dir := testTree(t)
	testHookReading = func(p string) {
		if p == "d/f" {
			if err := os.WriteFile(filepath.Join(dir, p), []byte("rewritten while read\n"), 0o644); err != nil {
				t.Error(err)
			}
		}
	}
	defer func() { testHookReading = nil }()
	_, _, _, err := build(t, dir, Options{})
	var h interface{ Hint() string }
	if err == nil || !strings.Contains(err.Error(), `"d/f" changed while it was being read`) || !errors.As(err, &h) {
		t.Fatalf("got %v, want a change while reading, with a hint", err)
	}

	stream, st, warnings, err := build(t, dir, Options{SkipChanged: true})
	if err != nil {
		t.Fatal(err)
	}
	_, es, _ := entriesOf(t, stream)
	i := slices.IndexFunc(es, func(e *format.Entry) bool { return e.Path == "d/f" })
	if i < 0 || !es[i].Skipped || len(es[i].Hash) != 0 || st.SkippedFiles != 1 {
		t.Errorf("d/f: %+v, stats %+v: want an entry marked skipped", es[i], st)
	}
	want := `"d/f" changed while it was being read: recorded as skipped, so ibt-diff leaves it as the old index has it (with --prev it would keep the previous entry)`
	if !slices.Equal(warnings, []string{want}) {
		t.Errorf("warnings %q, want %q", warnings, want)
	}
}
