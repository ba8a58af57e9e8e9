package patch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// v1, v2 and v3 are three versions of a tree; v2 differs from v1 by every
// kind of change.
func v1Tree() tr {
	return tr{
		"a.txt":            file("alpha\n"),
		"big.bin":          file(strings.Repeat("0123456789abcdef", 4096) + "tail"),
		"change-mode.sh":   file("#!/bin/sh\n"),
		"change-time.txt":  file("same content\n"),
		"delete.txt":       file("bye\n"),
		"dir":              dir(),
		"dir/keep.txt":     file("kept\n"),
		"dir/sub":          dir().withMode(0o750),
		"dir/sub/deep.txt": file("deep\n"),
		"empty":            file(""),
		"file-to-dir":      file("I was a file\n"),
		"file-to-link":     file("I was a file too\n"),
		"gone":             dir(),
		"gone/inner":       dir(),
		"gone/inner/f.txt": file("deleted with its directory\n"),
		"link":             symlink("a.txt"),
		"link-retarget":    symlink("a.txt"),
		"link-to-file":     symlink("a.txt"),
		"dir-to-file":      dir(),
		"dir-to-file/x":    file("x\n"),
		"setgid":           dir().withMode(0o2775),
		"unchanged":        dir(),
		"unchanged/u.txt":  file("u\n"),
	}
}

func v2Tree() tr {
	t := v1Tree()
	big := []byte(t["big.bin"].data)
	copy(big[30000:], "a rewritten page in the middle")
	t["big.bin"] = file(string(big) + "appended")
	t["a.txt"] = file("alpha, changed\n")
	t["change-mode.sh"] = t["change-mode.sh"].withMode(0o755)
	t["change-time.txt"] = t["change-time.txt"].withTime(baseTime + 1)
	delete(t, "delete.txt")
	t["created.txt"] = file("new file\n")
	t["created-dir"] = dir()
	t["created-dir/nested"] = dir().withMode(0o700)
	t["created-dir/nested/n.txt"] = file("nested\n").withMode(0o600)
	t["created-empty-dir"] = dir()
	t["created-link"] = symlink("created.txt")
	t["dir/keep.txt"] = file("kept, changed\n")
	delete(t, "file-to-dir")
	t["file-to-dir"] = dir()
	t["file-to-dir/inside.txt"] = file("inside\n")
	t["file-to-link"] = symlink("a.txt")
	delete(t, "gone")
	delete(t, "gone/inner")
	delete(t, "gone/inner/f.txt")
	t["link"] = dir()
	t["link/x.txt"] = file("the symlink became a directory\n")
	t["link-retarget"] = symlink("big.bin")
	t["link-to-file"] = file("was a symlink\n")
	delete(t, "dir-to-file/x")
	t["dir-to-file"] = file("was a directory\n")
	t["unchanged/new.txt"] = file("a new file in a directory the archive does not describe\n")
	return t
}

func v3Tree() tr {
	t := v2Tree()
	t["a.txt"] = file("alpha, third\n")
	t["created.txt"] = file("new file, changed again\n")
	delete(t, "link/x.txt")
	t["v3.txt"] = file("only in v3\n")
	return t
}

// restored returns a directory holding v, restored from a full archive.
func restored(t *testing.T, v tr) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "restore")
	mustApply(t, d, makeArchive(t, tr{}, v))
	return d
}

func TestFullRestoreIntoNewDirectory(t *testing.T) {
	d := filepath.Join(t.TempDir(), "restore")
	s := mustApply(t, d, makeArchive(t, tr{}, v1Tree()))
	if got, want := withoutRoot(listing(t, d)), treeListing(t, v1Tree()); got != want {
		t.Fatalf("restored tree differs:\n got:\n%s\nwant:\n%s", got, want)
	}
	if s.Created != len(v1Tree()) || s.BytesWritten == 0 {
		t.Errorf("summary %+v, want %d created", s, len(v1Tree()))
	}
	if _, err := os.Lstat(filepath.Join(d, stagingName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the restore left its workspace in DIR (%v)", err)
	}
	if !hasKnown(t, d) {
		t.Errorf("the restore kept no known file")
	}
}

func TestIncrementalEveryKindOfChange(t *testing.T) {
	d := restored(t, v1Tree())
	s := mustApply(t, d, makeArchive(t, v1Tree(), v2Tree()))
	if got, want := withoutRoot(listing(t, d)), treeListing(t, v2Tree()); got != want {
		t.Fatalf("patched tree differs:\n got:\n%s\nwant:\n%s", got, want)
	}
	want := Summary{Created: 9, Updated: 3, Deleted: 5, Meta: 2, Replaced: 6}
	s.BytesWritten = 0
	if s != want {
		t.Errorf("summary %+v, want %+v", s, want)
	}
}

func TestChainAppliedInOrder(t *testing.T) {
	d := restored(t, v1Tree())
	mustApply(t, d, makeArchive(t, v1Tree(), v2Tree()))
	mustApply(t, d, makeArchive(t, v2Tree(), v3Tree()))
	if got, want := withoutRoot(listing(t, d)), treeListing(t, v3Tree()); got != want {
		t.Fatalf("tree after the chain differs:\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestSecondApplicationIsANoOp(t *testing.T) {
	d := restored(t, v1Tree())
	inc := makeArchive(t, v1Tree(), v2Tree())
	mustApply(t, d, inc)
	before := listing(t, d)
	s := mustApply(t, d, inc)
	if s.AlreadyApplied != len(changes(v1Tree(), v2Tree())) || s.BytesWritten != 0 {
		t.Errorf("second run summary %+v, want everything already applied", s)
	}
	if after := listing(t, d); after != before {
		t.Fatalf("second run changed the tree:\n%s\nthen:\n%s", before, after)
	}
	// a full archive applied again over its own restore, too
	full := makeArchive(t, tr{}, v3Tree())
	d3 := restored(t, v3Tree())
	mustApply(t, d3, full)
}

// refused applies a and checks that it fails with class, naming path, and
// that d is exactly as it was.
func refused(t *testing.T, d string, a []byte, class error, path string) error {
	t.Helper()
	before := listing(t, d)
	_, err := apply(d, a)
	if err == nil {
		t.Fatalf("apply succeeded, want %v", class)
	}
	if class != nil && !errors.Is(err, class) {
		t.Errorf("error %q is not %v", err, class)
	}
	if path != "" && !strings.Contains(err.Error(), `"`+path+`"`) {
		t.Errorf("error %q does not name %q", err, path)
	}
	if after := listing(t, d); after != before {
		t.Fatalf("a refused archive changed DIR:\n%s\nthen:\n%s", before, after)
	}
	return err
}

func TestOutOfOrderIsRefused(t *testing.T) {
	d := restored(t, v1Tree())
	refused(t, d, makeArchive(t, v2Tree(), v3Tree()), ErrWrongBase, "a.txt")
}

func TestWrongBaseIsRefusedNamingTheFile(t *testing.T) {
	d := restored(t, v1Tree())
	if err := os.WriteFile(filepath.Join(d, "dir/keep.txt"), []byte("edited locally\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := refused(t, d, makeArchive(t, v1Tree(), v2Tree()), ErrWrongBase, "dir/keep.txt")
	var pe *Error
	if !errors.As(err, &pe) || pe.Hint() == "" || !strings.Contains(err.Error(), "sha256-blocks") {
		t.Errorf("error %q carries no hashes or hint", err)
	}
}

func TestConflicts(t *testing.T) {
	tests := []struct {
		name  string
		local func(d string) error
		class error
		path  string
	}{
		{"created path exists with other content", func(d string) error {
			return os.WriteFile(filepath.Join(d, "created.txt"), []byte("mine\n"), 0o644)
		}, ErrConflict, "created.txt"},
		{"created path exists as a directory", func(d string) error {
			return os.Mkdir(filepath.Join(d, "created-link"), 0o755)
		}, ErrConflict, "created-link"},
		{"deleted file differs", func(d string) error {
			return os.WriteFile(filepath.Join(d, "delete.txt"), []byte("changed\n"), 0o644)
		}, ErrConflict, "delete.txt"},
		{"deleted directory holds an unknown file", func(d string) error {
			return os.WriteFile(filepath.Join(d, "gone/inner/mine.txt"), nil, 0o644)
		}, ErrConflict, "gone/inner/mine.txt"},
		{"updated file is missing", func(d string) error {
			return os.Remove(filepath.Join(d, "big.bin"))
		}, ErrWrongBase, "big.bin"},
		{"updated file became a symlink", func(d string) error {
			os.Remove(filepath.Join(d, "a.txt"))
			return os.Symlink("big.bin", filepath.Join(d, "a.txt"))
		}, ErrWrongBase, "a.txt"},
		{"unchanged directory became a symlink", func(d string) error {
			os.RemoveAll(filepath.Join(d, "unchanged"))
			return os.Symlink("dir", filepath.Join(d, "unchanged"))
		}, ErrConflict, "unchanged"},
		{"staging name taken by a file", func(d string) error {
			os.RemoveAll(filepath.Join(d, stagingName))
			return os.WriteFile(filepath.Join(d, stagingName), nil, 0o644)
		}, ErrConflict, stagingName},
	}
	inc := makeArchive(t, v1Tree(), v2Tree())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := restored(t, v1Tree())
			if err := tt.local(d); err != nil {
				t.Fatal(err)
			}
			refused(t, d, inc, tt.class, tt.path)
		})
	}
}

// A file the archive leaves alone, changed locally, would make the patched
// tree fail its verification: the archive is refused before DIR changes,
// naming the file where the known file saw it otherwise.
func TestLocalChangeOutsideTheArchiveIsRefused(t *testing.T) {
	d := restored(t, v1Tree())
	if err := os.Chmod(filepath.Join(d, "unchanged/u.txt"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused(t, d, makeArchive(t, v1Tree(), v2Tree()), ErrWrongBase, "unchanged/u.txt")

	// without a known file there is nothing to name it by, but it is
	// refused all the same
	if err := os.Remove(knownPath(t, d)); err != nil {
		t.Fatal(err)
	}
	err := refused(t, d, makeArchive(t, v1Tree(), v2Tree()), ErrWrongBase, "")
	if !strings.Contains(err.Error(), "outside the paths the archive changes") {
		t.Errorf("error %q does not say where DIR differs", err)
	}
}

// A full backup restored into a directory that holds other files would not
// verify: it is refused, naming the first such file, and DIR is untouched.
func TestFullRestoreIntoAnOccupiedDirectoryIsRefused(t *testing.T) {
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "precious"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	refused(t, d, makeArchive(t, tr{}, v1Tree()), ErrConflict, "precious")
	if _, err := os.Lstat(filepath.Join(d, stagingName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused restore left its workspace (%v)", err)
	}
}

func TestSymlinkOutsideBecomesDirectory(t *testing.T) {
	outside := t.TempDir()
	old := tr{"link": symlink(outside), "a": file("a\n")}
	new := tr{"link": dir(), "link/x.txt": file("inside DIR\n"), "link/sub": dir(), "link/sub/y": file("y\n"), "a": file("a\n")}
	d := restored(t, old)
	mustApply(t, d, makeArchive(t, old, new))
	if got, want := withoutRoot(listing(t, d)), treeListing(t, new); got != want {
		t.Fatalf("patched tree differs:\n got:\n%s\nwant:\n%s", got, want)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("wrote outside DIR: %v", ents)
	}
}

func TestNothingIsWrittenThroughSymlinks(t *testing.T) {
	outside := t.TempDir()
	tests := []struct {
		name     string
		old, new tr
		local    tr // what DIR holds instead of old
		class    error
	}{
		// the archive itself makes a symlink and then writes below it
		{"through a symlink the archive creates", tr{}, tr{"l": symlink(outside), "l/x": file("x")}, nil, ErrUnsafe},
		// DIR holds a symlink where the archive expects a directory
		{"through a symlink in DIR", tr{"d": dir()}, tr{"d": dir(), "d/x": file("x")}, tr{"d": symlink(outside)}, ErrConflict},
		{"through an in-tree symlink in DIR", tr{"d": dir(), "e": dir()}, tr{"d": dir(), "d/x": file("x"), "e": dir()}, tr{"d": symlink("e"), "e": dir()}, ErrConflict},
		{"deleting through a symlink in DIR", tr{"d": dir(), "d/x": file("x")}, tr{}, tr{"d": symlink(outside)}, ErrConflict},
	}
	if err := os.WriteFile(filepath.Join(outside, "x"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := listing(t, outside)
			local := tt.local
			if local == nil {
				local = tt.old
			}
			d := t.TempDir()
			materialize(t, d, local)
			refused(t, d, makeArchive(t, tt.old, tt.new), tt.class, "")
			if after := listing(t, outside); after != before {
				t.Fatalf("wrote outside DIR:\n%s\nthen:\n%s", before, after)
			}
		})
	}
}

func TestDryRunReportsAndTouchesNothing(t *testing.T) {
	d := restored(t, v1Tree())
	before := listing(t, d)
	var got []string
	s, err := Apply(d, bytes.NewReader(makeArchive(t, v1Tree(), v2Tree())), Options{DryRun: true, Report: func(action, path string) {
		got = append(got, action+" "+path)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(changes(v1Tree(), v2Tree())) || got[0] != "update a.txt" {
		t.Errorf("reported %q", got)
	}
	if s.BytesWritten != 0 {
		t.Errorf("dry run wrote %d bytes", s.BytesWritten)
	}
	if after := listing(t, d); after != before {
		t.Fatalf("dry run changed DIR:\n%s\nthen:\n%s", before, after)
	}
	// a dry run finds conflicts too, and does not create a missing DIR
	if err := os.WriteFile(filepath.Join(d, "a.txt"), []byte("local\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(d, bytes.NewReader(makeArchive(t, v1Tree(), v2Tree())), Options{DryRun: true}); !errors.Is(err, ErrWrongBase) {
		t.Errorf("dry run over a wrong base: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := Apply(missing, bytes.NewReader(makeArchive(t, tr{}, v1Tree())), Options{DryRun: true}); err != nil {
		t.Errorf("dry run of a full restore: %v", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("dry run created DIR")
	}
}

func TestDirMustBeADirectory(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f")
	os.WriteFile(f, nil, 0o644)
	if _, err := apply(f, makeArchive(t, tr{}, v1Tree())); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("got %v", err)
	}
	// a failed full restore removes the DIR it created
	d := filepath.Join(t.TempDir(), "new")
	a := makeArchive(t, tr{}, v1Tree())
	if _, err := apply(d, a[:len(a)/2]); err == nil {
		t.Fatal("truncated archive applied")
	}
	if _, err := os.Stat(d); !os.IsNotExist(err) {
		t.Errorf("failed restore left DIR behind: %v", err)
	}
}

// The verification after the commit names the first path that differs
// from the archive's new tree: one the archive changes, by what differs,
// or one it leaves alone that changed while the patch ran.
func TestVerificationNamesThePath(t *testing.T) {
	for _, tc := range []struct {
		path, change, want string
	}{
		{"a.txt", "chmod", `"a.txt": has mode 0600, but the archive's new tree has 0644 after the patch`},
		{"unchanged/u.txt", "rewrite", `"unchanged/u.txt": changed while ibt-patch ran`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			d := restored(t, v1Tree())
			p := filepath.Join(d, tc.path)
			done := false
			faults.commitStep = func() {
				if done {
					return
				}
				if data, err := os.ReadFile(filepath.Join(d, "a.txt")); err != nil || string(data) != "alpha, changed\n" {
					return // not placed yet
				}
				done = true
				time.Sleep(20 * time.Millisecond) // past a coarse clock tick
				var err error
				if tc.change == "chmod" {
					err = os.Chmod(p, 0o600)
				} else {
					writeWithBaseTime(t, p, []byte("U\n"))
				}
				if err != nil {
					t.Error(err)
				}
			}
			defer func() { faults.commitStep = nil }()
			_, err := apply(d, makeArchive(t, v1Tree(), v2Tree()))
			if !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a verification failure saying %q", err, tc.want)
			}
		})
	}
}
