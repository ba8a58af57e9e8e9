package patch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
)

// makeSpecial makes the special file n at path, as mknod(1) or a server
// binding a socket would; its metadata is set by materialize.
func makeSpecial(path string, n node) error {
	mode := map[format.Type]uint32{format.TypeFIFO: unix.S_IFIFO, format.TypeSocket: unix.S_IFSOCK,
		format.TypeCharDev: unix.S_IFCHR, format.TypeBlockDev: unix.S_IFBLK}[n.typ]
	if mode == 0 {
		return errors.New("not a special file")
	}
	return unix.Mknod(path, mode|0o600, int(tree.SystemRdev(n.rdev)))
}

func fifo() node   { return node{typ: format.TypeFIFO, mode: 0o644, mtime: baseTime} }
func socket() node { return node{typ: format.TypeSocket, mode: 0o755, mtime: baseTime} }
func chardev(major, minor uint32) node {
	return node{typ: format.TypeCharDev, mode: 0o666, mtime: baseTime, rdev: format.MakeRdev(major, minor)}
}
func blockdev(major, minor uint32) node {
	return node{typ: format.TypeBlockDev, mode: 0o660, mtime: baseTime, rdev: format.MakeRdev(major, minor)}
}

// specialTrees are a tree of special files and what becomes of them: the
// metadata of each changes, then their types, in both directions; devices
// only as root.
func specialTrees(devices bool) []tr {
	v1 := tr{
		"d":         dir(),
		"d/fifo":    fifo().withMode(0o4620),
		"d/sock":    socket().withMode(0o1777),
		"to-file":   fifo(),
		"from-file": file("a file, then a pipe\n"),
		"to-link":   socket(),
	}
	if devices {
		v1["dev"] = dir()
		v1["dev/null"] = chardev(1, 3)
		v1["dev/sda"] = blockdev(8, 0)
		v1["dev/renumbered"] = chardev(1, 5)
		v1["dev/to-fifo"] = blockdev(7, 1)
	}
	v2 := v1.clone()
	v2["d/fifo"] = v1["d/fifo"].withMode(0o600).withTime(baseTime + 5)
	v2["d/sock"] = v1["d/sock"].withTime(baseTime - 5)
	v2["to-file"] = file("was a pipe\n")
	v2["from-file"] = fifo().withMode(0o600)
	v2["to-link"] = symlink("d/fifo")
	if devices {
		v2["dev/null"] = v1["dev/null"].withMode(0o640)
		v2["dev/renumbered"] = chardev(1, 9)
		v2["dev/to-fifo"] = fifo()
		v2["d/new-dev"] = blockdev(4095, 1<<20-1) // Linux's largest
	}
	v3 := v2.clone()
	v3["to-file"] = fifo() // and back
	v3["from-file"] = file("a file again\n")
	delete(v3, "d/sock")
	if devices {
		v3["dev/to-fifo"] = blockdev(7, 1)
	}
	return []tr{v1, v2, v3}
}

// TestSpecials restores named pipes, sockets and (as root) devices, then
// changes their metadata and types both ways: each archive gives exactly
// its tree, and applying it again changes nothing.
func TestSpecials(t *testing.T) {
	devices := os.Geteuid() == 0
	if !devices {
		t.Log("not root: no devices")
	}
	d := filepath.Join(t.TempDir(), "restore")
	prev := tr{}
	for i, next := range specialTrees(devices) {
		a := makeArchive(t, prev, next)
		if _, err := apply(d, a); err != nil {
			t.Fatalf("version %d: %v\nrestored\n%s\nwant\n%s", i+1, err, withoutRoot(listing(t, d)), treeListing(t, next))
		}
		if got, want := withoutRoot(listing(t, d)), treeListing(t, next); got != want {
			t.Fatalf("version %d: restored\n%s\nwant\n%s", i+1, got, want)
		}
		again := mustApply(t, d, a)
		if again.AlreadyApplied == 0 {
			t.Errorf("version %d applied again: %+v, want everything already applied", i+1, again)
		}
		prev = next
	}
}

