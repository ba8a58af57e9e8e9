//go:build linux

package cli

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// bigFileSize is the size of the file TestBigFileConstantMemory backs up:
// the size issue 5 names, larger than the memory of many machines.
const bigFileSize = 20 << 30

// bigFileRSSLimit is the peak resident set every command must stay under.
const bigFileRSSLimit = 64 << 20

// TestBigFileConstantMemory runs the real commands, built from this
// module, on a 20 GiB sparse file and a copy of it with a few pages
// rewritten: ibt-sign of both, ibt-diff, ibt-delta, ibt-pack, then ibt-patch
// of the old tree. Each command's peak RSS must stay under 64 MiB, and the
// patched file must be the new one. It reads about 60 GiB and writes 20,
// for minutes, so it runs only when IBT_BIGFILE=1 asks for it.
func TestBigFileConstantMemory(t *testing.T) {
	if testing.Short() || os.Getenv("IBT_BIGFILE") != "1" {
		t.Skip("reads 60 GiB and writes 20 GiB: set IBT_BIGFILE=1 to run it")
	}
	work := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(work, &fs); err != nil {
		t.Fatal(err)
	}
	// ibt-patch writes the new file in full next to the old one.
	if free := int64(fs.Bavail) * int64(fs.Bsize); free < bigFileSize+4<<30 {
		t.Skipf("%d GiB free in %s; the test needs %d", free>>30, work, (bigFileSize+4<<30)>>30)
	}
	bin := buildTools(t, filepath.Join(work, "bin"))

	old, new := filepath.Join(work, "old"), filepath.Join(work, "new")
	oldFile := filepath.Join(old, "disk.img")
	newFile := filepath.Join(new, "disk.img")
	regions := writeSparse(t, oldFile, nil)
	writeSparse(t, newFile, regions)

	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, name), args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		if err != nil {
			t.Fatalf("%s %q: %v\n%s", name, args, err, stderr.Bytes())
		}
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
		t.Logf("%-9s %6.1f s  peak RSS %5.1f MiB", name, took.Seconds(), float64(rss)/(1<<20))
		if rss >= bigFileRSSLimit {
			t.Errorf("%s: peak RSS %d MiB on a %d GiB file, want under %d MiB", name, rss>>20, bigFileSize>>30, bigFileRSSLimit>>20)
		}
	}
	idx := func(name string) string { return filepath.Join(work, name) }
	run("ibt-sign", "-o", idx("old.idx"), old)
	run("ibt-sign", "-o", idx("new.idx"), new)
	run("ibt-diff", "-o", idx("inc.diff"), idx("old.idx"), idx("new.idx"))
	run("ibt-delta", "-o", idx("inc.delta"), idx("inc.diff"))
	run("ibt-pack", "-o", idx("inc.tar.gz"), idx("inc.delta"))
	if fi, err := os.Stat(idx("inc.tar.gz")); err == nil {
		t.Logf("archive: %d bytes", fi.Size())
	}
	run("ibt-patch", old, "-i", idx("inc.tar.gz"))
	// ibt-patch verified the file's hash against the new index; compare
	// its data where the versions differ, as a check of that check.
	sameData(t, oldFile, newFile, regions)
}

// sameData checks that the files a and b have the same size and the same
// bytes in the regions writeSparse wrote.
func sameData(t *testing.T, a, b string, regions []int64) {
	t.Helper()
	read := func(name string, off int64, n int) []byte {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err != nil || fi.Size() != bigFileSize {
			t.Fatalf("%q: size or error %v, want %d bytes", name, err, bigFileSize)
		}
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		return buf
	}
	for _, off := range append(regions, bigFilePages(regions)...) {
		if !bytes.Equal(read(a, off, 1<<20), read(b, off, 1<<20)) {
			t.Errorf("the patched file differs from the new one in the MiB at %d", off)
		}
	}
}

// buildTools builds the five commands of a backup into dir.
func buildTools(t *testing.T, dir string) string {
	t.Helper()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, c := range []string{"ibt-sign", "ibt-diff", "ibt-delta", "ibt-pack", "ibt-patch"} {
		args = append(args, "github.com/ibt-tools/ibt/cmd/"+c)
	}
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// writeSparse makes a sparse file of bigFileSize holding 1 MiB of random
// data in each of a few regions, at the start, the end, and odd offsets
// between. Given the regions of an older version, it writes them too and
// then rewrites a few 4 KiB pages, in them and in the holes; it returns the
// regions' offsets.
func writeSparse(t *testing.T, name string, older []int64) []int64 {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(bigFileSize); err != nil {
		t.Skipf("no sparse file of %d GiB here: %v", bigFileSize>>30, err)
	}
	regions := []int64{0, 3<<30 + 12345, 7 << 30, 11<<30 + 4096*7, 16<<30 - 1<<20, bigFileSize - 1<<20}
	rng := rand.New(rand.NewPCG(5, 20))
	data := make([]byte, 1<<20)
	for _, off := range regions {
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		if _, err := f.WriteAt(data, off); err != nil {
			t.Fatal(err)
		}
	}
	if older != nil {
		page := make([]byte, 4096)
		for i, off := range bigFilePages(regions) {
			for j := range page {
				page[j] = byte(i + j)
			}
			if _, err := f.WriteAt(page, off); err != nil {
				t.Fatal(err)
			}
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if used := st.Blocks * 512; used > 64<<20 {
		t.Skipf("this filesystem stores the sparse file in %d MiB: no holes", used>>20)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return regions
}

// bigFilePages are the offsets of the pages the new version rewrites: in
// the data regions, at the very end, and in holes.
func bigFilePages(regions []int64) []int64 {
	return []int64{regions[1] + 40960, regions[3] + 8192, 9<<30 + 4096, regions[5] + 1<<20 - 4096, 1 << 20}
}
