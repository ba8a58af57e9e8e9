package patch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
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
