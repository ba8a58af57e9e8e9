package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/rsync"
	"github.com/ibt-tools/ibt/internal/tree"
)

// signFileWorkers fills in the content hash and block signatures of a file
// entry, with at most workers goroutines hashing one large file in parallel
// segments. Small files take one: the sign pipeline already hashes several
// at once, while a single large file would otherwise leave cores idle.
func signFileWorkers(root *os.Root, e *format.Entry, workers int) error {
	f, fi, err := tree.OpenFile(root, e.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi.Size() != e.Size || fi.ModTime().UnixNano() != e.MTime {
		return changedWhileReading(e.Path)
	}
	e.BlockSize = uint32(rsync.BlockSize(e.Size))
	e.Hash, e.Sig, err = rsync.SignFile(f, e.Size, workers)
	if errors.Is(err, rsync.ErrSizeChanged) {
		return changedWhileReading(e.Path)
	}
	if err != nil {
		return fmt.Errorf("failed to read %q: %w", e.Path, err)
	}
	after, err := f.Stat()
	if err != nil {
		return fmt.Errorf("failed to read %q: %w", e.Path, err)
	}
	if after.Size() != e.Size || after.ModTime().UnixNano() != e.MTime {
		return changedWhileReading(e.Path)
	}
	return nil
}

func changedWhileReading(path string) error {
	return withHint(fmt.Errorf("%q %w", path, errChangedWhileReading),
		"run the command again once the file is no longer being written")
}
