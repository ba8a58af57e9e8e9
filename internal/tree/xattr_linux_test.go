package tree

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
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

// TestXattrListingCalls checks that listxattrat and the path-based listing
// that older kernels get read the same attributes, of a file and of a
// symlink (none of its own, whatever its target has).
func TestXattrListingCalls(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, "a", "plain", "l -> a")
	if err := unix.Lsetxattr(filepath.Join(dir, "a"), "user.k", []byte("v"), 0); err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			t.Skip("no user extended attributes on this filesystem")
		}
		t.Fatal(err)
	}
	d, err := openRootDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	want := map[string][]Xattr{"a": {{"user.k", []byte("v")}}, "plain": nil, "l": nil}
	for _, at := range []bool{false, true} {
		x := newXattrReader()
		if at && !x.at {
			t.Log("no listxattrat on this kernel")
			continue
		}
		x.at = at
		for name, w := range want {
			got, err := x.read(d, name, dir, name)
			if err != nil || !reflect.DeepEqual(got, w) {
				t.Errorf("listxattrat %v: %q: got %q, %v; want %q", at, name, got, err, w)
			}
		}
	}
}

// TestWalkKnownXattrs checks, on a directory large enough to be read by
// several goroutines, that every entry gets its own attributes: those
// KnownXattrs supplies where it knows them, those on disk elsewhere.
func TestWalkKnownXattrs(t *testing.T) {
	dir := t.TempDir()
	const n = 300
	var paths []string
	for i := range n {
		paths = append(paths, fmt.Sprintf("f%03d", i))
	}
	build(t, dir, paths...)
	for i, p := range paths {
		if i%2 == 0 {
			continue
		}
		if err := unix.Lsetxattr(filepath.Join(dir, p), "user.name", []byte(p), 0); err != nil {
			if errors.Is(err, unix.ENOTSUP) {
				t.Skip("no user extended attributes on this filesystem")
			}
			t.Fatal(err)
		}
	}
	known := func(p string) bool { return p[len(p)-1]%3 == 0 }
	var asked []string
	err := Walk(dir, Options{
		Xattrs: true,
		KnownXattrs: func(nd *Node) ([]Xattr, bool) {
			asked = append(asked, nd.Path)
			if known(nd.Path) {
				return []Xattr{{"user.known", []byte(nd.Path)}}, true
			}
			return nil, false
		},
	}, func(nd *Node) error {
		var want []Xattr
		switch i, _ := strconv.Atoi(nd.Path[1:]); {
		case known(nd.Path):
			want = []Xattr{{"user.known", []byte(nd.Path)}}
		case i%2 == 1:
			want = []Xattr{{"user.name", []byte(nd.Path)}}
		}
		if !reflect.DeepEqual(nd.Xattrs, want) {
			t.Errorf("%q: got %q, want %q", nd.Path, nd.Xattrs, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked, paths) {
		t.Errorf("KnownXattrs asked about %q, want every path in order", asked)
	}
}
