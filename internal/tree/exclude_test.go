package tree

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestExcluder walks trees with ignore files and user patterns and checks
// what is left, as ibt-sign would index it.
func TestExcluder(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // ignore files with content; the others are empty
		user  []string
		want  []string
	}{
		{"nothing", nil, nil, []string{".ibtignore", "a.log", "keep.log", "sub", "sub/.ibtignore", "sub/b.log", "sub/deep", "sub/deep/c.log", "sub/x(1).txt"}},
		{"root file", map[string]string{".ibtignore": "*.log\n"}, nil,
			[]string{".ibtignore", "sub", "sub/.ibtignore", "sub/deep", "sub/x(1).txt"}},
		{"nested negation", map[string]string{".ibtignore": "*.log\n", "sub/.ibtignore": "!b.log\n"}, nil,
			[]string{".ibtignore", "sub", "sub/.ibtignore", "sub/b.log", "sub/deep", "sub/x(1).txt"}},
		{"negation reaches below", map[string]string{".ibtignore": "*.log\n", "sub/.ibtignore": "!*.log\n"}, nil,
			[]string{".ibtignore", "sub", "sub/.ibtignore", "sub/b.log", "sub/deep", "sub/deep/c.log", "sub/x(1).txt"}},
		{"anchored to its directory", map[string]string{"sub/.ibtignore": "/deep\n"}, nil,
			[]string{".ibtignore", "a.log", "keep.log", "sub", "sub/.ibtignore", "sub/b.log", "sub/x(1).txt"}},
		{"user patterns win", map[string]string{"sub/.ibtignore": "!b.log\n"}, []string{"*.log", "!keep.log", "x(1).txt"},
			[]string{".ibtignore", "keep.log", "sub", "sub/.ibtignore", "sub/deep"}},
		{"directory only", nil, []string{"deep/", "a.log/"},
			[]string{".ibtignore", "a.log", "keep.log", "sub", "sub/.ibtignore", "sub/b.log", "sub/x(1).txt"}},
		{"excluded directory cannot be re-included", map[string]string{"sub/.ibtignore": "!deep\n"}, []string{"sub"},
			[]string{".ibtignore", "a.log", "keep.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			build(t, dir, ".ibtignore", "a.log", "keep.log", "sub/.ibtignore", "sub/b.log", "sub/deep/c.log", "sub/x(1).txt")
			for _, p := range []string{".ibtignore", "sub/.ibtignore"} {
				if err := os.WriteFile(filepath.Join(dir, p), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for p, c := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			root, err := os.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			x := NewExcluder(root, tt.user, ".ibtignore")
			got := walkPaths(t, dir, Options{Ignore: x})
			if x.Err() != nil {
				t.Fatal(x.Err())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestExcluderThroughTheWalk: the ignore files of nested directories are
// read through the walk's handles, a symlinked ignore file is not
// followed, and no descriptor is left open.
func TestExcluderThroughTheWalk(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, "a/b/c/d/x.log", "a/b/c/d/keep.log", "a/b/y.log", "a/z.log", "e/w.log", "real")
	for p, c := range map[string]string{"a/.ibtignore": "*.log\n", "a/b/c/.ibtignore": "!keep.log\n", "real": "*.log\n"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../real", filepath.Join(dir, "e/.ibtignore")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	walk := func() {
		x := NewExcluder(root, nil, ".ibtignore")
		got := walkPaths(t, dir, Options{Ignore: x})
		if x.Err() != nil {
			t.Fatal(x.Err())
		}
		want := []string{"a", "a/.ibtignore", "a/b", "a/b/c", "a/b/c/.ibtignore", "a/b/c/d", "a/b/c/d/keep.log", "e", "e/.ibtignore", "e/w.log", "real"}
		if !slices.Equal(got, want) {
			t.Errorf("got %q\nwant %q", got, want)
		}
	}
	walk() // the first may open what the runtime keeps (its poller)
	before := openFds(t)
	walk()
	if after := openFds(t); after != before {
		t.Errorf("%d descriptors open after the walk, %d before", after, before)
	}
}

// openFds counts the process's open descriptors where /proc lists them.
func openFds(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}
