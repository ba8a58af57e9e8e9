package tree

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestSelector checks what patterns select of a tree, and that a Selector
// selects exactly what an Excluder of the same patterns leaves out of a
// walk, the paths beneath an excluded directory included.
func TestSelector(t *testing.T) {
	paths := []string{"a.log", "home", "home/me", "home/me/project", "home/me/project/x.c", "home/me/project.txt",
		"home/me/project/sub", "home/me/project/sub/y.c", "home/you", "home/you/project", "home/you/project/z.c", "keep.log"}
	tests := []struct {
		patterns []string
		want     []string
	}{
		{[]string{"home/me/project"}, []string{"home/me/project", "home/me/project/sub", "home/me/project/sub/y.c", "home/me/project/x.c"}},
		{[]string{"/home/me/project/"}, []string{"home/me/project", "home/me/project/sub", "home/me/project/sub/y.c", "home/me/project/x.c"}},
		{[]string{"project"}, []string{"home/me/project", "home/me/project/sub", "home/me/project/sub/y.c", "home/me/project/x.c",
			"home/you/project", "home/you/project/z.c"}},
		{[]string{"*.c", "!y.c"}, []string{"home/me/project/x.c", "home/you/project/z.c"}},
		{[]string{"*.log", "!keep.log"}, []string{"a.log"}},
		{[]string{"home/me/project", "!x.c"}, []string{"home/me/project", "home/me/project/sub", "home/me/project/sub/y.c", "home/me/project/x.c"}},
		{[]string{"home/*/project/**"}, []string{"home/me/project/sub", "home/me/project/sub/y.c", "home/me/project/x.c", "home/you/project/z.c"}},
		{[]string{"nothing"}, nil},
	}
	dir := t.TempDir()
	var files []string
	for _, p := range paths {
		if !strings.Contains(p, ".") {
			if err := os.MkdirAll(dir+"/"+p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else {
			files = append(files, p)
		}
	}
	build(t, dir, files...)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, tt := range tests {
		s := NewSelector(tt.patterns)
		var got []string
		for _, p := range paths {
			if s.Selects(p, !strings.Contains(p, ".")) {
				got = append(got, p)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q selects %q\nwant %q", tt.patterns, got, tt.want)
		}
		x := NewExcluder(root, tt.patterns, "")
		kept := walkPaths(t, dir, Options{Ignore: x})
		for _, p := range paths {
			if s.Selects(p, !strings.Contains(p, ".")) == slices.Contains(kept, p) {
				t.Errorf("%q: Selects(%q) is %v, but the Excluder keeps it: %v", tt.patterns, p, !slices.Contains(kept, p), slices.Contains(kept, p))
			}
		}
	}
}
