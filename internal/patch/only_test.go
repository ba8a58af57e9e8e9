package patch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

// onlyTree has paths that sort between a directory and its entries
// ("home/me/project-old", "d.c"), duplicates that a full backup records as
// copies, and a subtree a pattern selects whole.
func onlyTree() tr {
	long := strings.Repeat("shared content, long enough to be recorded as a copy\n", 3)
	return tr{
		"a.txt":                       file("top\n"),
		"d":                           dir().withMode(0o750),
		"d.c":                         file("d.c\n"),
		"d/x.c":                       file("x\n"),
		"d/y.h":                       file("y\n"),
		"d/z":                         dir(),
		"d/z/w.c":                     file(long),
		"e":                           dir(),
		"e/only.h":                    file("h\n"),
		"home":                        dir().withMode(0o711).withTime(baseTime - 7e9),
		"home/me":                     dir().withTime(baseTime - 5e9),
		"home/me/aaa":                 file(long),
		"home/me/project":             dir(),
		"home/me/project-old":         file("old\n"),
		"home/me/project/link":        symlink("../aaa"),
		"home/me/project/main.go":     file("package main\n").withMode(0o600),
		"home/me/project/copy":        file(long),
		"home/me/project/sub":         dir(),
		"home/me/project/sub/empty":   dir(),
		"home/me/project/sub/x.c":     file("more\n"),
		"home/me/project/sub/zz-copy": file(long),
		"home/you":                    dir(),
		"home/you/project":            dir(),
		"home/you/project/y.c":        file("you\n"),
	}
}

// restrict is the part of t that patterns select: sel, and every directory
// above a path of sel.
func restrict(t tr, sel ...string) tr {
	out := tr{}
	for _, p := range sel {
		out[p] = t[p]
		for q := parent(p); q != ""; q = parent(q) {
			out[q] = t[q]
		}
	}
	return out
}

func applyOnly(d string, a []byte, only ...string) (Summary, error) {
	return Apply(d, bytes.NewReader(a), Options{KnownDir: testKnownDir, Only: only})
}

func TestOnlyRestoresTheSelectionAndItsParents(t *testing.T) {
	v := onlyTree()
	arch := makeArchive(t, tr{}, v)
	project := []string{"home/me/project", "home/me/project/link", "home/me/project/main.go", "home/me/project/copy",
		"home/me/project/sub", "home/me/project/sub/empty", "home/me/project/sub/x.c", "home/me/project/sub/zz-copy"}
	tests := []struct {
		only []string
		want tr
	}{
		{[]string{"home/me/project"}, restrict(v, project...)},
		{[]string{"/home/me/project/"}, restrict(v, project...)},
		{[]string{"*.c", "!y.c"}, restrict(v, "d.c", "d/x.c", "d/z/w.c", "home/me/project/sub/x.c")},
		{[]string{"only.h", "empty"}, restrict(v, "e/only.h", "home/me/project/sub/empty")},
		{[]string{"a.txt", "home/you"}, restrict(v, "a.txt", "home/you", "home/you/project", "home/you/project/y.c")},
	}
	for _, tt := range tests {
		for _, reread := range []bool{false, true} {
			d := filepath.Join(t.TempDir(), "restore")
			opt := Options{KnownDir: testKnownDir, Only: tt.only}
			if reread {
				opt.Reread = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(arch)), nil }
			}
			s, err := Apply(d, bytes.NewReader(arch), opt)
			if err != nil {
				t.Fatalf("--only %q: %v", tt.only, err)
			}
			if got, want := withoutRoot(listing(t, d)), treeListing(t, tt.want); got != want {
				t.Fatalf("--only %q restored:\n%s\nwant:\n%s", tt.only, got, want)
			}
			if s.Created != len(tt.want) {
				t.Errorf("--only %q: summary %+v, want %d created", tt.only, s, len(tt.want))
			}
			if _, err := os.Lstat(filepath.Join(d, stagingName)); err == nil {
				t.Errorf("--only %q left its workspace", tt.only)
			}
		}
	}
}

