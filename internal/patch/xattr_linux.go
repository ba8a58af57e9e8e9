package patch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
)

// Extended attributes are restored as ibt-sign reads them: user.* always,
// the other namespaces (trusted.*, security.*, ...) only as root, where the
// kernel allows setting them. A staged file gets them through its own open
// descriptor; any other entry through /proc/self/fd/DIRFD/NAME, with DIRFD
// its directory opened through the root and NAME not followed, so nothing
// outside DIR is ever reached.

// xattrsRestored says that this system restores extended attributes.
const xattrsRestored = true

// restorable reports whether this run may set (and remove) the attribute.
func (a *applier) restorable(name string) bool {
	return a.chown || strings.HasPrefix(name, "user.")
}

// xattrsOnFd gives the open staged file f e's attributes.
func (a *applier) xattrsOnFd(f *os.File, e *format.Entry) error {
	for _, x := range e.Xattrs {
		if !a.restorable(x.Name) {
			continue
		}
		if err := unix.Fsetxattr(int(f.Fd()), x.Name, x.Value, 0); err != nil {
			return a.xattrErr(x.Name, err)
		}
	}
	return nil
}

// xattrErr turns a filesystem without extended attributes into a warning.
func (a *applier) xattrErr(name string, err error) error {
	if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EPERM) && !strings.HasPrefix(name, "user.") {
		a.warn(fmt.Sprintf("extended attribute %q not restored: %v", name, err))
		return nil
	}
	return fmt.Errorf("set extended attribute %q: %w", name, err)
}

// atPath runs fn with a /proc path naming root name without following it.
func atPath(root *os.Root, name string, fn func(p string) error) error {
	return inDir(root, name, func(dirfd int, base string) error {
		return fn("/proc/self/fd/" + strconv.Itoa(dirfd) + "/" + base)
	})
}

// held reports whether root name is a path of the tree below DIR, whose
// directories a.fds holds.
func (a *applier) held(name string) bool {
	return a.fds != nil && name != "." && !strings.HasPrefix(name, stagingName+"/")
}

// atPath is atPath for root name, through the directories a.fds holds
// where name is a path of the tree below DIR.
func (a *applier) atPath(name string, fn func(p string) error) error {
	if !a.held(name) {
		return atPath(a.root, name, fn)
	}
	p, err := a.fds.procPath(name)
	if err != nil {
		return err
	}
	return fn(p)
}

// syncXattrs makes the attributes of the entry at root name those of e,
// removing restorable ones e does not have.
func (a *applier) syncXattrs(name string, e *format.Entry) error {
	if !slices.ContainsFunc(e.Xattrs, func(x format.Xattr) bool { return a.restorable(x.Name) }) && a.held(name) {
		// Nothing to set, the common case (a directory made, checked for
		// a default ACL it took): the attributes are listed by name in the
		// held parent, with listxattrat where the kernel has it, which
		// costs one lookup of the name where /proc costs two path walks.
		dir, base, err := a.fds.parentOf(name)
		if err != nil {
			return err
		}
		have, err := tree.ReadXattrsAt(dir, base)
		if err != nil {
			return fmt.Errorf("read extended attributes: %w", err)
		}
		if !slices.ContainsFunc(have, func(x tree.Xattr) bool { return a.restorable(x.Name) }) {
			return nil
		}
	}
	return a.atPath(name, func(p string) error {
		have, err := tree.ReadXattrs(p)
		if err != nil {
			return fmt.Errorf("read extended attributes: %w", err)
		}
		want := map[string][]byte{}
		for _, x := range e.Xattrs {
			if a.restorable(x.Name) {
				want[x.Name] = x.Value
			}
		}
		for _, x := range have {
			v, ok := want[x.Name]
			switch {
			case !ok && a.restorable(x.Name):
				if err := unix.Lremovexattr(p, x.Name); err != nil && !errors.Is(err, unix.ENODATA) {
					return a.xattrErr(x.Name, err)
				}
			case ok && bytes.Equal(v, x.Value):
				delete(want, x.Name)
			}
		}
		for _, x := range e.Xattrs {
			if _, ok := want[x.Name]; !ok {
				continue
			}
			if err := unix.Lsetxattr(p, x.Name, x.Value, 0); err != nil {
				if err := a.xattrErr(x.Name, err); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// xattrsEqual reports whether the entry at p already has e's restorable
// attributes and no others; it reads them only when either side has some.
func (a *applier) xattrsEqual(p string, old, e *format.Entry) bool {
	if len(e.Xattrs) == 0 && (old == nil || len(old.Xattrs) == 0) {
		return true
	}
	equal := false
	atPath(a.root, name(p), func(pp string) error {
		have, err := tree.ReadXattrs(pp)
		if err != nil {
			return err
		}
		var want []format.Xattr
		for _, x := range e.Xattrs {
			if a.restorable(x.Name) {
				want = append(want, x)
			}
		}
		var got []format.Xattr
		for _, x := range have {
			if a.restorable(x.Name) {
				got = append(got, format.Xattr{Name: x.Name, Value: x.Value})
			}
		}
		equal = len(got) == len(want)
		for i := 0; equal && i < len(got); i++ {
			equal = got[i].Name == want[i].Name && bytes.Equal(got[i].Value, want[i].Value)
		}
		return nil
	})
	return equal
}

// defaultACL is the attribute holding a directory's default ACL, which
// the kernel gives as the ACL of every entry created in the directory.
const defaultACL = "system.posix_acl_default"

// dropDefaultACL removes the default ACL of the directory at root name, so
// that what is created in it has no ACL but the one the archive gives it.
// A filesystem without ACLs has none to drop.
func dropDefaultACL(root *os.Root, name string) {
	atPath(root, name, func(p string) error { return unix.Removexattr(p, defaultACL) })
}
