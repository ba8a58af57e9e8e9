package patch

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

// TestTopDirectoryAndExclusions checks that DIR itself gets the mode and
// mtime the archive records for the signed directory, and that what the
// tree was signed without (patterns in the header, .ibtignore files) may
// be in DIR: it is left alone and the verification passes.
func TestTopDirectoryAndExclusions(t *testing.T) {
	old := tr{"keep.txt": file("kept\n"), "sub": dir(), "sub/.ibtignore": file("*.o\n")}
	new := old.clone()
	new["new.txt"] = file("new\n")
	d := restored(t, old)
	for name, data := range map[string]string{"build.log": "excluded by the header", "sub/x.o": "excluded by sub/.ibtignore"} {
		if err := os.WriteFile(filepath.Join(d, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// x.o changed sub's mtime, which the archive does not change
	if err := os.Chtimes(filepath.Join(d, "sub"), time.Time{}, time.Unix(0, baseTime)); err != nil {
		t.Fatal(err)
	}
	topTime := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	h := format.Header{Kind: format.KindDelta, Version: format.Version, Hash: format.HashAlgorithm, Tool: "test",
		Exclude: []string{"*.log"}, DirMode: 0o750, DirMTime: topTime.UnixNano()}
	mustApply(t, d, writeArchiveHeader(t, changes(old, new), new, archive.Gzip, h))
	fi, err := os.Stat(d)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o750 || !fi.ModTime().Equal(topTime) {
		t.Errorf("DIR has mode %v and mtime %v, want 0750 and %v", fi.Mode().Perm(), fi.ModTime(), topTime)
	}
	for _, name := range []string{"build.log", "sub/x.o", "new.txt"} {
		if _, err := os.Stat(filepath.Join(d, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	// without the header's pattern, build.log is an entry the new tree
	// does not have
	d2 := restored(t, old)
	os.WriteFile(filepath.Join(d2, "build.log"), nil, 0o644)
	h.Exclude = nil
	if _, err := apply(d2, writeArchiveHeader(t, changes(old, new), new, archive.Gzip, h)); err == nil {
		t.Error("an entry the archive does not know went unnoticed")
	}
}

// TestNoSync checks that a run that skips the flushes to disk still
// applies and verifies the archive.
func TestNoSync(t *testing.T) {
	old, new := renameTrees()
	d := restored(t, old)
	if _, err := Apply(d, bytes.NewReader(makeArchive(t, old, new)), Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	if got, want := withoutRoot(listing(t, d)), treeListing(t, new); got != want {
		t.Fatalf("tree:\n%s\nwant:\n%s", got, want)
	}
}
