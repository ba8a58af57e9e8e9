//go:build linux || darwin || freebsd || openbsd || netbsd

package patch

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ibt-tools/ibt/format"
)

// dirFds keeps open the directories a restore works in over and over: the
// staging directory, where every new version is written, and the directory
// of the last path placed, which in path order is the next one's too. An
// operation on a name in them is then one system call on a descriptor,
// where the root would resolve every component of the path anew (an
// openat and a close each). Each directory is opened through the root,
// without following a symlink at its last component, and the names given
// here are single components, opened without following either: what the
// root confines stays confined.
type dirFds struct {
	root  *os.Root
	stage *os.File // stageDir, or nil until first used
	top   *os.File // DIR itself, or nil until first used
	// tree: the directories of DIR along the last tree path's directory;
	// staged: those of the staging directory along the last staged name
	// below a directory staged whole (see stageTree)
	tree, staged heldPath
	// noChmodat: fchmodat without following a symlink is not there (a
	// kernel before fchmodat2), and dirMeta goes the root's way
	noChmodat bool
}

// heldPath holds open the directories along one path below a directory:
// fds[i] is the directory names[:i+1]. The next path, in path order (or
// its reverse), shares most of them, and only the components past those
// it shares are opened, each by an openat on its parent that follows no
// symlink: what the root confines stays confined.
type heldPath struct {
	names []string
	fds   []int
}

// open returns a descriptor of the directory below base whose path
// components are comps (base itself for none), held until a later open
// leaves that path or drop. prefix names base in errors. A component that
// is not a plain name, or not a directory (a symlink included), fails.
func (h *heldPath) open(base int, prefix string, comps []string) (int, error) {
	m := 0
	for m < len(h.names) && m < len(comps) && h.names[m] == comps[m] {
		m++
	}
	h.drop(m)
	for i := m; i < len(comps); i++ {
		c := comps[i]
		if c == "" || c == "." || c == ".." {
			return -1, &fs.PathError{Op: "openat", Path: path.Join(prefix, strings.Join(comps[:i+1], "/")), Err: fs.ErrInvalid}
		}
		parent := base
		if i > 0 {
			parent = h.fds[i-1]
		}
		fd, err := openat(parent, c, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, &fs.PathError{Op: "openat", Path: path.Join(prefix, strings.Join(comps[:i+1], "/")), Err: err}
		}
		h.names, h.fds = append(h.names, c), append(h.fds, fd)
	}
	if len(comps) == 0 {
		return base, nil
	}
	return h.fds[len(comps)-1], nil
}

// drop closes the held directories past the first n.
func (h *heldPath) drop(n int) {
	for i := len(h.fds) - 1; i >= n; i-- {
		unix.Close(h.fds[i])
	}
	n = min(n, len(h.fds))
	h.names, h.fds = h.names[:n], h.fds[:n]
}

// components splits a slash-separated directory path; "" has none.
func components(dir string) []string {
	if dir == "" {
		return nil
	}
	return strings.Split(dir, "/")
}

func newDirFds(root *os.Root) *dirFds { return &dirFds{root: root} }

// stageBase returns the name of a root name in the staging directory, or
// false if name is not directly in it.
func stageBase(name string) (string, bool) {
	base, ok := strings.CutPrefix(name, stageDir+"/")
	return base, ok && base != "" && !strings.Contains(base, "/")
}

// stagedParent returns an open descriptor of the directory of the staged
// root name, directly in the staging directory or below a directory
// staged whole, and name's last component; ok is false for any other name.
// The descriptor stays d's.
func (d *dirFds) stagedParent(name string) (dir int, base string, ok bool, err error) {
	if base, ok := stageBase(name); ok {
		f, err := d.stageDir()
		if err != nil {
			return -1, "", true, err
		}
		return int(f.Fd()), base, true, nil
	}
	rel, ok := strings.CutPrefix(name, stageDir+"/")
	if !ok {
		return -1, "", false, nil
	}
	sdir, base := path.Split(rel)
	f, err := d.stageDir()
	if err != nil {
		return -1, "", true, err
	}
	dir, err = d.staged.open(int(f.Fd()), stageDir, components(strings.TrimSuffix(sdir, "/")))
	return dir, base, true, err
}

// mkdirStaged makes the directory name, a root name in the staging
// directory or below a directory staged whole, with the permissions perm
// (which let its owner make entries in it; the staging directory lets
// nobody else reach it).
func (d *dirFds) mkdirStaged(name string, perm uint32) error {
	dir, base, ok, err := d.stagedParent(name)
	if !ok {
		return d.root.Mkdir(name, fs.FileMode(perm))
	}
	if err != nil {
		return err
	}
	if err := unix.Mkdirat(dir, base, perm); err != nil {
		return &fs.PathError{Op: "mkdirat", Path: name, Err: err}
	}
	return nil
}

