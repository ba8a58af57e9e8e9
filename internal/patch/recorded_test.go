package patch

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
	"github.com/ibt-tools/ibt/internal/tree"
)

// signedArchive returns the archive from old to new as ibt-sign, ibt-diff,
// ibt-delta and ibt-pack make it when the old index is of the tree in d:
// its old entries carry the device, inode and ctime of d's files, and its
// header the time of that index's walk.
func signedArchive(t *testing.T, d string, old, new tr, walk time.Time) []byte {
	t.Helper()
	cs := changes(old, new)
	for _, c := range cs {
		if c.Old == nil || c.Old.Type != format.TypeFile {
			continue
		}
		stampOld(t, d, c.Old)
	}
	h := format.Header{Kind: format.KindDelta, Version: format.Version, Hash: format.HashAlgorithm, Tool: "test", Time: walk.UnixNano()}
	return writeArchiveHeader(t, cs, new, archive.Gzip, h)
}

// stampOld gives e what lstat says of its file in d, as ibt-sign records it.
func stampOld(t *testing.T, d string, e *format.Entry) {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(d, e.Path))
	if err != nil {
		t.Fatal(err)
	}
	n := tree.NodeFromInfo(e.Path, fi, "")
	if n.Inode == 0 {
		t.Skip("this system reports no inode numbers: the quick check is off")
	}
	e.Dev, e.Inode, e.CTime = n.Dev, n.Inode, n.CTime
}

// walkedLater lets archives say their old index was made up to a minute
// from now, after the files the test writes: ibt-patch believes no walk
// time beyond its clock.
func walkedLater(t *testing.T) {
	faults.later = time.Minute
	t.Cleanup(func() { faults.later = 0 })
}

// signedTree returns a directory holding v1Tree as written (no known file),
// the tree an old index is made of.
func signedTree(t *testing.T) string {
	t.Helper()
	walkedLater(t)
	d := filepath.Join(t.TempDir(), "tree")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	materialize(t, d, v1Tree())
	return d
}

// oldFilesChanged lists the files of v1Tree that the archive to v2Tree
// updates, deletes, replaces or changes the metadata of: the files whose
// old version ibt-patch checks.
func oldFilesChanged() []string {
	var ps []string
	for _, c := range changes(v1Tree(), v2Tree()) {
		if c.Old != nil && c.Old.Type == format.TypeFile && c.Old.Size > 0 {
			ps = append(ps, c.Path())
		}
	}
	return ps
}

// Patching the tree the old index was made of reads none of the files the
// archive changes: the old index read them, and their inode and ctime show
// they are unchanged since. Only the files the archive leaves alone are
// read, by the verification, as there is no known file yet.
func TestOldIndexVouchesForTheTreeItWasMadeOf(t *testing.T) {
	d := signedTree(t)
	inc := signedArchive(t, d, v1Tree(), v2Tree(), time.Now().Add(3*time.Second))
	got := reads(t, func() { mustApply(t, d, inc) })
	for _, p := range oldFilesChanged() {
		if slices.Contains(got, p) {
			t.Errorf("%q was read, but the old index vouched for it (read: %q)", p, got)
		}
	}
	if !slices.Contains(got, "unchanged/u.txt") {
		t.Errorf("the verification did not read unchanged/u.txt, which nothing vouches for (read: %q)", got)
	}
	if got, want := withoutRoot(listing(t, d)), treeListing(t, v2Tree()); got != want {
		t.Fatalf("patched tree differs:\n got:\n%s\nwant:\n%s", got, want)
	}
}

