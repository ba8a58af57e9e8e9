package tree

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func openRoot(t *testing.T, dir string) *os.Root {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	build(t, outside, "secret")
	build(t, dir, "sub/f", "link -> sub/f", "dlink -> sub", "out -> "+outside, "dangling -> nowhere")
	root := openRoot(t, dir)

	f, fi, err := OpenFile(root, "sub/f")
	if err != nil {
		t.Fatalf("regular file: %v", err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil || string(data) != "sub/f" || fi.Size() != 5 {
		t.Errorf("read %q (size %d), err %v; want \"sub/f\"", data, fi.Size(), err)
	}

	tests := []struct {
		rel  string
		want error
		msg  string
	}{
		{"link", ErrNotRegular, `"link" is a symlink, not a regular file`},
		{"dangling", ErrNotRegular, "symlink"},
		{"sub", ErrNotRegular, `"sub" is a directory, not a regular file`},
		{"missing", fs.ErrNotExist, "missing"},
		{"../" + filepath.Base(outside) + "/secret", nil, "escape"},
		{"out/secret", nil, "escape"},
		{"dlink/f", nil, ""}, // a symlink before the last component is followed inside the root
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			f, _, err := OpenFile(root, tt.rel)
			if f != nil {
				f.Close()
			}
			if tt.msg == "" {
				if err != nil {
					t.Errorf("err = %v, want success", err)
				}
				return
			}
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
		})
	}
}

// TestOpenFileReplaced opens a path whose lstat described another file, as
// when the file is replaced between the lstat and the open.
func TestOpenFileReplaced(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, "a", "b")
	root := openRoot(t, dir)
	stale, err := root.Lstat("b")
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := openChecked(root, "a", stale)
	if f != nil {
		f.Close()
	}
	if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("err = %v, want ErrChanged naming \"a\"", err)
	}
}

func TestStat(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, "d/f", "d/l -> ../nowhere\xff", "empty/")
	root := openRoot(t, dir)
	tests := []struct {
		rel    string
		typ    Type
		size   int64
		target string
	}{
		{"d", TypeDir, 0, ""},
		{"d/f", TypeFile, 3, ""},
		{"d/l", TypeSymlink, 0, "../nowhere\xff"},
		{"empty", TypeDir, 0, ""},
	}
	for _, tt := range tests {
		n, err := Stat(root, tt.rel)
		if err != nil {
			t.Errorf("Stat(%q): %v", tt.rel, err)
			continue
		}
		if n.Path != tt.rel || n.Type != tt.typ || n.Size != tt.size || n.Target != tt.target {
			t.Errorf("Stat(%q) = %+v, want %v size %d target %q", tt.rel, n, tt.typ, tt.size, tt.target)
		}
	}
	if _, err := Stat(root, "missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(missing): err = %v, want not exist", err)
	}
	if _, err := Stat(root, "../x"); err == nil {
		t.Errorf("Stat(../x) succeeded, want an error")
	}
}

// TestStatMatchesWalk pins the one conversion: Walk and Stat describe an
// unchanged entry identically.
func TestStatMatchesWalk(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, "a/b", "a/c -> b", "d/", "e")
	setMTime(t, filepath.Join(dir, "e"), 1_700_000_000_123_456_789)
	root := openRoot(t, dir)
	for p, n := range walkNodes(t, dir) {
		s, err := Stat(root, p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s, n) {
			t.Errorf("%q: Walk %+v, Stat %+v", p, *n, *s)
		}
	}
}
