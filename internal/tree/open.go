package tree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by OpenFile's error for a path that is not a
// regular file.
var ErrNotRegular = errors.New("not a regular file")

type notRegularError struct {
	rel  string
	what kind
}

func (e *notRegularError) Error() string {
	return fmt.Sprintf("%q is a %s, not a regular file", e.rel, e.what)
}

func (e *notRegularError) Is(target error) bool { return target == ErrNotRegular }

// OpenFile opens the regular file rel (slash-separated, relative to root) for
// reading. A symlink in the last component is refused, not followed, as is
// anything else that is not a regular file; os.Root keeps every other
// component inside root. The returned FileInfo is the open file's own, so
// its size and mtime describe exactly what will be read.
func OpenFile(root *os.Root, rel string) (*os.File, fs.FileInfo, error) {
	before, err := root.Lstat(rel)
	if err != nil {
		return nil, nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, nil, &notRegularError{rel, kindOfMode(before.Mode())}
	}
	return openChecked(root, rel, before)
}

// openChecked opens rel and makes sure it is still the file before describes:
// between the lstat and the open it may have been replaced by a symlink (which
// os.Root would follow) or by something else.
func openChecked(root *os.Root, rel string, before fs.FileInfo) (*os.File, fs.FileInfo, error) {
	// openFlags keeps a named pipe swapped in after the lstat from blocking the open.
	f, err := root.OpenFile(rel, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	after, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat %q: %w", rel, err)
	}
	if !after.Mode().IsRegular() || !os.SameFile(before, after) {
		f.Close()
		return nil, nil, fmt.Errorf("%q %w", rel, ErrChanged)
	}
	return f, after, nil
}

// Stat describes what is at rel in root without following a symlink in the
// last component: lstat semantics, confined by os.Root. A named pipe, device
// or socket is reported by its type and never opened.
func Stat(root *os.Root, rel string) (*Node, error) {
	fi, err := root.Lstat(rel)
	if err != nil {
		return nil, err
	}
	var target string
	if fi.Mode()&fs.ModeSymlink != 0 {
		if target, err = root.Readlink(rel); err != nil {
			return nil, err
		}
	}
	return NodeFromInfo(rel, fi, target), nil
}
