package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestDeepPaths backs up and restores a tree whose deepest path (over
// 6,000 bytes) is longer than PATH_MAX, so that no step may hand a whole
// path to the kernel, and names of 255 bytes, the most a name may have.
func TestDeepPaths(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows paths are limited otherwise")
	}
	src := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(src)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	name := strings.Repeat("d", 120)
	rel := ""
	for i := range 50 {
		rel += name + "/"
		if err := root.Mkdir(strings.TrimSuffix(rel, "/"), 0o755); err != nil {
			t.Fatalf("level %d: %v", i, err)
		}
	}
	long := strings.Repeat("n", 255)
	if err := root.WriteFile(rel+long, []byte("at the bottom\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := root.Symlink(strings.Repeat("../", 50)+"top.txt", rel+"up"); err != nil {
		t.Fatal(err)
	}
	if err := root.WriteFile("top.txt", []byte("top\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if len(rel+long) < 6000 {
		t.Fatalf("deepest path is only %d bytes", len(rel+long))
	}

	idx := runTool(t, "ibt-sign", nil, src)
	arch := runTool(t, "ibt-pack", runTool(t, "ibt-delta", runTool(t, "ibt-diff", idx, "--full", "-")))
	dst := filepath.Join(t.TempDir(), "dst")
	runTool(t, "ibt-patch", arch, dst)
	if got, want := treeHashOf(t, runTool(t, "ibt-sign", nil, dst)), treeHashOf(t, idx); !bytes.Equal(got, want) {
		t.Fatalf("restored tree hash %x, want %x", got, want)
	}
	r, err := os.OpenRoot(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if b, err := r.ReadFile(rel + long); err != nil || string(b) != "at the bottom\n" {
		t.Fatalf("deepest file: %q, %v", b, err)
	}
}

// treeHashOf returns the tree hash in the trailer of an index stream.
func treeHashOf(t *testing.T, idx []byte) []byte {
	t.Helper()
	_, tr := readAll(t, idx)
	return tr.TreeHash
}
