package patch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

// archiveOf builds an archive of the given changes, taking created files'
// content from data, with the tree hash of the entries of newTree.
func archiveOf(t *testing.T, cs []*format.Change, data map[string]string, newTree []*format.Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := archive.NewWriter(&buf, format.Header{Kind: format.KindDelta, Version: format.Version, Hash: format.HashAlgorithm, Tool: "test"},
		archive.WriterOptions{Codec: archive.Gzip, Level: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if err := w.AddChange(c); err != nil {
			t.Fatal(err)
		}
		if c.HasData() {
			if err := w.WriteContent([]byte(data[c.Path()])); err != nil {
				t.Fatal(err)
			}
		}
	}
	th := format.NewTreeHasher()
	for _, e := range newTree {
		th.Add(e)
	}
	if err := w.Close(format.Trailer{TreeHash: th.Sum()}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func linkOf(p string, first *format.Entry) *format.Entry {
	e := *first
	e.Path, e.LinkTo = p, first.Path
	return &e
}

func TestHardLinksAreRestoredAsLinks(t *testing.T) {
	a := fileEntry("a", "shared content\n")
	b, c := linkOf("b", a), linkOf("d/c", a)
	d := entry("d", dir())
	arch := archiveOf(t, []*format.Change{
		{Op: format.OpCreate, New: a}, {Op: format.OpCreate, New: b},
		{Op: format.OpCreate, New: d}, {Op: format.OpCreate, New: c},
	}, map[string]string{"a": "shared content\n"}, []*format.Entry{a, b, d, c})
	dst := filepath.Join(t.TempDir(), "dst")
	mustApply(t, dst, arch)
	fa, _ := os.Stat(filepath.Join(dst, "a"))
	for _, p := range []string{"b", "d/c"} {
		fi, err := os.Stat(filepath.Join(dst, p))
		if err != nil || !os.SameFile(fa, fi) {
			t.Errorf("%s is not a hard link of a: %v", p, err)
		}
	}
	s := mustApply(t, dst, arch)
	if s.AlreadyApplied != 4 || s.BytesWritten != 0 {
		t.Errorf("second run %+v, want all 4 changes already applied", s)
	}
	// a copy with the same content is not the link: the archive conflicts with it
	os.Remove(filepath.Join(dst, "b"))
	os.WriteFile(filepath.Join(dst, "b"), []byte("shared content\n"), 0o644)
	if _, err := apply(dst, arch); !errors.Is(err, ErrConflict) {
		t.Errorf("a separate file where the archive creates a link: %v, want a conflict", err)
	}
}

func TestHardLinkToAnUnchangedFile(t *testing.T) {
	d := restored(t, tr{"a": file("kept\n")})
	a := fileEntry("a", "kept\n")
	b := linkOf("b", a)
	mustApply(t, d, archiveOf(t, []*format.Change{{Op: format.OpCreate, New: b}}, nil, []*format.Entry{a, b}))
	fa, _ := os.Stat(filepath.Join(d, "a"))
	fb, _ := os.Stat(filepath.Join(d, "b"))
	if !os.SameFile(fa, fb) {
		t.Error("b is not a hard link of a")
	}
}

func TestHostileHardLinksAreRefused(t *testing.T) {
	a := fileEntry("b", "x")
	for _, to := range []string{"../outside", "/etc/passwd", "c", stagingName + "/journal"} {
		e := *a
		e.LinkTo = to
		d := t.TempDir()
		_, err := apply(d, rawArchive(t, []*format.Change{{Op: format.OpCreate, New: &e}}, nil, make([]byte, 32)))
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsafe) {
			t.Errorf("link to %q: %v, want refused as corrupt or unsafe", to, err)
		}
	}
}

func TestOwnersWithoutRootWarnOnce(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: owners are restored")
	}
	e1, e2 := fileEntry("a", "1"), fileEntry("b", "2")
	e1.UID, e2.UID = 4242, 4243
	var warns []string
	_, err := Apply(filepath.Join(t.TempDir(), "d"), bytes.NewReader(archiveOf(t, []*format.Change{{Op: format.OpCreate, New: e1}, {Op: format.OpCreate, New: e2}},
		map[string]string{"a": "1", "b": "2"}, []*format.Entry{e1, e2})), Options{Warn: func(m string) { warns = append(warns, m) }})
	if err != nil || len(warns) != 1 {
		t.Errorf("err %v, warnings %q: want success and one warning", err, warns)
	}
}

// TestHardLinkToADirectoryMadeAFile: the link's first path was a
// directory, whose new file the commit places late, once the directory is
// emptied; the link is made after it.
func TestHardLinkToADirectoryMadeAFile(t *testing.T) {
	for _, linkWasDir := range []bool{false, true} {
		old := tr{"d": dir(), "d/x": file("x\n"), "e": file("old e\n")}
		oldE := entry("e", old["e"])
		cs := []*format.Change{}
		dNew := fileEntry("d", "d is a file now\n")
		e := linkOf("e", dNew)
		cs = append(cs, &format.Change{Op: format.OpReplace, Old: entry("d", dir()), New: dNew},
			&format.Change{Op: format.OpDelete, Old: fileEntry("d/x", "x\n")})
		if linkWasDir {
			old = tr{"d": dir(), "d/x": file("x\n"), "e": dir(), "e/y": file("y\n")}
			oldE = entry("e", dir())
		}
		cs = append(cs, &format.Change{Op: format.OpReplace, Old: oldE, New: e})
		if linkWasDir {
			cs = append(cs, &format.Change{Op: format.OpDelete, Old: fileEntry("e/y", "y\n")})
		}
		arch := archiveOf(t, cs, map[string]string{"d": "d is a file now\n"}, []*format.Entry{dNew, e})
		d := restored(t, old)
		mustApply(t, d, arch)
		fd, _ := os.Stat(filepath.Join(d, "d"))
		fe, err := os.Stat(filepath.Join(d, "e"))
		if err != nil || !os.SameFile(fd, fe) {
			t.Errorf("e was a directory: %v: e is not a hard link of d: %v", linkWasDir, err)
		}
		if s := mustApply(t, d, arch); s.AlreadyApplied != len(cs) {
			t.Errorf("second run %+v, want every change already applied", s)
		}
	}
}
