package patch

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden archives in format/archive/testdata")

// goldenDir holds the golden archives: full backups of goldenTree as the
// archive writer (ibt-pack) made them, in every codec, and the listing of
// the tree ibt-patch must restore from each.
const goldenDir = "../../format/archive/testdata"

func goldenTree() tr {
	big := make([]byte, 1500) // three blocks
	for i := range big {
		big[i] = byte(i * 7 % 251)
	}
	return tr{
		"README":        file("an archive kept for years\n").withMode(0o600),
		"bin":           dir(),
		"bin/tool":      file("#!/bin/sh\necho tool\n").withMode(0o755).withTime(baseTime - 3e9),
		"data":          dir().withMode(0o750).withTime(baseTime + 1e9),
		"data/big":      file(string(big)),
		"data/empty":    file(""),
		"data/link":     symlink("big"),
		"data/sub":      dir(),
		"data/sub/deep": file("deep\n").withTime(-1e9),
	}
}

// goldenArchive makes the full backup of goldenTree in codec.
func goldenArchive(t *testing.T, codec archive.Codec) []byte {
	h := format.Header{Kind: format.KindDelta, Version: format.Version, Hash: format.HashAlgorithm,
		Weak: format.WeakAlgorithm, Strong: format.StrongAlgorithm, Tool: "ibt-pack golden",
		Root: "/golden", DirMode: 0o755, DirMTime: baseTime + 2e9}
	return writeArchiveHeader(t, changes(tr{}, goldenTree()), goldenTree(), codec, h)
}

// TestGoldenArchives restores every golden archive into an empty directory
// and checks the tree against the recorded listing: an archive written by
// an earlier version must restore as it did. The uncompressed archive is
// also made again and must be byte for byte the same, which pins the
// archive's layout (member names, order, records); the compressed ones are
// only restored, as their bytes depend on the compressors' versions.
func TestGoldenArchives(t *testing.T) {
	names := map[archive.Codec]string{archive.None: "full.tar", archive.Gzip: "full.tar.gz", archive.LZ4: "full.tar.lz4", archive.Zstd: "full.tar.zst"}
	listingFile := filepath.Join(goldenDir, "full.listing")
	if *updateGolden {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for codec, name := range names {
			if err := os.WriteFile(filepath.Join(goldenDir, name), goldenArchive(t, codec), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d := filepath.Join(t.TempDir(), "restore")
		mustApply(t, d, goldenArchive(t, archive.None))
		if err := os.WriteFile(listingFile, []byte(listing(t, d)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(listingFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := treeListing(t, goldenTree()); !strings.HasSuffix(string(want), got) {
		t.Fatalf("%s is not the listing of the golden tree:\n%s\nwant it to end with\n%s", listingFile, want, got)
	}
	golden, err := os.ReadFile(filepath.Join(goldenDir, names[archive.None]))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(goldenArchive(t, archive.None), golden) {
		t.Errorf("the archive writer no longer makes %s byte for byte: the archive layout changed", names[archive.None])
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			a, err := os.ReadFile(filepath.Join(goldenDir, name))
			if err != nil {
				t.Fatal(err)
			}
			d := filepath.Join(t.TempDir(), "restore")
			mustApply(t, d, a)
			if got := listing(t, d); got != string(want) {
				t.Errorf("%s restores\n%s\nwant\n%s", name, got, want)
			}
		})
	}
}
