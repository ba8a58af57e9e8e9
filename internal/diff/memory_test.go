package diff

import (
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ibt-tools/ibt/format"
)

// TestDiffMillionEntriesBoundedMemory streams two synthetic indexes of a
// million files each through ibt-diff's merge join and checks that the heap
// never grows with the number of entries: the streams are generated on the
// fly and the output discarded, so anything held per entry would show.
func TestDiffMillionEntriesBoundedMemory(t *testing.T) {
	const n = 1_000_000
	const limit = 32 << 20
	old := indexStream(t, n, 0)
	new := indexStream(t, n, 1)
	oldR, err := format.NewReader(old)
	if err != nil {
		t.Fatal(err)
	}
	newR, err := format.NewReader(new)
	if err != nil {
		t.Fatal(err)
	}

	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // sample the heap while the join runs
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	w, err := format.NewWriter(io.Discard, format.Header{Kind: format.KindDiff, Tool: "test"}, format.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var updates int
	j := &join{oldName: "old", newName: "new"}
	err = j.run(oldR, newR, func(c *format.Change) error {
		if c.Op != format.OpUpdate {
			return fmt.Errorf("unexpected %s of %q", c.Op, c.Path())
		}
		updates++
		return w.WriteChange(c)
	}, nil)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(format.Trailer{}); err != nil {
		t.Fatal(err)
	}
	if want := n / 1000; updates != want {
		t.Errorf("got %d updates, want %d", updates, want)
	}
	if p := peak.Load(); p > limit {
		t.Errorf("heap in use peaked at %d MiB diffing %d entries; want under %d MiB", p>>20, n, limit>>20)
	} else {
		t.Logf("heap in use peaked at %.1f MiB over %d entries", float64(p)/(1<<20), n)
	}
}

// indexStream generates an index of n small files on the fly; with variant
// 1, every thousandth file has other content.
func indexStream(t *testing.T, n, variant int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		w, err := format.NewWriter(pw, format.Header{Kind: format.KindIndex, Tool: "test", Root: "/nowhere"}, format.WriterOptions{})
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		e := format.Entry{Type: format.TypeFile, Mode: 0o644, MTime: 1e18, Size: 100, BlockSize: uint32(format.BlockSize(100)), Hash: make([]byte, 32)}
		for i := range n {
			e.Path = fmt.Sprintf("d%04d/f%07d", i/1000, i)
			e.Hash[0], e.Hash[1] = byte(i), byte(i>>8)
			e.Hash[2] = 0
			if variant == 1 && i%1000 == 0 {
				e.Hash[2] = 1
			}
			if err := w.WriteEntry(&e); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(w.Close(format.Trailer{}))
	}()
	return pr
}
