package patch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ibt-tools/ibt/format"
)

// Named pipes, devices and sockets carry metadata only: ibt-patch makes
// them in staging with mknod (a device with its recorded number), gives
// them their metadata there and renames them into place at the commit, as
// it does symlinks. It never opens one: opening a named pipe blocks.

// ErrUnsupported: the archive holds an entry this run cannot create, a
// device node without root or a special file where the system has none.
// It is found before DIR changes.
var ErrUnsupported = errors.New("cannot create it here")

// mayMakeDevices reports whether this process may make device nodes: only
// root may (a variable, so that tests running as root can say otherwise).
var mayMakeDevices = func() bool { return os.Geteuid() == 0 }

// fixDevices is the hint for a device this run cannot make.
const fixDevices = "only root can create device nodes: run ibt-patch as root (DIR is unchanged)"

// specialType returns the entry type of a named pipe, device or socket fi.
func specialType(fi fs.FileInfo) (format.Type, bool) {
	m := fi.Mode()
	switch {
	case m&fs.ModeNamedPipe != 0:
		return format.TypeFIFO, true
	case m&fs.ModeSocket != 0:
		return format.TypeSocket, true
	case m&fs.ModeCharDevice != 0:
		return format.TypeCharDev, true
	case m&fs.ModeDevice != 0:
		return format.TypeBlockDev, true
	}
	return 0, false
}

// specialMatches reports whether the special file fi is e, of the same
// type already: a device also has e's number.
func specialMatches(fi fs.FileInfo, e *format.Entry) bool {
	return !e.Type.IsDevice() || rdevOf(fi) == e.Rdev
}

// describeSpecial says what the special file e (or found on disk, with
// the number rdev) is, for an error message.
func describeSpecial(t format.Type, rdev uint64) string {
	switch t {
	case format.TypeFIFO:
		return "a named pipe"
	case format.TypeSocket:
		return "a socket"
	case format.TypeCharDev:
		return fmt.Sprintf("a character device %d,%d", format.RdevMajor(rdev), format.RdevMinor(rdev))
	}
	return fmt.Sprintf("a block device %d,%d", format.RdevMajor(rdev), format.RdevMinor(rdev))
}

// checkDevice refuses, before anything changes, a device this run must
// make but cannot: only root can. The check is up front so that a dry run
// says it too, and an unprivileged run changes nothing.
func (a *applier) checkDevice(s *step) error {
	e := s.c.New
	if e == nil || !e.Type.IsDevice() || s.state == stNew {
		return nil
	}
	if !mayMakeDevices() {
		return pathErr(ErrUnsupported, e.Path, fixDevices, "is %s, which only root can create", describeSpecial(e.Type, e.Rdev))
	}
	return nil
}

// stageSpecial makes the new named pipe, device or socket of s in staging,
// with its metadata.
func (a *applier) stageSpecial(s *step) error {
	e := s.c.New
	if err := mknod(a.root, s.staged, e); err != nil {
		if errors.Is(err, errNoSpecials) {
			return pathErr(ErrUnsupported, e.Path, "", "is %s, which ibt-patch cannot create on this system", describeSpecial(e.Type, e.Rdev))
		}
		if errors.Is(err, fs.ErrPermission) && e.Type.IsDevice() {
			return &Error{Path: e.Path, Class: ErrUnsupported, Detail: "create its device in staging", Fix: fixDevices, Err: err}
		}
		return ioErr(e.Path, "create it in staging", err)
	}
	if e.Type.IsDevice() {
		// a number the system's dev_t cannot hold comes out as another
		fi, err := a.root.Lstat(s.staged)
		if err != nil {
			return ioErr(e.Path, "stat its staged device", err)
		}
		if got := rdevOf(fi); got != e.Rdev {
			return pathErr(ErrUnsupported, e.Path, "", "is %s, which this system cannot make (mknod made %s)",
				describeSpecial(e.Type, e.Rdev), describeSpecial(e.Type, got))
		}
	}
	if err := setMeta(a.root, s.staged, e, a.chown); err != nil {
		return ioErr(e.Path, "set the metadata of its staged "+e.Type.String(), err)
	}
	if len(e.Xattrs) > 0 {
		if err := a.syncXattrs(s.staged, e); err != nil {
			return ioErr(e.Path, "set the extended attributes of its staged "+e.Type.String(), err)
		}
	}
	return nil
}
