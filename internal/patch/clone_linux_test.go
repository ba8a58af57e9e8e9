package patch

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mountXFS mounts a fresh XFS image with reflink on a loop device and
// returns its mount point, or skips the test, saying why, where that
// cannot be done: it takes root, /dev/loop*, and mkfs.xfs (xfsprogs).
func mountXFS(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting an XFS image on a loop device takes root")
	}
	if _, err := exec.LookPath("mkfs.xfs"); err != nil {
		t.Skip("skipped: mkfs.xfs not found (install xfsprogs)")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip("skipped: no loop devices (/dev/loop-control)")
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "xfs.img"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.xfs", "-q", "-m", "reflink=1", img).CombinedOutput(); err != nil {
		t.Skipf("skipped: mkfs.xfs -m reflink=1: %v: %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot mount an XFS image on a loop device here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	return mnt
}

// extent is one extent of a file as FIEMAP reports it.
type extent struct {
	logical, physical, length uint64
	shared                    bool
}

// fiemap returns the extents of the file at p (as filefrag -v shows them),
// after flushing it so that delayed allocations have extents.
func fiemap(t *testing.T, p string) []extent {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const (
		fsIocFiemap   = 0xC020660B
		fiemapSync    = 0x1
		extentShared  = 0x2000
		headerSize    = 32
		extentSize    = 56
		extentsACall  = 512
		fiemapLastExt = 0x1
	)
	var out []extent
	var start uint64
	for {
		buf := make([]byte, headerSize+extentSize*extentsACall)
		hdr := (*[4]uint64)(unsafe.Pointer(&buf[0]))
		hdr[0], hdr[1] = start, ^uint64(0)-start
		*(*uint32)(unsafe.Pointer(&buf[16])) = fiemapSync
		*(*uint32)(unsafe.Pointer(&buf[24])) = extentsACall
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&buf[0]))); e != 0 {
			t.Fatalf("FIEMAP %s: %v", p, e)
		}
		n := *(*uint32)(unsafe.Pointer(&buf[20]))
		if n == 0 {
			return out
		}
		last := false
		for i := range int(n) {
			x := buf[headerSize+i*extentSize:]
			fe := (*[3]uint64)(unsafe.Pointer(&x[0]))
			flags := *(*uint32)(unsafe.Pointer(&x[40]))
			out = append(out, extent{fe[0], fe[1], fe[2], flags&extentShared != 0})
			start = fe[0] + fe[2]
			last = flags&fiemapLastExt != 0
		}
		if last {
			return out
		}
	}
}

// physicalAt returns the physical offset of the byte at logical offset off,
// and whether its extent is shared; ok is false in a hole.
func physicalAt(ext []extent, off uint64) (phys uint64, shared, ok bool) {
	for _, e := range ext {
		if off >= e.logical && off < e.logical+e.length {
			return e.physical + off - e.logical, e.shared, true
		}
	}
	return 0, false, false
}

// TestCloneSharesTheUnchangedExtents applies incrementals of a large file
// whose pages are rewritten in place to a reflink copy of the old tree on
// XFS: the file comes out exact, and every page the chain left alone still
// shares its extent with the old tree's file, so the patch wrote the
// change, not the file. An update that shifts the content (an insertion)
// comes out exact too.
func TestCloneSharesTheUnchangedExtents(t *testing.T) {
	mnt := mountXFS(t, 512<<20)
	const size, page = 24 << 20, 4096
	rng := rand.New(rand.NewPCG(21, 21))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	rewritten := map[int]bool{}
	rewrite := func(b []byte, n int) []byte {
		b = append([]byte(nil), b...)
		for range n {
			p := rng.IntN(len(b) / page)
			rewritten[p] = true
			for i := p * page; i < (p+1)*page; i++ {
				b[i] = byte(rng.Uint32())
			}
		}
		return b
	}
	v0 := tr{"db": file(string(data)), "small": file("a small file")}
	v1 := v0.clone()
	v1["db"] = file(string(rewrite(data, 40))).withTime(baseTime + 1e9)
	v2 := v1.clone()
	v2["db"] = file(string(rewrite([]byte(v1["db"].data), 40))).withTime(baseTime + 2e9)
	v2["small"] = file("changed")

	old, d := filepath.Join(mnt, "old"), filepath.Join(mnt, "restore")
	if err := os.Mkdir(old, 0o755); err != nil {
		t.Fatal(err)
	}
	materialize(t, old, v0)
	if out, err := exec.Command("cp", "-a", "--reflink=always", old, d).CombinedOutput(); err != nil {
		t.Fatalf("cp --reflink=always: %v: %s", err, out)
	}
	if got, want := withoutRoot(listing(t, d)), treeListing(t, v0); got != want {
		t.Fatalf("reflink copy:\n%s\nwant:\n%s", got, want)
	}
	mustApply(t, d, makeArchive(t, v0, v1))
	mustApply(t, d, makeArchive(t, v1, v2))
	if got, want := withoutRoot(listing(t, d)), treeListing(t, v2); got != want {
		t.Fatalf("restored tree:\n%s\nwant:\n%s", got, want)
	}
	got, err := os.ReadFile(filepath.Join(d, "db"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(v2["db"].data)) {
		t.Fatal("db differs from its new version")
	}

	before, after := fiemap(t, filepath.Join(old, "db")), fiemap(t, filepath.Join(d, "db"))
	var kept, notShared int
	for p := range size / page {
		if rewritten[p] {
			continue
		}
		pa, shared, ok := physicalAt(after, uint64(p*page))
		pb, _, okb := physicalAt(before, uint64(p*page))
		if !ok || !okb || !shared || pa != pb {
			notShared++
			continue
		}
		kept++
	}
	if notShared > 0 {
		t.Errorf("%d of the %d pages no update changed have an extent of their own (want all %d shared with the old tree's file)",
			notShared, kept+notShared, kept+notShared)
	}
	t.Logf("%d pages rewritten, %d still shared with the old tree, in %d extents", len(rewritten), kept, len(after))

	// An insertion shifts what follows: copies from other offsets.
	v3 := v2.clone()
	b := []byte(v2["db"].data)
	v3["db"] = file(string(b[:5<<20]) + strings.Repeat("inserted", 700) + string(b[5<<20:])).withTime(baseTime + 3e9)
	mustApply(t, d, makeArchive(t, v2, v3))
	if got, want := withoutRoot(listing(t, d)), treeListing(t, v3); got != want {
		t.Fatalf("after an insertion:\n%s\nwant:\n%s", got, want)
	}
}
