package tree

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestFilesAsOpenFile opens paths in turn through one Files, each from the
// directory kept open by the path before it or from another, and wants
// OpenFile's result for every one: the content, or the same error.
func TestFilesAsOpenFile(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	build(t, outside, "secret")
	build(t, dir, "top", "a/1", "a/2", "a/link -> 1", "a/sub/3", "b/4", "dlink -> a", "out -> "+outside,
		"a/dir/", "d/e/f")
	root := openRoot(t, dir)
	files := NewFiles(root)
	defer files.Close()
	paths := []string{"a/1", "a/2", "a/link", "a/missing", "a/dir", "a/sub/3", "a/1", "b/4", "top",
		"dlink/2", "out/secret", "../" + filepath.Base(outside) + "/secret", "nodir/x", "d/e/f", "a/", "/a/1"}
	for _, rel := range paths {
		wf, wfi, werr := OpenFile(root, rel)
		gf, gfi, gerr := files.Open(rel)
		switch {
		case werr != nil || gerr != nil:
			if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
				t.Errorf("%q: err %v, want %v", rel, gerr, werr)
			}
		default:
			want, _ := io.ReadAll(wf)
			got, _ := io.ReadAll(gf)
			if string(got) != string(want) || !os.SameFile(gfi, wfi) {
				t.Errorf("%q: read %q, want %q", rel, got, want)
			}
		}
		for _, f := range []*os.File{wf, gf} {
			if f != nil {
				f.Close()
			}
		}
	}
}

// TestFilesDirectoryReplaced: a directory replaced after a file of it was
// opened is read as it was while the files that follow are of the same
// directory, as documented, and a file gone from it reports as OpenFile
// does; the next directory is found by its path again.
func TestFilesDirectoryReplaced(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, "a/1", "a/2", "a/3")
	root := openRoot(t, dir)
	files := NewFiles(root)
	defer files.Close()
	f, _, err := files.Open("a/1")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "old")); err != nil {
		t.Fatal(err)
	}
	build(t, dir, "a/3")
	if err := os.WriteFile(filepath.Join(dir, "a/3"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "old/2")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := files.Open("a/2"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a/2: err %v, want not exist", err)
	}
	f, _, err = files.Open("a/3")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, _ := io.ReadAll(f); string(got) != "a/3" {
		t.Errorf("a/3: read %q, want the first directory's \"a/3\"", got)
	}
	build(t, dir, "b/1")
	if f, _, err := files.Open("b/1"); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
	f2, _, err := files.Open("a/3")
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	if got, _ := io.ReadAll(f2); string(got) != "new" {
		t.Errorf("a/3 after b/1: read %q, want the new directory's \"new\"", got)
	}
}