// TestOnlyHardLinks restores links of a group whose first path is not
// selected: the first selected link takes the content, the others link to
// it.
func TestOnlyHardLinks(t *testing.T) {
	content := "the group's content\n"
	a := fileEntry("a", content)
	b, c, e := linkOf("p/b", a), linkOf("p/c", a), linkOf("q/e", a)
	p, q := entry("p", dir()), entry("q", dir())
	all := []*format.Entry{a, p, b, c, q, e}
	var cs []*format.Change
	for _, x := range all {
		cs = append(cs, &format.Change{Op: format.OpCreate, New: x})
	}
	arch := archiveOf(t, cs, map[string]string{"a": content}, all)
	for _, sel := range [][]string{{"p"}, {"p/c"}, {"a", "p/c"}, {"p", "q"}} {
		d := filepath.Join(t.TempDir(), "restore")
		if _, err := applyOnly(d, arch, sel...); err != nil {
			t.Fatalf("--only %q: %v", sel, err)
		}
		var first os.FileInfo
		for _, x := range all {
			if x.Type != format.TypeFile {
				continue
			}
			fi, err := os.Lstat(filepath.Join(d, x.Path))
			selected := false
			for _, s := range sel {
				selected = selected || x.Path == s || strings.HasPrefix(x.Path, s+"/")
			}
			if !selected {
				if err == nil {
					t.Errorf("--only %q restored %s", sel, x.Path)
				}
				continue
			}
			if err != nil {
				t.Fatalf("--only %q: %v", sel, err)
			}
			if b, _ := os.ReadFile(filepath.Join(d, x.Path)); string(b) != content {
				t.Errorf("--only %q: %s holds %q", sel, x.Path, b)
			}
			if first == nil {
				first = fi
			} else if !os.SameFile(first, fi) {
				t.Errorf("--only %q: %s is not a link of the group's first selected path", sel, x.Path)
			}
		}
		// the same run again finds everything in place
		s, err := applyOnly(d, arch, sel...)
		if err != nil || s.Created+s.Updated+s.Deleted+s.Meta+s.Replaced != 0 || s.AlreadyApplied == 0 {
			t.Errorf("--only %q again, into the restored DIR: %+v, %v; want all already applied", sel, s, err)
		}
	}
}

func TestOnlyRefusesAnIncrementalAndAFullDir(t *testing.T) {
	v := onlyTree()
	w := v.clone()
	w["a.txt"] = file("changed\n")
	inc := writeArchiveHeader(t, changes(v, w), w, archive.Gzip,
		format.Header{Kind: format.KindDelta, Version: format.Version, Hash: format.HashAlgorithm, Tool: "test", Time: baseTime})
	missing := filepath.Join(t.TempDir(), "restore")
	_, err := applyOnly(missing, inc, "home")
	if !errors.Is(err, ErrWrongBase) || !strings.Contains(err.Error(), "incremental") {
		t.Errorf("--only with an incremental: %v, want refused", err)
	}
	if _, err := os.Lstat(missing); err == nil {
		t.Error("the refused run created DIR")
	}
	full := makeArchive(t, tr{}, v)
	d := t.TempDir()
	os.WriteFile(filepath.Join(d, "mine"), []byte("mine\n"), 0o644)
	before := listing(t, d)
	_, err = applyOnly(d, full, "home")
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), `"mine"`) {
		t.Errorf("--only into a DIR holding a file: %v, want a conflict naming it", err)
	}
	if after := listing(t, d); after != before {
		t.Errorf("the refused run changed DIR:\n%s\nwas:\n%s", after, before)
	}
	_, err = applyOnly(missing, full, "nowhere")
	if !errors.Is(err, errNothingSelected) {
		t.Errorf("--only nowhere: %v, want nothing selected", err)
	}
	if _, err := os.Lstat(missing); err == nil {
		t.Error("the run that selected nothing left DIR")
	}
}

