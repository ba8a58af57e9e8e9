package tree

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWalkXattrs checks that Walk records user.* attributes sorted by name,
// of files and directories, and reads a symlink's own, not its target's.
func TestWalkXattrs(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, "a", "d/", "l -> a")
	set := func(p, name, value string) {
		if err := unix.Lsetxattr(filepath.Join(dir, p), name, []byte(value), 0); err != nil {
			if errors.Is(err, unix.ENOTSUP) {
				t.Skip("no user extended attributes on this filesystem")
			}
			t.Fatal(err)
		}
	}
	set("a", "user.z", "last")
	set("a", "user.a", "")
	set("d", "user.big", string(make([]byte, 2000)))
	got := map[string][]Xattr{}
	err := Walk(dir, Options{Xattrs: true}, func(n *Node) error {
		got[n.Path] = n.Xattrs
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]Xattr{
		"a": {{"user.a", []byte{}}, {"user.z", []byte("last")}},
		"d": {{"user.big", make([]byte, 2000)}},
		"l": nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	x, err := ReadXattrs(filepath.Join(dir, "a"))
	if err != nil || !reflect.DeepEqual(x, want["a"]) {
		t.Errorf("ReadXattrs = %q, %v; want %q", x, err, want["a"])
	}
	if _, err := ReadXattrs(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadXattrs of a missing file: %v, want not exist", err)
	}
}

// TestWalkHardLinks checks that further links name the first in walk order.
func TestWalkHardLinks(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, "b", "c/", "single")
	for _, p := range []string{"a", "c/d"} {
		if err := os.Link(filepath.Join(dir, "b"), filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]string{}
	for p, n := range walkNodes(t, dir) {
		got[p] = n.LinkTo
	}
	want := map[string]string{"a": "", "b": "a", "c": "", "c/d": "a", "single": ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LinkTo: got %q, want %q", got, want)
	}
}
