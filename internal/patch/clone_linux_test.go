package patch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/ibt-tools/ibt/format"
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
	// Keep the leaves of this file (smaller than leavesMin), so that the
	// second update reads only what it wrote: its base is vouched for by
	// the known file the first one left.
	defer func(m int64) { leavesMin = m }(leavesMin)
	leavesMin = 1 << 20
	if read := readBytes(t, func() { mustApply(t, d, makeArchive(t, v0, v1)) }); read < size {
		t.Errorf("the first update read %d bytes: it must hash its new version whole (%d)", read, size)
	}
	if read := readBytes(t, func() { mustApply(t, d, makeArchive(t, v1, v2)) }); read > size/8 {
		t.Errorf("the second update read %d bytes of a %d-byte file with 40 pages rewritten: the cached leaves were not used", read, size)
	}
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

	// Leaves that do not give the old version's hash are not used.
	leaves := filepath.Join(testKnownDir, "leaves", hexHash(v2["db"]))
	lf, err := os.ReadFile(leaves)
	if err != nil {
		t.Fatalf("no cached leaves of the second version: %v", err)
	}
	lf[100] ^= 1
	if err := os.WriteFile(leaves, lf, 0o600); err != nil {
		t.Fatal(err)
	}
	// An insertion shifts what follows: copies from other offsets.
	v3 := v2.clone()
	b := []byte(v2["db"].data)
	v3["db"] = file(string(b[:5<<20]) + strings.Repeat("inserted", 700) + string(b[5<<20:])).withTime(baseTime + 3e9)
	if read := readBytes(t, func() { mustApply(t, d, makeArchive(t, v2, v3)) }); read < size {
		t.Errorf("with damaged leaves, the update read %d bytes: it must hash its new version whole (%d)", read, size)
	}
	if got, want := withoutRoot(listing(t, d)), treeListing(t, v3); got != want {
		t.Fatalf("after an insertion:\n%s\nwant:\n%s", got, want)
	}
}

// readBytes returns how many bytes this process read (rchar in
// /proc/self/io: read and pread, from the page cache or not) while f ran.
func readBytes(t *testing.T, f func()) int64 {
	t.Helper()
	rchar := func() int64 {
		b, err := os.ReadFile("/proc/self/io")
		if err != nil {
			t.Skipf("skipped: %v", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "rchar: "); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
		t.Skip("skipped: no rchar in /proc/self/io")
		return 0
	}
	before := rchar()
	f()
	return rchar() - before
}

// hexHash is the hex file hash of n's content, the name of its leaves.
func hexHash(n node) string {
	h := format.NewFileHasher(int64(len(n.data)), format.BlockSize(int64(len(n.data))))
	bs := format.BlockSize(int64(len(n.data)))
	for d := []byte(n.data); len(d) > 0; {
		k := min(bs, len(d))
		leaf := sha256.Sum256(d[:k])
		h.AddLeaves(leaf[:])
		d = d[k:]
	}
	return hex.EncodeToString(h.Sum())
}

// TestKilledWhileCloningThenRerunFinishes is the crash test on XFS with
// reflink, every update cloned: killed at points of the commit, every file
// is its old or new version, and a rerun finishes. (Killed while staging,
// a run leaves only its staging directory, which the next run empties; the
// staging crash points inject write faults, which take the one-pass path,
// and are left to TestKilledAtAnyPointThenRerunFinishes.)
func TestKilledWhileCloningThenRerunFinishes(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	mnt := mountXFS(t, 512<<20)
	n := 0
	newDir := func() string {
		n++
		d := filepath.Join(mnt, strconv.Itoa(n))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	killedAtAnyPoint(t, newDir, false, cloneMinEnv+"=0")
}
