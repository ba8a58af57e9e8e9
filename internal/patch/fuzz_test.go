package patch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ibt-tools/ibt/format/archive"
)

func fuzzTrees() (tr, tr) {
	// escape points out of DIR, to the directory the fuzz target watches
	old := tr{"a.txt": file("alpha\n"), "d": dir(), "d/b": file("bee\n"), "l": symlink("a.txt"), "escape": symlink("../outside")}
	new := tr{"a.txt": file("alpha, changed\n"), "d": dir(), "c": file("sea\n"), "l": dir(), "l/x": file("x\n"), "escape": symlink("../outside")}
	return old, new
}

// FuzzApply applies arbitrary bytes as an archive to a small tree next to
// a directory outside it: it must never panic, never write outside DIR,
// and fail with DIR untouched unless the commit ran (then only the final
// verification may fail).
func FuzzApply(f *testing.F) {
	old, new := fuzzTrees()
	for _, codec := range []archive.Codec{archive.None, archive.Gzip, archive.LZ4, archive.Zstd} {
		a := makeArchiveCodec(f, old, new, codec)
		f.Add(a)
		for _, n := range []int{0, 10, 100, 512, 1024, len(a) / 2, len(a) - 1} {
			if n < len(a) {
				f.Add(a[:n])
			}
		}
		flipped := bytes.Clone(a)
		flipped[len(a)/3] ^= 1
		f.Add(flipped)
	}
	f.Add(makeArchive(f, tr{}, old))
	f.Add([]byte("random bytes, not an archive"))
	f.Fuzz(func(t *testing.T, data []byte) {
		top := t.TempDir()
		outside := filepath.Join(top, "outside")
		d := filepath.Join(top, "dir")
		os.Mkdir(outside, 0o755)
		os.WriteFile(filepath.Join(outside, "keep"), []byte("keep"), 0o644)
		os.Mkdir(d, 0o755)
		materialize(t, d, old)
		beforeTop, beforeOut := listing(t, top), listing(t, outside)
		beforeDir := listing(t, d)
		_, err := Apply(d, bytes.NewReader(data), Options{})
		if after := listing(t, outside); after != beforeOut {
			t.Fatalf("wrote outside DIR:\n%s\nthen:\n%s", beforeOut, after)
		}
		if err != nil && !errors.Is(err, ErrVerify) {
			if after := listing(t, d); after != beforeDir {
				t.Fatalf("failed (%v) and changed DIR:\n%s\nthen:\n%s", err, beforeDir, after)
			}
		}
		ents, _ := os.ReadDir(top)
		if len(ents) != 2 {
			t.Fatalf("created next to DIR: %v (before:\n%s)", ents, beforeTop)
		}
	})
}