func (d *dirFds) stageDir() (*os.File, error) {
	if d.stage == nil {
		f, err := d.root.OpenFile(stageDir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
		if err != nil {
			return nil, err
		}
		d.stage = f
	}
	return d.stage, nil
}

// createStaged creates the staged file name (a root name in the staging
// directory), which must not exist, for writing. The descriptor is a
// plain blocking one: a regular file gains nothing from the poller, which
// os.Root's OpenFile tries to register it with at four fcntls and an
// epoll_ctl a file.
func (d *dirFds) createStaged(name string, mode uint32) (*os.File, error) {
	dir, base, ok, err := d.stagedParent(name)
	if !ok {
		return d.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, fs.FileMode(mode))
	}
	if err != nil {
		return nil, err
	}
	fd, err := openat(dir, base, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	if err != nil {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

func openat(dirfd int, name string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, mode)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// stagedMTime sets the mtime of the staged entry name (a root name),
// leaving its atime and not following it.
func (d *dirFds) stagedMTime(name string, mtime int64) error {
	dir, base, ok, err := d.stagedParent(name)
	if !ok {
		return d.root.Chtimes(name, time.Time{}, time.Unix(0, mtime))
	}
	if err != nil {
		return err
	}
	ts := []unix.Timespec{{Nsec: utimeOmit}, unix.NsecToTimespec(mtime)}
	if err := unix.UtimesNanoAt(dir, base, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "utimensat", Path: name, Err: err}
	}
	return nil
}

// parentOf returns an open descriptor of the directory of the tree path p,
// d's, and p's last component.
func (d *dirFds) parentOf(p string) (int, string, error) {
	dir, base := path.Split(p)
	if d.top == nil {
		f, err := d.root.OpenFile(".", os.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			return -1, "", err
		}
		d.top = f
	}
	fd, err := d.tree.open(int(d.top.Fd()), "", components(strings.TrimSuffix(dir, "/")))
	return fd, base, err
}

// rename moves the staged entry name (a root name) to the tree path p.
func (d *dirFds) rename(name, p string) error {
	base, ok := stageBase(name)
	if !ok {
		return d.root.Rename(name, p)
	}
	from, err := d.stageDir()
	if err != nil {
		return err
	}
	to, toBase, err := d.parentOf(p)
	if err != nil {
		return err
	}
	if err := unix.Renameat(int(from.Fd()), base, to, toBase); err != nil {
		return &os.LinkError{Op: "renameat", Old: name, New: p, Err: err}
	}
	if len(d.staged.names) > 0 && d.staged.names[0] == base {
		d.staged.drop(0) // it is no longer in the staging directory
	}
	return nil
}

// identity returns the device, inode and ctime of the regular file at the
// tree path p, not following a symlink; ok is false for anything else.
func (d *dirFds) identity(p string) (dev, ino uint64, ctime int64, ok bool) {
	dir, base, err := d.parentOf(p)
	if err != nil {
		return 0, 0, 0, false
	}
	return statIdentity(dir, base)
}

func statIdentity(dir int, base string) (dev, ino uint64, ctime int64, ok bool) {
	var st unix.Stat_t
	if unix.Fstatat(dir, base, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, 0, 0, false
	}
	return uint64(st.Dev), uint64(st.Ino), st.Ctim.Nano(), true
}

// stagedIdentity is identity for the staged root name of a regular file.
func (d *dirFds) stagedIdentity(name string) (dev, ino uint64, ctime int64, ok bool) {
	dir, base, ok, err := d.stagedParent(name)
	if !ok || err != nil {
		return 0, 0, 0, false
	}
	return statIdentity(dir, base)
}

// forget closes the directories of DIR held along the last path: the
// commit calls it whenever it makes, removes or renames a directory.
func (d *dirFds) forget() { d.tree.drop(0) }

func (d *dirFds) close() {
	d.forget()
	d.staged.drop(0)
	if d.top != nil {
		d.top.Close()
		d.top = nil
	}
	if d.stage != nil {
		d.stage.Close()
		d.stage = nil
	}
}

// makeSmall makes the staged file name below a directory staged whole on
// a bare descriptor: create, write, owner and mode if needed, mtime, the
// identity the verification trusts, close. Every call but the create is on
// the descriptor, and an os.File would add a fcntl and a finalizer a file.
// It returns ok false, doing nothing, for a name outside such a directory.
func (d *dirFds) makeSmall(name string, f smallFile) (dev, ino uint64, ctime int64, ok bool, err error) {
	dir, base, ok, err := d.stagedParent(name)
	if !ok || err != nil {
		return 0, 0, 0, ok, err
	}
	fd, err := openat(dir, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, f.create)
	if err != nil {
		return 0, 0, 0, true, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	defer func() {
		if cerr := unix.Close(fd); err == nil && cerr != nil {
			err = &fs.PathError{Op: "close", Path: name, Err: cerr}
		}
	}()
	var w io.Writer = fdWriter{fd: fd, name: name}
	if f.wrap != nil {
		w = f.wrap(w)
	}
	if _, err := w.Write(f.data); err != nil {
		return 0, 0, 0, true, &writeError{err}
	}
	if f.chown {
		if err := unix.Fchown(fd, f.uid, f.gid); err != nil {
			return 0, 0, 0, true, &fs.PathError{Op: "fchown", Path: name, Err: err}
		}
	}
	if f.chmod {
		if err := unix.Fchmod(fd, f.mode); err != nil {
			return 0, 0, 0, true, &fs.PathError{Op: "fchmod", Path: name, Err: err}
		}
	}
	ts := [2]unix.Timespec{{Nsec: utimeOmit}, unix.NsecToTimespec(f.mtime)}
	if err := futimens(fd, dir, base, &ts); err != nil {
		return 0, 0, 0, true, &fs.PathError{Op: "futimens", Path: name, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, 0, 0, true, &fs.PathError{Op: "fstat", Path: name, Err: err}
	}
	return uint64(st.Dev), uint64(st.Ino), st.Ctim.Nano(), true, nil
}

// fdWriter writes to a bare descriptor, all of p or an error.
type fdWriter struct {
	fd   int
	name string
}

func (w fdWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k, err := unix.Write(w.fd, p[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, &fs.PathError{Op: "write", Path: w.name, Err: err}
		}
		if k == 0 {
			return n, &fs.PathError{Op: "write", Path: w.name, Err: io.ErrShortWrite}
		}
		n += k
	}
	return n, nil
}

// dirMeta gives the directory at the tree path p (not DIR itself) e's
// owner (when chown is set), mode (when chmod is) and mtime, in setMeta's
// order, by name in its held parent and without following a symlink, as
// the root's calls do: no descriptor of its own, which a directory its
// owner may not read would refuse.
func (d *dirFds) dirMeta(p string, e *format.Entry, chown, chmod bool) error {
	dir, base, err := d.parentOf(p)
	if err != nil {
		return err
	}
	if chown {
		if err := unix.Fchownat(dir, base, int(e.UID), int(e.GID), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown: %w", &fs.PathError{Op: "fchownat", Path: p, Err: err})
		}
	}
	if chmod {
		err = unix.EOPNOTSUPP
		if !d.noChmodat {
			err = unix.Fchmodat(dir, base, e.Mode&0o7777, unix.AT_SYMLINK_NOFOLLOW)
		}
	}
	switch {
	case err == unix.EOPNOTSUPP || err == unix.ENOSYS:
		// Without fchmodat2, or a symlink, which it refuses to change:
		// the root's chmod would follow that, so it goes only to what is
		// not one (a symlink put in its place is for the next run).
		var st unix.Stat_t
		if err := unix.Fstatat(dir, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chmod: %w", &fs.PathError{Op: "fstatat", Path: p, Err: err})
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return fmt.Errorf("chmod: %w", &fs.PathError{Op: "fchmodat", Path: p, Err: unix.ELOOP})
		}
		d.noChmodat = true
		if err := d.root.Chmod(p, fileMode(e.Mode)); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	case err != nil:
		return fmt.Errorf("chmod: %w", &fs.PathError{Op: "fchmodat", Path: p, Err: err})
	}
	ts := []unix.Timespec{{Nsec: utimeOmit}, unix.NsecToTimespec(e.MTime)}
	if err := unix.UtimesNanoAt(dir, base, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set mtime: %w", &fs.PathError{Op: "utimensat", Path: p, Err: err})
	}
	return nil
}

// procPath returns a /proc path naming the entry at the tree path p (not
// DIR itself) without following it, through the held directory of p.
func (d *dirFds) procPath(p string) (string, error) {
	dir, base, err := d.parentOf(p)
	if err != nil {
		return "", err
	}
	return "/proc/self/fd/" + strconv.Itoa(dir) + "/" + base, nil
}
