package patch

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// cloneFile makes dst, empty and open for writing, share all of src's
// extents (FICLONE): XFS with reflink, btrfs and bcachefs do it in one
// metadata operation whatever the size. Elsewhere it fails with an error
// for which cloneUnsupported holds.
func cloneFile(dst, src *os.File) error {
	return unix.IoctlFileClone(int(dst.Fd()), int(src.Fd()))
}

// cloneUnsupported reports whether err says that the filesystem cannot
// clone, rather than that this clone failed.
func cloneUnsupported(err error) bool {
	return errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EXDEV) ||
		errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM)
}

// copyRange copies n bytes of src from soff to dst at doff inside the
// kernel (copy_file_range), which shares the extents where the filesystem
// can, and leaves src's holes holes in dst. It reports how many bytes it
// copied; after an error the caller copies the rest by reading and writing.
func copyRange(dst, src *os.File, soff, doff, n int64) (int64, error) {
	var done int64
	for done < n {
		so, do, rest := soff+done, doff+done, n-done
		data, err := unix.Seek(int(src.Fd()), so, unix.SEEK_DATA)
		if err == unix.ENXIO {
			data = so + rest // a hole to the end
		} else if err != nil {
			return done, err
		}
		if data > so {
			k := min(data-so, rest)
			if err := punchHole(dst, do, k); err != nil {
				return done, err
			}
			done += k
			continue
		}
		hole, err := unix.Seek(int(src.Fd()), so, unix.SEEK_HOLE)
		if err != nil {
			return done, err
		}
		k, err := unix.CopyFileRange(int(src.Fd()), &so, int(dst.Fd()), &do, int(min(hole-so, rest, 1<<30)), 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		if k == 0 {
			return done, errors.New("copy_file_range copied nothing")
		}
		done += int64(k)
	}
	return done, nil
}

// punchHole makes n bytes of f from off read as zeros without a block on
// disk, keeping its size.
func punchHole(f *os.File, off, n int64) error {
	for {
		err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
		if err != unix.EINTR {
			return err
		}
	}
}

// onTmpfs reports whether f is on tmpfs, which keeps files in memory.
func onTmpfs(f *os.File) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(int(f.Fd()), &st) == nil && st.Type == unix.TMPFS_MAGIC
}