// The old index vouches only where ibt-sign --prev would trust it; every
// other case reads the old versions it checks.
func TestOldIndexDoesNotVouch(t *testing.T) {
	later := func() time.Time { return time.Now().Add(3 * time.Second) }
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, d string) (dir string, archive []byte, opt Options)
	}{
		{"an archive that does not say when its old index was made", func(t *testing.T, d string) (string, []byte, Options) {
			return d, signedArchive(t, d, v1Tree(), v2Tree(), time.Time{}), Options{}
		}},
		{"files changed within the clock's reach of the walk", func(t *testing.T, d string) (string, []byte, Options) {
			return d, signedArchive(t, d, v1Tree(), v2Tree(), time.Now()), Options{}
		}},
		{"an archive whose old index was made at a time still to come", func(t *testing.T, d string) (string, []byte, Options) {
			return d, signedArchive(t, d, v1Tree(), v2Tree(), time.Now().Add(2*time.Minute)), Options{}
		}},
		{"a dry run", func(t *testing.T, d string) (string, []byte, Options) {
			return d, signedArchive(t, d, v1Tree(), v2Tree(), later()), Options{DryRun: true}
		}},
		{"--no-known", func(t *testing.T, d string) (string, []byte, Options) {
			return d, signedArchive(t, d, v1Tree(), v2Tree(), later()), Options{NoKnown: true}
		}},
		{"a copy of the tree", func(t *testing.T, d string) (string, []byte, Options) {
			inc := signedArchive(t, d, v1Tree(), v2Tree(), later())
			c := filepath.Join(t.TempDir(), "copy")
			if err := os.Mkdir(c, 0o755); err != nil {
				t.Fatal(err)
			}
			materialize(t, c, v1Tree())
			return c, inc, Options{}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, inc, opt := tc.setup(t, signedTree(t))
			var err error
			got := reads(t, func() { _, err = Apply(dir, bytes.NewReader(inc), opt) })
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range oldFilesChanged() {
				if !slices.Contains(got, p) {
					t.Errorf("%q was not read (read: %q)", p, got)
				}
			}
			want := v2Tree()
			if opt.DryRun {
				want = v1Tree()
			}
			if got, want := withoutRoot(listing(t, dir)), treeListing(t, want); got != want {
				t.Fatalf("tree differs:\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// A file written after the old index was made is not its old version,
// even with its size and mtime put back: its ctime moved, so it is read,
// and refused.
func TestOldIndexDoesNotVouchForAChangedFile(t *testing.T) {
	for p, class := range map[string]error{"big.bin": ErrWrongBase, "delete.txt": ErrConflict, "change-mode.sh": ErrWrongBase} {
		t.Run(p, func(t *testing.T) {
			d := signedTree(t)
			inc := signedArchive(t, d, v1Tree(), v2Tree(), time.Now().Add(3*time.Second))
			time.Sleep(50 * time.Millisecond) // past any coarse clock tick
			full := filepath.Join(d, p)
			data, err := os.ReadFile(full)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)-1] ^= 1 // the tail, which v2 does not copy
			writeWithBaseTime(t, full, data)
			refused(t, d, inc, class, p)
		})
	}
}

// An archive whose old entry claims a file's inode and times with another
// hash is not believed blindly: the new version built from the file fails
// its hash, the file is then read, and the archive refused, DIR unchanged.
func TestOldIndexThatLiesIsCaught(t *testing.T) {
	d := signedTree(t)
	v1 := v1Tree()
	other := v1.clone()
	// the archive's old big.bin already has v2's rewritten page, which
	// its delta then copies from the file on disk, which does not
	big := []byte(other["big.bin"].data)
	copy(big[30000:], "a rewritten page in the middle")
	other["big.bin"] = file(string(big))
	cs := changes(other, v2Tree())
	for _, c := range cs {
		if c.Path() == "big.bin" {
			stampOld(t, d, c.Old)
		}
	}
	h := format.Header{Kind: format.KindDelta, Version: format.Version, Hash: format.HashAlgorithm, Tool: "test",
		Time: time.Now().Add(3 * time.Second).UnixNano()}
	refused(t, d, writeArchiveHeader(t, cs, v2Tree(), archive.Gzip, h), ErrWrongBase, "big.bin")
}

// recorded vouches for a file only if every field of the old index's record
// still holds, and only for a file recorded well before the walk.
func TestRecordedNeedsEveryField(t *testing.T) {
	const walk = int64(100 * time.Second)
	cutoff := recordedCutoff(format.Header{Time: walk}, false, time.Unix(0, walk))
	e := &format.Entry{Path: "f", Type: format.TypeFile, Size: 10, MTime: 5, Dev: 7, Inode: 9, CTime: 6, Hash: make([]byte, 32)}
	n := tree.Node{Path: "f", Type: tree.TypeFile, Size: 10, MTime: 5, Dev: 7, Inode: 9, CTime: 6}
	d := &disk{recordedCutoff: cutoff}
	if !d.recorded(&n, e) {
		t.Fatal("an unchanged file recorded long before the walk is not vouched for")
	}
	for name, change := range map[string]func(n *tree.Node, e *format.Entry){
		"another inode":        func(n *tree.Node, e *format.Entry) { n.Inode++ },
		"another device":       func(n *tree.Node, e *format.Entry) { n.Dev++ },
		"another size":         func(n *tree.Node, e *format.Entry) { n.Size++ },
		"another mtime":        func(n *tree.Node, e *format.Entry) { n.MTime++ },
		"another ctime":        func(n *tree.Node, e *format.Entry) { n.CTime++ },
		"not a file on disk":   func(n *tree.Node, e *format.Entry) { n.Type = tree.TypeSymlink },
		"not a file recorded":  func(n *tree.Node, e *format.Entry) { e.Type = format.TypeSymlink },
		"no inode numbers":     func(n *tree.Node, e *format.Entry) { n.Inode, e.Inode = 0, 0 },
		"no hash recorded":     func(n *tree.Node, e *format.Entry) { e.Hash = nil },
		"changed at the limit": func(n *tree.Node, e *format.Entry) { n.CTime, e.CTime = cutoff, cutoff },
	} {
		n, e := n, *e
		change(&n, &e)
		if d.recorded(&n, &e) {
			t.Errorf("%s: vouched for", name)
		}
	}
	for name, tc := range map[string]struct {
		time    int64
		noKnown bool
	}{
		"no walk time":           {0, false},
		"a walk time that wraps": {math.MinInt64 + 1, false},
		"a walk time to come":    {walk + 1, false},
		"--no-known":             {walk, true},
	} {
		if c := recordedCutoff(format.Header{Time: tc.time}, tc.noKnown, time.Unix(0, walk)); c != 0 {
			t.Errorf("%s: cutoff %d, want none", name, c)
		}
	}
}
