//go:build linux || darwin || freebsd || openbsd || netbsd

package patch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHeldPath: a path shares the held directories of the last one, every
// component is a real directory opened without following, and a component
// that is a symlink or not a plain name fails.
func TestHeldPath(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"a/b/c", "a/x", "outside"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../outside", filepath.Join(dir, "a/up")); err != nil {
		t.Fatal(err)
	}
	top, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(top)
	var h heldPath
	defer h.drop(0)
	same := func(fd int, rel string) {
		t.Helper()
		var got, want unix.Stat_t
		if err := unix.Fstat(fd, &got); err != nil {
			t.Fatal(err)
		}
		if err := unix.Lstat(filepath.Join(dir, rel), &want); err != nil {
			t.Fatal(err)
		}
		if got.Dev != want.Dev || got.Ino != want.Ino {
			t.Errorf("the descriptor is not %s", rel)
		}
	}

	fd, err := h.open(top, "", []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	same(fd, "a/b/c")
	a := h.fds[0]
	if fd, err = h.open(top, "", []string{"a", "x"}); err != nil {
		t.Fatal(err)
	}
	same(fd, "a/x")
	if h.fds[0] != a || len(h.fds) != 2 {
		t.Errorf("a was opened again, or more is held than a/x: %v %v", h.names, h.fds)
	}
	if fd, err = h.open(top, "", nil); err != nil || fd != top {
		t.Errorf("no components: %d, %v; want the base %d", fd, err, top)
	}
	if len(h.fds) != 0 {
		t.Errorf("still held: %v", h.names)
	}
	if fd, err := h.open(top, "", []string{"a", "up"}); err == nil {
		t.Errorf("through a symlink: descriptor %d, want an error", fd)
	}
	for _, bad := range []string{"..", ".", ""} {
		if _, err := h.open(top, "", []string{"a", bad}); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("component %q: %v, want fs.ErrInvalid", bad, err)
		}
	}
}
