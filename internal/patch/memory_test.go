package patch

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

// writeManyFiles writes, straight to a file, the full archive of a tree of
// n tiny files, 1,000 to a directory, and returns its path.
func writeManyFiles(t testing.TB, n int) string {
	t.Helper()
	name := filepath.Join(fastTempDir(t), "many.tar")
	out, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w, err := archive.NewWriter(out, format.Header{Kind: format.KindDelta, Version: format.Version, Hash: format.HashAlgorithm, Tool: "test"},
		archive.WriterOptions{Codec: archive.None})
	if err != nil {
		t.Fatal(err)
	}
	const content = "tiny\n"
	proto := entry("", file(content))
	th := format.NewTreeHasher()
	add := func(e *format.Entry) {
		th.Add(e)
		if err := w.AddChange(&format.Change{Op: format.OpCreate, New: e}); err != nil {
			t.Fatal(err)
		}
		if e.Type == format.TypeFile {
			if err := w.WriteContent([]byte(content)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range n {
		if i%1000 == 0 {
			add(entry(fmt.Sprintf("d%04d", i/1000), dir()))
		}
		e := *proto
		e.Path = fmt.Sprintf("d%04d/f%04d", i/1000, i%1000)
		add(&e)
	}
	if err := w.Close(format.Trailer{TreeHash: th.Sum()}); err != nil {
		t.Fatal(err)
	}
	return name
}

// fastTempDir is a new temporary directory in memory where there is one:
// these tests are about memory, and creating many files on a busy disk is
// slow.
func fastTempDir(t testing.TB) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "ibt-patch-test-*"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

// heapPeak applies the archive at name to a new directory and returns the
// most heap in use meanwhile, above what was in use before. The collector
// runs often meanwhile, so that the heap in use is close to what is live.
func heapPeak(t *testing.T, name string) uint64 {
	t.Helper()
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	_, err = Apply(filepath.Join(fastTempDir(t), "dir"), f, Options{})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return max(peak.Load(), base) - base
}

// TestMemoryDoesNotGrowWithTheTree restores 5,000 then 20,000 files: the
// heap they need must differ by a constant, not by 15,000 steps (which
// would hold some 10 MiB).
func TestMemoryDoesNotGrowWithTheTree(t *testing.T) {
	// Each run is measured twice: a first run can start from a heap still
	// holding an earlier test's garbage, and then reads too low; on a busy
	// machine the collector can lag behind a run, which then reads too
	// high. The small tree's higher peak and the large one's lower are
	// compared: a heap that grows with the tree still grows in both.
	smallArchive := writeManyFiles(t, 5000)
	small := max(heapPeak(t, smallArchive), heapPeak(t, smallArchive))
	largeArchive := writeManyFiles(t, 20000)
	large := min(heapPeak(t, largeArchive), heapPeak(t, largeArchive))
	t.Logf("heap peak: %.1f MiB for 5,000 files, %.1f MiB for 20,000", mib(small), mib(large))
	if large > small+3<<20 {
		t.Errorf("heap peak grows with the number of files: %.1f MiB for 5,000, %.1f MiB for 20,000", mib(small), mib(large))
	}
}

// TestMemoryBoundedOnALargeTree restores 200,000 files within 48 MiB of
// heap. It takes some 20 s, so it runs only with IBT_LARGE_TESTS=1.
func TestMemoryBoundedOnALargeTree(t *testing.T) {
	if os.Getenv("IBT_LARGE_TESTS") == "" {
		t.Skip("set IBT_LARGE_TESTS=1 to restore 200,000 files")
	}
	peak := heapPeak(t, writeManyFiles(t, 200000))
	t.Logf("heap peak: %.1f MiB for 200,000 files", mib(peak))
	if peak > 48<<20 {
		t.Errorf("heap peak %.1f MiB restoring 200,000 files, want under 48 MiB", mib(peak))
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }
