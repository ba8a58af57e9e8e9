// Package oserr says what a failed system call means in a user's words:
// "cannot rename "a/b": the filesystem is read-only" rather than Go's
// "renameat a/b: read-only file system", whose operation names (statat,
// openat, utimensat) are the system's, not what the user asked for.
package oserr

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// Text is err's message with its innermost path error (an *fs.PathError,
// *os.LinkError or *os.SyscallError) told in words: what could not be done
// to which path, and why; or, where the chain has no path error, its
// system error told so.
func Text(err error) string {
	msg := err.Error()
	var pe *fs.PathError
	var le *os.LinkError
	var se *os.SyscallError
	switch {
	case errors.As(err, &pe):
		return strings.Replace(msg, pe.Error(), fmt.Sprintf("cannot %s %q: %s", action(pe.Op), pe.Path, Why(pe.Err)), 1)
	case errors.As(err, &le):
		return strings.Replace(msg, le.Error(), fmt.Sprintf("cannot %s %q to %q: %s", action(le.Op), le.Old, le.New, Why(le.Err)), 1)
	case errors.As(err, &se):
		return strings.Replace(msg, se.Error(), Why(se.Err), 1)
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return strings.Replace(msg, errno.Error(), Why(errno), 1)
	}
	return msg
}

// action names what an operation was for, as a verb phrase.
func action(op string) string {
	op = strings.TrimSuffix(op, "at") // os.Root's openat, statat, renameat...
	switch op {
	case "open", "opendir":
		return "open"
	case "stat", "lstat", "fstat", "newfstat":
		return "look at"
	case "rename":
		return "rename"
	case "link":
		return "link"
	case "symlink":
		return "create the symlink"
	case "mkdir":
		return "create the directory"
	case "remove", "unlink", "rmdir":
		return "remove"
	case "chmod", "fchmod", "lchmod":
		return "set the mode of"
	case "chown", "fchown", "lchown":
		return "set the owner of"
	case "chtimes", "utimens", "utimes", "lutimes", "futimes":
		return "set the time of"
	case "readlink":
		return "read the symlink"
	case "read", "readdirent", "readdir", "getdents":
		return "read"
	case "write", "pwrite", "truncate", "ftruncate", "fallocate":
		return "write"
	case "fsync", "sync", "syncfs", "fdatasync":
		return "flush to disk"
	case "close":
		return "close"
	case "seek":
		return "seek in"
	case "lgetxattr", "getxattr", "llistxattr", "listxattr":
		return "read the extended attributes of"
	case "lsetxattr", "setxattr", "lremovexattr", "removexattr":
		return "set the extended attributes of"
	}
	return op
}

// Why says in words why a system call failed.
func Why(err error) string {
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno) && errno == syscall.EROFS:
		return "the filesystem is read-only"
	case errors.As(err, &errno) && errno == syscall.ENOSPC:
		return "no space is left on the filesystem"
	case errors.As(err, &errno) && errno == syscall.EDQUOT:
		return "the disk quota is used up"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.As(err, &errno) && errno == syscall.ENOTDIR:
		return "a part of the path is not a directory"
	case errors.As(err, &errno) && errno == syscall.ELOOP:
		return "it is a symlink, which is not followed"
	case errors.As(err, &errno) && errno == syscall.EXDEV:
		return "it is on another filesystem"
	case errors.As(err, &errno) && errno == syscall.EIO:
		return "the device reported an input/output error"
	case errors.Is(err, fs.ErrNotExist):
		return "no such file or directory"
	case errors.Is(err, fs.ErrExist):
		return "it already exists"
	case err != nil && strings.Contains(err.Error(), "path escapes from parent"):
		return "the path leads out of the directory"
	case err == nil:
		return "failed"
	}
	return err.Error()
}

// Cause drops the path error layer of err (an *fs.PathError), for a message
// that already names the path.
func Cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
