package patch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// listOf is a names listing n entries, failing with err once they are
// listed if err is not nil.
func listOf(n int, err error) names {
	return func(fn func(string) error) error {
		for i := range n {
			if e := fn(fmt.Sprint("f", i)); e != nil {
				return e
			}
		}
		return err
	}
}

func TestAtMost(t *testing.T) {
	broken := errors.New("the step log cannot be read")
	for _, tc := range []struct {
		entries int
		err     error
		want    bool
		wantErr error
	}{
		{0, nil, true, nil},
		{maxFsyncs, nil, true, nil},
		{maxFsyncs + 1, nil, false, nil},
		{100000, nil, false, nil},
		{3, broken, false, broken},
		{maxFsyncs + 1, broken, false, nil}, // the count stops before the failure
	} {
		got, err := atMost(listOf(tc.entries, tc.err), maxFsyncs)
		if got != tc.want || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("atMost(%d entries, %v) = %v, %v; want %v, %v", tc.entries, tc.err, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestFsyncEachSkipsWhatIsNotThere flushes a file, a directory, a symlink,
// an entry the commit removed, and ones that were below a directory a file
// or a symlink out of DIR replaced: only the missing ones could fail, and
// must not.
func TestFsyncEachSkipsWhatIsNotThere(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	list := func(fn func(string) error) error {
		for _, n := range []string{"f", "d", "l", "gone", "f/below", "out/below", "out/below/deeper", ""} {
			if err := fn(n); err != nil {
				return err
			}
		}
		return nil
	}
	if err := fsyncEach(root, list); err != nil {
		t.Fatalf("fsyncEach: %v", err)
	}
}

// resident counts the pages of the file at path in the page cache.
func resident(t *testing.T, path string, size int) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (size+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// TestDropCache drops the page cache of a file about to be replaced,
// unless another link keeps it in use.
func TestDropCache(t *testing.T) {
	dir := t.TempDir()
	const size = 1 << 20
	for _, linked := range []bool{false, true} {
		p := filepath.Join(dir, fmt.Sprint("f", linked))
		if err := os.WriteFile(p, bytes.Repeat([]byte("0123456789abcdef"), size/16), 0o644); err != nil {
			t.Fatal(err)
		}
		if linked {
			if err := os.Link(p, p+".link"); err != nil {
				t.Fatal(err)
			}
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if onTmpfs(f) {
			f.Close()
			t.Skip("tmpfs keeps a file's pages: they are the file")
		}
		if err := f.Sync(); err != nil { // dirty pages are not dropped
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, f); err != nil {
			t.Fatal(err)
		}
		if n := resident(t, p, size); n == 0 {
			t.Fatalf("no page of %s in the page cache after reading it", p)
		}
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		dropCache(f, fi)
		f.Close()
		switch n := resident(t, p, size); {
		case linked && n == 0:
			t.Errorf("the page cache of a file with another link was dropped")
		case !linked && n != 0:
			t.Errorf("%d pages of %s left in the page cache", n, p)
		}
	}
}
