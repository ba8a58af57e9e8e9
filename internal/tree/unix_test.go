//go:build linux || darwin || freebsd

package tree

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWalkMetadata(t *testing.T) {
	root := t.TempDir()
	build(t, root, "f", "d/x", "empty/", "sym -> d/x", "abs -> /etc/passwd", "dangling -> no where\n")
	if err := os.Link(filepath.Join(root, "f"), filepath.Join(root, "hard")); err != nil {
		t.Fatal(err)
	}
	chmod := func(p string, m uint32) {
		if err := syscall.Chmod(filepath.Join(root, p), m); err != nil {
			t.Fatal(err)
		}
	}
	chmod("f", 0o640)
	chmod("d", 0o750)
	build(t, root, "suid", "sgid", "sticky/")
	chmod("suid", 0o4755)
	chmod("sgid", 0o2711)
	chmod("sticky", 0o1777)
	const ns = 1_700_000_000_123_456_789
	for _, p := range []string{"f", "d", "empty", "suid"} {
		setMTime(t, filepath.Join(root, p), ns+int64(len(p)))
	}

	nodes := walkNodes(t, root)
	tests := []struct {
		path   string
		typ    Type
		mode   uint32
		mtime  int64
		size   int64
		target string
	}{
		{"f", TypeFile, 0o640, ns + 1, 1, ""},
		{"hard", TypeFile, 0o640, ns + 1, 1, ""},
		{"d", TypeDir, 0o750, ns + 1, 0, ""},
		{"empty", TypeDir, 0o755, ns + 5, 0, ""},
		{"suid", TypeFile, 0o4755, ns + 4, 4, ""},
		{"sgid", TypeFile, 0o2711, 0, 4, ""},
		{"sticky", TypeDir, 0o1777, 0, 0, ""},
		{"sym", TypeSymlink, 0o777, 0, 0, "d/x"},
		{"abs", TypeSymlink, 0o777, 0, 0, "/etc/passwd"},
		{"dangling", TypeSymlink, 0o777, 0, 0, "no where\n"},
	}
	for _, tt := range tests {
		n := nodes[tt.path]
		if n == nil {
			t.Errorf("%q not visited", tt.path)
			continue
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(root, tt.path), &st); err != nil {
			t.Fatal(err)
		}
		if uint32(st.Mode)&0o7777 != tt.mode && tt.mode&0o7000 != 0 {
			t.Logf("%q: the filesystem did not keep mode %04o; skipped", tt.path, tt.mode)
			continue
		}
		if n.Type != tt.typ || n.Mode != tt.mode || n.Size != tt.size || n.Target != tt.target ||
			(tt.mtime != 0 && n.MTime != tt.mtime) {
			t.Errorf("%q = %+v, want %v %04o size %d mtime %d target %q",
				tt.path, n, tt.typ, tt.mode, tt.size, tt.mtime, tt.target)
		}
		if n.Inode != uint64(st.Ino) || n.UID != uint32(os.Getuid()) || n.CTime == 0 {
			t.Errorf("%q: inode %d uid %d ctime %d, want inode %d uid %d and a ctime",
				tt.path, n.Inode, n.UID, n.CTime, st.Ino, os.Getuid())
		}
	}
	if n := nodes["f"]; n.Nlink != 2 || n.Inode != nodes["hard"].Inode {
		t.Errorf("hard link: nlink %d, inodes %d and %d", n.Nlink, n.Inode, nodes["hard"].Inode)
	}
}

// TestWalkReportsSpecials walks named pipes, a socket and, as root, a
// character and a block device: each is reported with its type, mode and
// (for a device) number, and none is opened (a named pipe would block).
func TestWalkReportsSpecials(t *testing.T) {
	root := t.TempDir()
	build(t, root, "a", "sub/z")
	for _, p := range []string{"fifo", "sub/fifo"} {
		if err := syscall.Mkfifo(filepath.Join(root, p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "sub/fifo"), 0o600|fs.ModeSticky); err != nil {
		t.Fatal(err)
	}
	// A socket path must be short: bind it relative to the tree.
	t.Chdir(root)
	ln, err := net.Listen("unix", "sock")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	want := []string{"a", "fifo", "sock", "sub", "sub/fifo", "sub/z"}
	devices := os.Geteuid() == 0 && mknodWorks
	if devices {
		mknod(t, filepath.Join(root, "cdev"), syscall.S_IFCHR|0o640, 1<<32|3)
		mknod(t, filepath.Join(root, "sub/bdev"), syscall.S_IFBLK|0o600, 259<<32|70000)
		want = []string{"a", "cdev", "fifo", "sock", "sub", "sub/bdev", "sub/fifo", "sub/z"}
	}

	var warned []string
	nodes := map[string]*Node{}
	var got []string
	err = Walk(root, Options{Warn: func(p, why string) { warned = append(warned, p+": "+why) }, Xattrs: true}, func(n *Node) error {
		got = append(got, n.Path)
		nodes[n.Path] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("visited %q, want %q", got, want)
	}
	if len(warned) > 0 {
		t.Errorf("warned %q, want nothing", warned)
	}
	check := func(p string, typ Type, mode uint32, rdev uint64) {
		t.Helper()
		if n := nodes[p]; n == nil || n.Type != typ || n.Mode != mode || n.Rdev != rdev || n.Size != 0 {
			t.Errorf("%q = %+v, want a %s of mode %04o and rdev %#x", p, n, typ, mode, rdev)
		}
	}
	check("fifo", TypeFIFO, 0o644&^uint32(umask()), 0)
	check("sub/fifo", TypeFIFO, 0o1600, 0)
	if nodes["sock"] == nil || nodes["sock"].Type != TypeSocket {
		t.Errorf("sock = %+v, want a socket", nodes["sock"])
	}
	if devices {
		check("cdev", TypeCharDev, 0o640, 1<<32|3)
		check("sub/bdev", TypeBlockDev, 0o600, 259<<32|70000)
	}
}

// umask returns the process's umask.
func umask() int {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return m
}

func TestOpenFileSpecial(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := openRoot(t, dir)
	done := make(chan error, 1)
	go func() {
		f, _, err := OpenFile(root, "fifo")
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("err = %v, want ErrNotRegular for a named pipe", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OpenFile blocked on a named pipe")
	}
	n, err := Stat(root, "fifo")
	if err != nil || n.Type != TypeFIFO {
		t.Errorf("Stat(fifo) = %+v, %v; want TypeFIFO", n, err)
	}
}

// TestOpenFileFifoSwappedIn opens a named pipe that replaced the file the
// lstat saw: it must fail at once, not block waiting for a writer.
func TestOpenFileFifoSwappedIn(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, "f")
	root := openRoot(t, dir)
	before, err := root.Lstat("f")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "f"))
	if err := syscall.Mkfifo(filepath.Join(dir, "f"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, _, err := openChecked(root, "f", before)
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrChanged) {
			t.Errorf("err = %v, want ErrChanged", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OpenFile blocked on a named pipe")
	}
}

func TestWalkPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every directory")
	}
	tests := []struct {
		mode uint32
		want string
	}{
		{0o000, `open directory "locked"`},
		{0o600, `lstat "locked/f"`}, // listable, but its entries cannot be lstat'd
	}
	for _, tt := range tests {
		root := t.TempDir()
		build(t, root, "locked/f")
		locked := filepath.Join(root, "locked")
		if err := syscall.Chmod(locked, tt.mode); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(locked, 0o755) })
		err := Walk(root, Options{}, func(*Node) error { return nil })
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("mode %04o: err = %v, want permission denied at %s", tt.mode, err, tt.want)
		}
	}
}
