package patch

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"

	"github.com/ibt-tools/ibt/format"
)

// ownersNote is the warning given when the archive records owners: Windows
// has no Unix owners to give.
const ownersNote = "owners are not restored: Windows has no Unix owners"

// symlinkMTimes is false: os.Root's Chtimes follows a symlink, and
// Windows has no portable way to set the time of the link itself, so
// symlinks keep the time they are created at. noteUnrestorable says so.
const symlinkMTimes = false

// treeVerified is false: NTFS keeps no Unix mode (only a read-only bit),
// symlink mtimes are not restored, and hard links are not seen by the walk,
// so the patched tree cannot hash as the archive's tree. Each new file's
// content is still checked against its hash while it is staged; verify
// says that the tree as a whole is not.
const treeVerified = false

// modeEqual compares the one bit Windows keeps: Chmod makes a file
// without the owner's write bit read-only, and Lstat reports it as 0444.
func modeEqual(have, want fs.FileMode) bool { return have&0o200 == want&0o200 }

// devOf is 0: a FileInfo here carries no volume, so every entry counts as
// on DIR's volume and a rename across volumes fails at the commit instead.
func devOf(fs.FileInfo) uint64 { return 0 }

// ownerEqual is true: Windows has no Unix owners to compare.
func ownerEqual(fs.FileInfo, *format.Entry) bool { return true }

// tryLock takes an exclusive byte-range lock on f without waiting; held
// reports that another process has it. Windows drops it when the process
// dies, so a killed run leaves no stale lock.
func tryLock(f *os.File) (held bool, err error) {
	ol := new(windows.Overlapped)
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return true, nil
	}
	return false, err
}

// symlinkMeta leaves the symlink as created: see symlinkMTimes.
func symlinkMeta(*os.Root, string, *format.Entry) error { return nil }

// lutimes fails: see symlinkMTimes.
func lutimes(_ *os.Root, name string, _ int64) error {
	return &fs.PathError{Op: "lutimes", Path: name, Err: errors.ErrUnsupported}
}

// flushStaged makes a staged file durable while it is still open for
// writing: FlushFileBuffers needs a writable handle, which a file made
// read-only by its mode no longer gives once closed.
func flushStaged(f *os.File) error {
	if faults.noSync {
		return nil
	}
	return f.Sync()
}

// syncFS has nothing left to do: staged files were flushed by flushStaged,
// and Windows cannot flush a directory (NTFS journals its metadata).
func syncFS(*os.Root, names) error { return nil }

// syncDir is a no-op: see syncFS.
func syncDir(*os.Root, string) error { return nil }

// startWriteback does nothing here: the flush before the commit writes the
// staged files back.
func startWriteback(*os.File, int64, int64) {}

// flushData does nothing here: the flush before the commit makes the
// staged files durable.
func flushData(*os.File) error { return nil }

// dropCache does nothing here.
func dropCache(*os.File, fs.FileInfo) {}