// TestOnlyChecksTheArchiveTreeHash: entries that are not the tree the
// archive records are refused, though the selected ones are whole.
func TestOnlyChecksTheArchiveTreeHash(t *testing.T) {
	v := onlyTree()
	cs := changes(tr{}, v)
	var buf bytes.Buffer
	w, err := archive.NewWriter(&buf, format.Header{Kind: format.KindDelta, Version: format.Version, Hash: format.HashAlgorithm, Tool: "test"},
		archive.WriterOptions{Codec: archive.None})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Path() == "a.txt" {
			c.New.Mode = 0o600 // not what the tree hash says
		}
		if err := w.AddChange(c); err != nil {
			t.Fatal(err)
		}
		if c.HasData() {
			w.WriteContent([]byte(v[c.Path()].data))
		}
	}
	w.Close(format.Trailer{TreeHash: treeHash(v)})
	d := filepath.Join(t.TempDir(), "restore")
	if _, err := applyOnly(d, buf.Bytes(), "home"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("an archive whose entries are not its tree: %v, want corrupt", err)
	}
	if _, err := os.Lstat(d); err == nil {
		t.Error("the refused run left DIR")
	}
}

func TestOnlyDryRun(t *testing.T) {
	arch := makeArchive(t, tr{}, onlyTree())
	d := filepath.Join(t.TempDir(), "restore")
	var got []string
	_, err := Apply(d, bytes.NewReader(arch), Options{DryRun: true, Only: []string{"*.c"},
		Report: func(action, p string) { got = append(got, action+" "+p) }})
	if err != nil {
		t.Fatal(err)
	}
	want := "create d.c,create d,create d/x.c,create d/z,create d/z/w.c,create home,create home/me,create home/me/project,create home/me/project/sub,create home/me/project/sub/x.c,create home/you,create home/you/project,create home/you/project/y.c"
	if strings.Join(got, ",") != want {
		t.Errorf("dry run reports\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
	if _, err := os.Lstat(d); err == nil {
		t.Error("the dry run created DIR")
	}
}

// TestOnlyKilledThenRerunFinishes kills a restore of one subtree at points
// of its commit: the same run finishes it, and another selection, or none,
// is refused until it has.
func TestOnlyKilledThenRerunFinishes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	_, v := bigTrees()
	v["d01/f00.bin.copy"] = v["d00/f00.bin"] // a copy of a file outside the selection
	arch := filepath.Join(t.TempDir(), "full.tar.gz")
	if err := os.WriteFile(arch, makeArchive(t, tr{}, v), 0o644); err != nil {
		t.Fatal(err)
	}
	var sel []string
	for _, p := range v.paths() {
		if strings.HasPrefix(p, "d01/") || p == "d01" {
			sel = append(sel, p)
		}
	}
	want := treeListing(t, restrict(v, sel...))
	only := onlyEnv + "=d01"
	d := filepath.Join(t.TempDir(), "dir")
	_, out := runHelper(t, d, arch, countEnv+"=1", only)
	total, _ := strconv.Atoi(out)
	if got := withoutRoot(listing(t, d)); got != want || total < 10 {
		t.Fatalf("uninterrupted run: %d steps, tree:\n%s\nwant:\n%s", total, got, want)
	}
	for _, k := range []int{1, total / 3, total - 1} {
		d := filepath.Join(t.TempDir(), "dir")
		if killed, _ := runHelper(t, d, arch, fmt.Sprintf("%s=%d", crashCommitEnv, k), only); !killed {
			t.Fatalf("step %d: not killed", k)
		}
		for _, other := range [][]string{nil, {"d02"}} {
			var err error
			for try := 0; try < 5; try++ {
				f, _ := os.Open(arch)
				_, err = Apply(d, f, Options{Only: other})
				f.Close()
				if !errors.Is(err, ErrBusy) || strings.Contains(err.Error(), "--only") {
					break
				}
				// the lock of the run before, held a moment by a helper
				// of a parallel test forked before it closed it
				time.Sleep(50 * time.Millisecond)
			}
			if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "--only") {
				t.Errorf("step %d: finishing with --only %q: %v, want refused", k, other, err)
			}
		}
		if killed, _ := runHelper(t, d, arch, only); killed {
			t.Fatal("rerun killed")
		}
		if got := withoutRoot(listing(t, d)); got != want {
			t.Fatalf("step %d: tree after the rerun differs:\n got:\n%s\nwant:\n%s", k, got, want)
		}
	}
}
