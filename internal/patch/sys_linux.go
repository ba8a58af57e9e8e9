package patch

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/ibt-tools/ibt/format"
)

// symlinkMTimes says that a symlink's own mtime is restored.
const symlinkMTimes = true

// symlinkMeta sets a symlink's mtime. Linux symlinks have no mode of their
// own (always 0777), so there is none to set.
func symlinkMeta(root *os.Root, name string, e *format.Entry) error {
	return lutimes(root, name, e.MTime)
}

// lutimes sets the mtime of a symlink itself.
func lutimes(root *os.Root, name string, mtime int64) error {
	return lutimesAt(root, name, mtime, unix.UTIME_OMIT)
}

// syncFS flushes DIR's whole filesystem: one call makes every staged file
// durable before the journal says they may be renamed, where an fsync per
// file would cost a disk round trip each. names, what other systems fsync
// one by one, is not needed.
func syncFS(root *os.Root, _ names) error {
	if faults.noSync {
		return nil
	}
	f, err := root.Open(".")
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

// startWriteback asks the kernel to start writing n bytes of f at off back
// to disk, without waiting: a large staged file is then mostly on disk by
// the time syncFS waits for it. A failure only loses that head start.
func startWriteback(f *os.File, off, n int64) {
	unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
