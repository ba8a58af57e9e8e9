package patch

import (
	"errors"
	"fmt"
)

// Classes of failure; every error Apply returns for one of these wraps it,
// so callers and tests can tell them apart with errors.Is.
var (
	// ErrWrongBase: a file the archive updates is not the version the
	// archive was made against (a local change, or archives out of order).
	ErrWrongBase = errors.New("wrong base")
	// ErrConflict: what is on disk at a path is neither the old nor the new
	// version the archive records there.
	ErrConflict = errors.New("conflict")
	// ErrCorrupt: the archive is damaged, truncated, or inconsistent.
	ErrCorrupt = errors.New("corrupt archive")
	// ErrUnsafe: the archive asks for something ibt-patch refuses to do to
	// DIR, such as writing through a symlink or into its staging directory.
	ErrUnsafe = errors.New("unsafe archive")
	// ErrVerify: after the commit the tree does not hash to the archive's
	// tree hash.
	ErrVerify = errors.New("verification failed")
	// ErrBusy: another ibt-patch holds DIR, or an interrupted run of another
	// archive must be finished first.
	ErrBusy = errors.New("directory busy")
	// ErrLocked: another ibt-patch holds DIR's lock right now; trying
	// again once it is done may succeed. It is also an ErrBusy.
	ErrLocked = fmt.Errorf("%w: locked", ErrBusy)
)

// Error is a failure about one path of the tree.
type Error struct {
	Path   string // the path in the tree, slash-separated; "" for DIR itself
	Class  error  // one of the Err* classes above
	Detail string // what is wrong, for people
	Fix    string // a known fix, or ""
	Err    error  // the underlying cause, or nil
}

func (e *Error) Error() string {
	msg := e.Detail
	if e.Path != "" {
		msg = fmt.Sprintf("%q: %s", e.Path, e.Detail)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap makes errors.Is match both the class and the cause.
func (e *Error) Unwrap() []error {
	errs := []error{e.Class}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Hint returns the known fix, for a command to print on its own line.
func (e *Error) Hint() string { return e.Fix }

func pathErr(class error, path, fix, format string, args ...any) *Error {
	return &Error{Path: path, Class: class, Detail: fmt.Sprintf(format, args...), Fix: fix}
}

// asError returns err if it is an *Error, and otherwise err as the cause of
// an Error of class that says detail.
func asError(err error, class error, detail string) error {
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	return &Error{Class: class, Detail: detail, Err: err}
}

// ioErr reports a filesystem failure at path during what.
func ioErr(path, what string, err error) *Error {
	return &Error{Path: path, Class: errIO, Detail: "failed to " + what, Err: err}
}

// errIO classes plain I/O failures (permissions, a full disk); it is not
// exported, as the cause (an *fs.PathError, syscall.ENOSPC ...) says more.
var errIO = errors.New("i/o error")

const (
	fixWrongBase = "apply the archives in the order they were made, starting from the tree the first was made against; a file changed locally must be restored or re-signed first"
	fixConflict  = "move the path out of DIR, or restore it to the version the archive expects, and run again"
	fixResume    = "run the same command again to finish the patch; ibt-patch recognises what is already done"
)
