package tree

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// build creates the entries under root: a path ending in "/" is a directory,
// one holding " -> " a symlink, anything else a file holding its own path.
func build(t testing.TB, root string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		full := filepath.Join(root, filepath.FromSlash(p))
		switch {
		case strings.HasSuffix(p, "/"):
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
		case strings.Contains(p, " -> "):
			link, target, _ := strings.Cut(p, " -> ")
			full = filepath.Join(root, filepath.FromSlash(link))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(p), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// walkPaths returns the paths Walk visits, failing the test on an error.
func walkPaths(t testing.TB, root string, opt Options) []string {
	t.Helper()
	var got []string
	err := Walk(root, opt, func(n *Node) error {
		got = append(got, n.Path)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return got
}

// walkNodes returns the Nodes Walk visits by path.
func walkNodes(t testing.TB, root string) map[string]*Node {
	t.Helper()
	got := map[string]*Node{}
	err := Walk(root, Options{}, func(n *Node) error {
		got[n.Path] = n
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return got
}

// bruteForce lists every path below root and sorts them as strings: the
// order Walk must produce.
func bruteForce(t testing.TB, root string) []string {
	t.Helper()
	var all []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		all = append(all, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(all)
	return all
}

func samePaths(t testing.TB, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("walk order differs from a sort of all paths:\n got  %q\n want %q", got, want)
	}
}

// setMTime sets the mtime of path to ns nanoseconds since the epoch.
func setMTime(t testing.TB, path string, ns int64) {
	t.Helper()
	mt := time.Unix(0, ns)
	if err := os.Chtimes(path, mt, mt); err != nil {
		t.Fatal(err)
	}
}
