package tree

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Linux bounds a list of attribute names and one value at 64 KiB
// (XATTR_LIST_MAX, XATTR_SIZE_MAX); anything longer is refused rather than
// read into an ever-growing buffer.
const (
	maxXattrList  = 64 << 10
	maxXattrValue = 64 << 10
)

// xattrReader reads extended attributes without following symlinks. Walk
// resolves names in the directory it has open, as its lstat did: it lists
// them with listxattrat(2) where the kernel has it (Linux 6.13), and reads
// them, or lists them on older kernels, through /proc/self/fd/DIRFD/NAME;
// without /proc it falls back to the path below the root.
type xattrReader struct {
	all  bool // every namespace (root), not only user.*
	proc bool
	// at: listxattrat works. Most files have no attribute, so listing them
	// is all the walk does per entry, and one lookup of the name in the
	// open directory costs half of /proc's two path walks.
	at   bool
	name []byte // the NUL-terminated name for listxattrat
	list []byte
	val  []byte
}

// XattrScope names the extended attributes a walk records here: every
// namespace as root, user.* otherwise (see format.Header.Xattrs).
func XattrScope() string {
	if os.Geteuid() == 0 {
		return "all"
	}
	return "user"
}

func newXattrReader() *xattrReader {
	e := xattrEnv()
	return &xattrReader{all: e.all, proc: e.proc, at: e.at}
}

// xattrEnv is what every xattrReader of the process is told, asked once,
// so that ReadXattrs and ReadXattrsAt of one entry cost only its own calls
// (they took three more: a stat of /proc/self/fd, geteuid, a probe).
var xattrEnv = sync.OnceValue(func() (e struct{ all, proc, at bool }) {
	_, err := os.Stat("/proc/self/fd")
	e.all, e.proc, e.at = os.Geteuid() == 0, err == nil, listxattratWorks()
	return e
})

// listxattratWorks probes for listxattrat: older kernels answer ENOSYS, and
// some sandboxes' seccomp filters EPERM, for a call they do not know.
func listxattratWorks() bool {
	_, err := listxattrat(unix.AT_FDCWD, []byte("/\x00"), nil)
	return err != unix.ENOSYS && err != unix.EPERM
}

// listxattrat lists the attribute names of name (NUL-terminated) in the
// directory dirfd, without following a symlink; x/sys/unix has the call's
// number but no wrapper.
func listxattrat(dirfd int, name, dest []byte) (int, error) {
	var p unsafe.Pointer
	if len(dest) > 0 {
		p = unsafe.Pointer(&dest[0])
	}
	n, _, errno := unix.Syscall6(unix.SYS_LISTXATTRAT, uintptr(dirfd), uintptr(unsafe.Pointer(&name[0])),
		unix.AT_SYMLINK_NOFOLLOW, uintptr(p), uintptr(len(dest)), 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

func (x *xattrReader) read(d dirHandle, name, root, rel string) ([]Xattr, error) {
	if x.at {
		x.name = append(append(x.name[:0], name...), 0)
		names, err := x.names(func(b []byte) (int, error) { return listxattrat(d.fd, x.name, b) })
		if err != nil || len(names) == 0 {
			return nil, err
		}
	}
	p := filepath.Join(root, filepath.FromSlash(rel))
	if x.proc {
		p = "/proc/self/fd/" + strconv.Itoa(d.fd) + "/" + name
	}
	return x.readPath(p)
}

// ReadXattrs returns the extended attributes of path, sorted by name,
// without following a symlink in its last component: user.* always, every
// namespace when running as root. A filesystem without extended attributes
// has none.
func ReadXattrs(path string) ([]Xattr, error) {
	return newXattrReader().readPath(path)
}

// ReadXattrsAt is ReadXattrs for the entry name in the directory dirfd,
// which it lists with listxattrat where the kernel has it, else through
// /proc/self/fd (as is every attribute it reads).
func ReadXattrsAt(dirfd int, name string) ([]Xattr, error) {
	x := newXattrReader()
	x.proc = true
	return x.read(dirHandle{fd: dirfd}, name, "", name)
}

func (x *xattrReader) readPath(path string) ([]Xattr, error) {
	names, err := x.names(func(b []byte) (int, error) { return unix.Llistxattr(path, b) })
	if err != nil || len(names) == 0 {
		return nil, err
	}
	var out []Xattr
	for _, name := range names {
		v, err := x.value(path, name)
		if errors.Is(err, unix.ENODATA) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		out = append(out, Xattr{Name: name, Value: v})
	}
	slices.SortFunc(out, func(a, b Xattr) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// names lists, with list (llistxattr or listxattrat), the attribute names
// this process records.
func (x *xattrReader) names(list func([]byte) (int, error)) ([]string, error) {
	n, err := sizedCall(&x.list, maxXattrList, list)
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, name := range bytes.Split(x.list[:n], []byte{0}) {
		if len(name) == 0 || (!x.all && !bytes.HasPrefix(name, []byte("user."))) {
			continue
		}
		names = append(names, string(name))
	}
	return names, nil
}

func (x *xattrReader) value(path, name string) ([]byte, error) {
	n, err := sizedCall(&x.val, maxXattrValue, func(b []byte) (int, error) { return unix.Lgetxattr(path, name, b) })
	if err != nil {
		return nil, err
	}
	return bytes.Clone(x.val[:n]), nil
}

// sizedCall calls an xattr system call with *buf, growing it while the
// result does not fit (the attributes may grow between calls), up to limit.
func sizedCall(buf *[]byte, limit int, call func([]byte) (int, error)) (int, error) {
	if len(*buf) == 0 {
		*buf = make([]byte, 4<<10)
	}
	for {
		n, err := call(*buf)
		if err != unix.ERANGE {
			return n, err
		}
		if len(*buf) >= limit {
			return 0, fmt.Errorf("more than %d bytes: %w", limit, err)
		}
		*buf = make([]byte, min(2*len(*buf), limit))
	}
}
