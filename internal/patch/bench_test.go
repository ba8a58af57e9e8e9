package patch

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ibt-tools/ibt/internal/streamtest"
)

// BenchmarkApplyUpdate applies the update of a 256 MiB file with 1,000
// rewritten 4 KiB pages, alternately forwards and backwards, so every
// iteration really patches: checking the base hash, rebuilding the file in
// staging while hashing it, the rename, and verifying the tree.
func BenchmarkApplyUpdate(b *testing.B) {
	const size = 256 << 20
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, size)
	for i := 0; i+8 <= len(data); i += 8 {
		v := rng.Uint64()
		for k := range 8 {
			data[i+k] = byte(v >> (8 * k))
		}
	}
	old := tr{"db": file(string(data))}
	for range 1000 {
		page := rng.IntN(size/4096) * 4096
		for k := range 4096 {
			data[page+k] = byte(rng.Uint32())
		}
	}
	new := tr{"db": file(string(data))}
	forward, backward := makeArchive(b, old, new), makeArchive(b, new, old)
	b.Logf("archive: %d bytes (%.2f%% of the file)", len(forward), 100*float64(len(forward))/size)
	d := filepath.Join(b.TempDir(), "dir")
	os.Mkdir(d, 0o755)
	materialize(b, d, old)
	b.SetBytes(2 * size)
	b.ResetTimer()
	c := streamtest.CPUTime()
	for b.Loop() {
		mustApply(b, d, forward)
		mustApply(b, d, backward)
	}
	streamtest.ReportCPU(b, c, 2*size)
}

// BenchmarkStageDurable writes a 256 MiB new version to a staged file as
// onePass does (hashed on all cores as it is written, its writeback
// started as it goes) and flushes it to disk, as the claim does before the
// commit: with and without the flushes started while it is written. Run
// it on a disk (TMPDIR), not tmpfs.
func BenchmarkStageDurable(b *testing.B) {
	const size = 256 << 20
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i+8 <= len(data); i += 8 {
		v := rng.Uint64()
		for k := range 8 {
			data[i+k] = byte(v >> (8 * k))
		}
	}
	for _, flush := range []bool{false, true} {
		b.Run(fmt.Sprintf("flush=%v", flush), func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(size)
			for b.Loop() {
				f, err := os.Create(filepath.Join(dir, "staged"))
				if err != nil {
					b.Fatal(err)
				}
				sparse := &sparseWriter{f: f, piece: writePiece, flush: flush}
				h := newHashWriter(sparse, size)
				if _, err := h.Write(data); err != nil {
					b.Fatal(err)
				}
				if _, err := h.Sum(); err != nil {
					b.Fatal(err)
				}
				h.close()
				if err := sparse.finish(); err != nil {
					b.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
				f.Close()
				os.Remove(f.Name())
			}
		})
	}
}
