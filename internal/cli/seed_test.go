package cli

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// headerOf returns a stream's header and its file entries by path.
func headerOf(t *testing.T, stream []byte) (format.Header, map[string]*format.Entry) {
	t.Helper()
	r, err := format.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := readAll(t, stream)
	files := map[string]*format.Entry{}
	for _, rec := range recs {
		if e, ok := rec.(*format.Entry); ok && e.Type == format.TypeFile {
			files[e.Path] = e
		}
	}
	return r.Header(), files
}

// TestSeeds checks what a user relies on: two indexes of one tree have
// different seeds and signatures but the same file and tree hashes; --prev
// keeps the previous seed, so the signatures it reuses stay valid; and a
// delta against the old index, whose seed the diff carries, still finds
// every unchanged block and restores the new tree.
func TestSeeds(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 300_000)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("big", big)
	write("small", []byte("hello"))

	idx1 := runTool(t, "ibt-sign", nil, src)
	idx2 := runTool(t, "ibt-sign", nil, src)
	h1, f1 := headerOf(t, idx1)
	h2, f2 := headerOf(t, idx2)
	if len(h1.Seed) != format.SeedLen || bytes.Equal(h1.Seed, h2.Seed) {
		t.Fatalf("seeds %x and %x: want two different ones of %d bytes", h1.Seed, h2.Seed, format.SeedLen)
	}
	if !bytes.Equal(treeHashOf(t, idx1), treeHashOf(t, idx2)) || !bytes.Equal(f1["big"].Hash, f2["big"].Hash) {
		t.Error("two indexes of one tree have different tree or file hashes")
	}
	if len(f1["big"].Sig) == 0 || bytes.Equal(f1["big"].Sig, f2["big"].Sig) {
		t.Error("two seeds gave the same signatures")
	}

	idx1Name := filepath.Join(root, "1.idx")
	if err := os.WriteFile(idx1Name, idx1, 0o644); err != nil {
		t.Fatal(err)
	}
	h3, f3 := headerOf(t, runTool(t, "ibt-sign", nil, "--prev", idx1Name, src))
	if !bytes.Equal(h3.Seed, h1.Seed) || !bytes.Equal(f3["big"].Sig, f1["big"].Sig) {
		t.Errorf("--prev: seed %x and signatures equal %v, want the previous seed %x and its signatures",
			h3.Seed, bytes.Equal(f3["big"].Sig, f1["big"].Sig), h1.Seed)
	}

	// a full backup, which carries no signatures and so no seed
	full := runTool(t, "ibt-diff", nil, "--full", idx1Name)
	if dh, _ := headerOf(t, full); len(dh.Seed) != 0 || dh.Time != 0 {
		t.Errorf("a full diff carries the seed %x and the walk time %d of no old index", dh.Seed, dh.Time)
	}
	restore := filepath.Join(root, "restore")
	runTool(t, "ibt-patch", runTool(t, "ibt-pack", runTool(t, "ibt-delta", full)), restore)
	changed := append(append([]byte("a new first line\n"), big[:150_000]...), big[150_100:]...)
	write("big", changed)
	newIdx := runTool(t, "ibt-sign", nil, src)
	diff := runTool(t, "ibt-diff", newIdx, idx1Name, "-")
	if dh, _ := headerOf(t, diff); !bytes.Equal(dh.Seed, h1.Seed) || dh.Time != h1.Time || h1.Time == 0 {
		t.Fatalf("diff seed %x and time %d, want the old index's %x and %d", dh.Seed, dh.Time, h1.Seed, h1.Time)
	}
	delta := runTool(t, "ibt-delta", diff)
	recs, _ := readAll(t, delta)
	var copied int64
	for _, rec := range recs {
		if c, ok := rec.(*format.Copy); ok {
			copied += c.Length
		}
	}
	if bs := int64(f1["big"].BlockSize); copied < int64(len(changed))-3*bs {
		t.Errorf("delta copies %d of %d bytes, want all but about 3 blocks of %d", copied, len(changed), bs)
	}
	if dh, _ := headerOf(t, delta); len(dh.Seed) != 0 || dh.Time != h1.Time {
		t.Errorf("the delta stream carries the seed %x and the time %d, want none and the old index's %d", dh.Seed, dh.Time, h1.Time)
	}
	runTool(t, "ibt-patch", runTool(t, "ibt-pack", delta), restore)
	if got, err := os.ReadFile(filepath.Join(restore, "big")); err != nil || !bytes.Equal(got, changed) {
		t.Errorf("restored content differs (%v)", err)
	}
}
