//go:build linux

package chaintest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The listing is the test's own view of a tree, independent of anything ibt
// computes: lstat and read every path, and record what a restore must give
// back. Compared: type, permission and setuid/setgid/sticky bits, owner and
// group, mtime in nanoseconds for every type (symlinks too: Linux sets a
// symlink's own mtime with utimensat(AT_SYMLINK_NOFOLLOW), and ibt-patch
// does), size and SHA-256 of file contents, symlink targets, device numbers,
// every extended attribute (ACLs are the system.posix_acl_* ones), and which
// paths share an inode. Not compared: atimes, ctimes, inode numbers, link
// counts (a link outside the tree is not ibt's business), and how a file's
// holes are laid out (only its content).

// entry is one path of a listing.
type entry struct {
	Type   string // file, dir, symlink, fifo, char, block, socket
	Mode   uint32 // permission bits with setuid, setgid and sticky
	UID    uint32
	GID    uint32
	MTime  int64
	Size   int64
	Hash   string // SHA-256 of a file's content
	Target string // a symlink's target
	Rdev   uint64 // a device's number
	Xattrs string // name=value of every attribute, sorted
	Links  string // the paths sharing this inode, when there are several

	// Not compared: for telling whether a second patch changed anything.
	ino   uint64
	ctime int64
}

// listing maps a slash-separated path relative to the root ("." for the
// root itself) to its entry.
type listing map[string]*entry

// stateDir is ibt-patch's own directory in a restored tree.
const stateDir = ".ibt-patch"

// list walks root. skipState leaves out a top-level .ibt-patch directory.
func list(root string, skipState bool) (listing, error) { return walkTree(root, skipState, true) }

// walkTree lists root, reading contents and attributes only when full.
func walkTree(root string, skipState, full bool) (listing, error) {
	l := listing{}
	byIno := map[[2]uint64][]string{}
	var walk func(rel string) error
	walk = func(rel string) error {
		p := filepath.Join(root, rel)
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		e := &entry{
			Mode:  st.Mode & 0o7777,
			UID:   st.Uid,
			GID:   st.Gid,
			MTime: st.Mtim.Nano(),
			ino:   st.Ino,
			ctime: st.Ctim.Nano(),
		}
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFREG:
			e.Type = "file"
			if !full {
				break
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			n, err := io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			e.Size, e.Hash = n, fmt.Sprintf("%x", h.Sum(nil))[:16]
		case syscall.S_IFDIR:
			e.Type = "dir"
		case syscall.S_IFLNK:
			e.Type = "symlink"
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			e.Target = t
		case syscall.S_IFIFO:
			e.Type = "fifo"
		case syscall.S_IFCHR:
			e.Type, e.Rdev = "char", st.Rdev
		case syscall.S_IFBLK:
			e.Type, e.Rdev = "block", st.Rdev
		case syscall.S_IFSOCK:
			e.Type = "socket"
		default:
			e.Type = fmt.Sprintf("type%o", st.Mode&syscall.S_IFMT)
		}
		if full {
			x, err := xattrs(p)
			if err != nil {
				return err
			}
			e.Xattrs = x
		}
		l[rel] = e
		if e.Type != "dir" {
			k := [2]uint64{st.Dev, st.Ino}
			byIno[k] = append(byIno[k], rel)
			return nil
		}
		des, err := os.ReadDir(p)
		if err != nil {
			return err
		}
		for _, de := range des {
			if rel == "." && skipState && de.Name() == stateDir {
				continue
			}
			if err := walk(pathJoin(rel, de.Name())); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("."); err != nil {
		return nil, err
	}
	for _, paths := range byIno {
		if len(paths) < 2 {
			continue
		}
		sort.Strings(paths)
		var q []string
		for _, p := range paths {
			q = append(q, strconv.Quote(p))
		}
		g := strings.Join(q, ",")
		for _, p := range paths {
			l[p].Links = g
		}
	}
	return l, nil
}

// pathJoin joins slash paths, "." being the root.
func pathJoin(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// xattrs returns every extended attribute of p, not followed, as sorted
// name=value pairs.
func xattrs(p string) (string, error) {
	n, err := unix.Llistxattr(p, nil)
	if errors.Is(err, unix.ENOTSUP) || err == nil && n == 0 {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("llistxattr %s: %w", p, err)
	}
	buf := make([]byte, n)
	if n, err = unix.Llistxattr(p, buf); err != nil {
		return "", fmt.Errorf("llistxattr %s: %w", p, err)
	}
	var pairs []string
	for _, name := range bytes.Split(buf[:n], []byte{0}) {
		if len(name) == 0 {
			continue
		}
		m, err := unix.Lgetxattr(p, string(name), nil)
		if err != nil {
			return "", fmt.Errorf("lgetxattr %s %s: %w", p, name, err)
		}
		val := make([]byte, m)
		m, err = unix.Lgetxattr(p, string(name), val)
		if err != nil {
			return "", fmt.Errorf("lgetxattr %s %s: %w", p, name, err)
		}
		pairs = append(pairs, string(name)+"="+strconv.Quote(string(val[:m])))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, " "), nil
}

// String shows an entry in one line.
func (e *entry) String() string {
	s := fmt.Sprintf("%s %04o %d:%d mtime=%d", e.Type, e.Mode, e.UID, e.GID, e.MTime)
	switch e.Type {
	case "file":
		s += fmt.Sprintf(" size=%d sha=%s", e.Size, e.Hash)
	case "symlink":
		s += " -> " + strconv.Quote(e.Target)
	case "char", "block":
		s += fmt.Sprintf(" rdev=%d", e.Rdev)
	}
	if e.Xattrs != "" {
		s += " xattrs[" + e.Xattrs + "]"
	}
	if e.Links != "" {
		s += " links[" + e.Links + "]"
	}
	return s
}

// differences lists how got differs from want, path by path in order.
func differences(want, got listing) []string {
	paths := map[string]bool{}
	for p := range want {
		paths[p] = true
	}
	for p := range got {
		paths[p] = true
	}
	var sorted []string
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	var out []string
	for _, p := range sorted {
		w, g := want[p], got[p]
		q := strconv.Quote(p)
		switch {
		case g == nil:
			out = append(out, fmt.Sprintf("%s: missing from the restore; source has %v", q, w))
		case w == nil:
			out = append(out, fmt.Sprintf("%s: only in the restore: %v", q, g))
		default:
			wc, gc := *w, *g
			wc.ino, wc.ctime, gc.ino, gc.ctime = 0, 0, 0, 0
			if wc != gc {
				out = append(out, fmt.Sprintf("%s: source %v\n\t\trestore %v", q, w, g))
			}
		}
	}
	return out
}

// strictDirs makes touched look at directories too. Off: ibt-patch
// writes its state inside the root and puts the root's mtime back, and
// sets directories' metadata again on a second run, which moves their
// ctimes and nothing else.
const strictDirs = false

// touched lists the paths whose inode or ctime differ between two listings
// of one tree: what a run that should change nothing changed.
func touched(before, after listing) []string {
	var out []string
	for p, b := range before {
		if b.Type == "dir" && !strictDirs {
			continue
		}
		a := after[p]
		if a == nil || a.ino != b.ino || a.ctime != b.ctime {
			out = append(out, strconv.Quote(p))
		}
	}
	sort.Strings(out)
	return out
}