// TestSpecialConflict refuses to take a named pipe for the file an update
// expects, or a device of another number for the one recorded, without
// opening the pipe (that would block) and without changing DIR.
func TestSpecialConflict(t *testing.T) {
	old := tr{"p": file("content\n"), "q": fifo()}
	new := tr{"p": file("content, changed\n"), "q": fifo().withMode(0o600)}
	a := makeArchive(t, old, new)
	d := t.TempDir()
	materialize(t, d, tr{"p": fifo(), "q": fifo()})
	before := listing(t, d)
	_, err := apply(d, a)
	if !errors.Is(err, ErrWrongBase) || !strings.Contains(err.Error(), "a named pipe") {
		t.Errorf("update of a file found as a named pipe: %v, want ErrWrongBase naming a named pipe", err)
	}
	if after := listing(t, d); after != before {
		t.Errorf("DIR changed:\n%s\nwas\n%s", after, before)
	}
	if os.Geteuid() != 0 {
		return
	}
	old = tr{"c": chardev(1, 3)}
	a = makeArchive(t, old, tr{"c": chardev(1, 3).withMode(0o600)})
	d = t.TempDir()
	materialize(t, d, tr{"c": chardev(1, 5)})
	if _, err := apply(d, a); !errors.Is(err, ErrWrongBase) || !strings.Contains(err.Error(), "character device 1,5") {
		t.Errorf("metadata change of device 1,3 found as 1,5: %v, want ErrWrongBase naming 1,5", err)
	}
}

// TestDevicesWithoutRoot checks what a run that may not make devices does
// with an archive that creates one: it refuses it, in a dry run too, and
// DIR stays as it was; a device already in place is no reason to refuse.
func TestDevicesWithoutRoot(t *testing.T) {
	defer func(f func() bool) { mayMakeDevices = f }(mayMakeDevices)
	mayMakeDevices = func() bool { return false }
	v1 := tr{"f": file("x\n"), "p": fifo()}
	v2 := v1.clone()
	v2["null"] = chardev(1, 3)
	d := t.TempDir()
	mustApply(t, d, makeArchive(t, tr{}, v1))
	before := listing(t, d)
	a := makeArchive(t, v1, v2)
	for _, dry := range []bool{true, false} {
		_, err := Apply(d, bytes.NewReader(a), Options{DryRun: dry})
		var pe *Error
		if !errors.Is(err, ErrUnsupported) || !errors.As(err, &pe) || pe.Path != "null" || !strings.Contains(pe.Fix, "root") {
			t.Errorf("dry run %t: %v, want ErrUnsupported for \"null\" with a hint to run as root", dry, err)
		}
		if after := listing(t, d); after != before {
			t.Errorf("dry run %t: DIR changed:\n%s\nwas\n%s", dry, after, before)
		}
	}
	if os.Geteuid() != 0 {
		return
	}
	// made by root earlier: a run without root finds it in place
	mayMakeDevices = func() bool { return true }
	mustApply(t, d, a)
	mayMakeDevices = func() bool { return false }
	v3 := v2.clone()
	v3["p"] = fifo().withMode(0o600)
	mustApply(t, d, makeArchive(t, v2, v3))
	if got, want := withoutRoot(listing(t, d)), treeListing(t, v3); got != want {
		t.Errorf("restored\n%s\nwant\n%s", got, want)
	}
}

// TestDeviceNumberTooLarge refuses a device whose number the system
// cannot hold (Linux keeps 12 bits of major and 20 of minor), which mknod
// would silently make as another device, before DIR changes.
func TestDeviceNumberTooLarge(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("devices need root")
	}
	d := t.TempDir()
	_, err := apply(d, makeArchive(t, tr{}, tr{"big": chardev(1, 1<<20)}))
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "cannot make") {
		t.Errorf("device 1,%d: %v, want ErrUnsupported", 1<<20, err)
	}
	if _, err := os.Lstat(filepath.Join(d, "big")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the device is in DIR: %v", err)
	}
}
