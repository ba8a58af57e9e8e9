package patch

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"unsafe"

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
	return lutimesAt(root, name, mtime, utimeOmit)
}

// utimeOmit leaves a time as it is in utimensat.
const utimeOmit = unix.UTIME_OMIT

// maxFsyncs is the most entries syncFS makes durable one by one.
const maxFsyncs = 16

// syncFS makes the entries names lists durable. Up to maxFsyncs of them
// are fsync'ed one by one (fsyncEach): syncfs would also wait for whatever
// other programs have written to the filesystem (measured in BENCHMARKS.md,
// "Measurements behind design choices"). More are flushed with one
// syncfs, where an fsync each would cost a disk round trip each.
func syncFS(root *os.Root, names names) error {
	if faults.noSync {
		return nil
	}
	if few, err := atMost(names, maxFsyncs); err != nil {
		return err
	} else if few {
		return fsyncEach(root, names)
	}
	if faults.syncfs != nil {
		return faults.syncfs()
	}
	f, err := root.Open(".")
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

// errTooMany stops atMost's count.
var errTooMany = errors.New("too many")

// atMost says whether names lists at most n entries.
func atMost(names names, n int) (bool, error) {
	count := 0
	err := names(func(string) error {
		if count++; count > n {
			return errTooMany
		}
		return nil
	})
	if errors.Is(err, errTooMany) {
		return false, nil
	}
	return err == nil, err
}

// startWriteback asks the kernel to start writing n bytes of f at off back
// to disk, without waiting: a large staged file is then mostly on disk by
// the time syncFS waits for it. A failure only loses that head start.
func startWriteback(f *os.File, off, n int64) {
	unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// futimens sets the times of the open file fd (utimensat with no path).
func futimens(fd, _ int, _ string, ts *[2]unix.Timespec) error {
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// flushData flushes f's data to disk, and what reading it back needs
// (fdatasync).
func flushData(f *os.File) error {
	return unix.Fdatasync(int(f.Fd()))
}

// dropCache drops the page cache of f, whose stat is fi, unless it has
// another link, which keeps it in use: it is about to be replaced.
func dropCache(f *os.File, fi fs.FileInfo) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink == 1 {
		unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	}
}
