package patch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ibt-tools/ibt/internal/tree"
)

// reads runs fn and returns the paths whose content it read to hash.
func reads(t *testing.T, fn func()) []string {
	t.Helper()
	var got []string
	faults.read = func(p string) { got = append(got, p) }
	defer func() { faults.read = nil }()
	fn()
	slices.Sort(got)
	return got
}

// A restore chain reads what each archive changes, not the whole tree: the
// files the previous run verified are vouched for by the known file.
func TestChainReadsOnlyWhatChanges(t *testing.T) {
	d := restored(t, v1Tree())
	if !hasKnown(t, d) {
		t.Fatal("a restore of files with past mtimes left no known file")
	}
	inc := makeArchive(t, v1Tree(), v2Tree())
	if got := reads(t, func() { mustApply(t, d, inc) }); len(got) != 0 {
		t.Errorf("applying v2 after v1 read %q; want no file read", got)
	}
	if got, want := withoutRoot(listing(t, d)), treeListing(t, v2Tree()); got != want {
		t.Fatalf("patched tree differs:\n got:\n%s\nwant:\n%s", got, want)
	}

	// the same run without the known file reads every old version it
	// checks and every file it verifies
	d = restored(t, v1Tree())
	if err := os.Remove(knownPath(t, d)); err != nil {
		t.Fatal(err)
	}
	got := reads(t, func() { mustApply(t, d, inc) })
	for _, p := range []string{"a.txt", "big.bin", "delete.txt", "unchanged/u.txt"} {
		if !slices.Contains(got, p) {
			t.Errorf("without the known file, %q was not read (read: %q)", p, got)
		}
	}
}

// A file changed after the known file vouched for it is read again, even
// with its size and mtime put back: its ctime moved.
func TestKnownFileDoesNotVouchForAChangedFile(t *testing.T) {
	d := restored(t, v1Tree())
	time.Sleep(50 * time.Millisecond) // past any coarse clock tick
	p := filepath.Join(d, "unchanged", "u.txt")
	writeWithBaseTime(t, p, []byte("U\n"))
	// the archive does not touch u.txt: only the check of the paths it
	// leaves alone can see it
	refused(t, d, makeArchive(t, v1Tree(), v2Tree()), ErrWrongBase, "unchanged/u.txt")

	// and an old version changed so is not taken as the base
	d = restored(t, v1Tree())
	time.Sleep(50 * time.Millisecond)
	p = filepath.Join(d, "big.bin")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1] ^= 1 // the tail, which v2 does not copy
	writeWithBaseTime(t, p, data)
	refused(t, d, makeArchive(t, v1Tree(), v2Tree()), ErrWrongBase, "big.bin")
}

// knownTree makes files with past mtimes in a new directory and returns it,
// open, with the nodes of its files in path order.
func knownTree(t *testing.T, names ...string) (*knownPlace, []*tree.Node) {
	t.Helper()
	d := t.TempDir()
	var nodes []*tree.Node
	for _, n := range names {
		p := filepath.Join(d, n)
		writeWithBaseTime(t, p, []byte(n))
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, tree.NodeFromInfo(n, fi, ""))
	}
	place := openKnownPlace(d, t.TempDir())
	if place == nil {
		t.Fatal("no place for the known file")
	}
	t.Cleanup(place.close)
	return place, nodes
}

func hashFor(n *tree.Node) []byte { return bytes.Repeat([]byte(n.Path[:1]), 32) }

func writeKnown(t *testing.T, root *knownPlace, nodes []*tree.Node) {
	t.Helper()
	w, err := createKnown(root, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		w.add(n, hashFor(n))
	}
	if err := w.commit(); err != nil {
		t.Fatal(err)
	}
}

func TestKnownFileLookups(t *testing.T) {
	root, nodes := knownTree(t, "a", "b", "c", "d")
	writeKnown(t, root, nodes)
	k := openKnown(root)
	defer k.close()
	if h := k.lookup("a", nodes[0]); !bytes.Equal(h, hashFor(nodes[0])) {
		t.Errorf("lookup a = %x", h)
	}
	if h := k.lookup("b", nodes[2]); h != nil {
		t.Errorf("lookup of b with c's stat = %x, want nil", h)
	}
	if h := k.lookup("bb", nodes[1]); h != nil {
		t.Errorf("lookup of a path not recorded = %x, want nil", h)
	}
	if h := k.lookup("c", nodes[2]); !bytes.Equal(h, hashFor(nodes[2])) {
		t.Errorf("lookup c = %x", h)
	}
	if h := k.lookup("a", nodes[0]); h != nil {
		t.Errorf("lookup of a path before the last = %x, want nil", h)
	}
	if h := k.lookup("d", nodes[3]); !bytes.Equal(h, hashFor(nodes[3])) {
		t.Errorf("lookup d = %x", h)
	}
	if h := k.lookup("e", nodes[3]); h != nil {
		t.Errorf("lookup past the end = %x, want nil", h)
	}
}

// A file written within racyWindow of the walk, with an mtime as recent as
// its ctime, could change again within the same clock tick: it is not
// recorded, and a known file that would vouch for nothing is not kept.
func TestKnownFileSkipsRacyFiles(t *testing.T) {
	root, nodes := knownTree(t, "a")
	writeKnown(t, root, nodes)
	fresh := *nodes[0]
	fresh.MTime = fresh.CTime
	writeKnown(t, root, []*tree.Node{&fresh})
	if _, err := root.root.Lstat(root.name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a known file vouching for nothing was kept (%v)", err)
	}
	if k := openKnown(root); k != nil {
		t.Error("openKnown found a known file")
	}
}

// Whatever is done to the known file, a lookup finds the right hash or
// none, and never panics.
func TestDamagedKnownFile(t *testing.T) {
	root, nodes := knownTree(t, "a", "b", "c")
	writeKnown(t, root, nodes)
	good, err := root.root.ReadFile(root.name)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, b []byte) {
		t.Helper()
		if err := root.root.WriteFile(root.name, b, 0o600); err != nil {
			t.Fatal(err)
		}
		k := openKnown(root)
		defer k.close()
		for _, n := range nodes {
			if h := k.lookup(n.Path, n); h != nil && !bytes.Equal(h, hashFor(n)) {
				t.Fatalf("%s: lookup %s = %x, want %x or nothing", what, n.Path, h, hashFor(n))
			}
		}
	}
	for i := range len(good) {
		check("truncated", good[:i])
		b := slices.Clone(good)
		b[i] ^= 0x20
		check("flipped", b)
	}
}

// The verification takes the hash of a file the commit placed without
// reading it. Rewritten after its rename, with its size and mtime put back,
// the file passes that run's verification, but the known file must not
// vouch for it: the next run reads it and sees the difference.
func TestKnownFileDoesNotVouchForAFileRewrittenAfterItWasPlaced(t *testing.T) {
	d := restored(t, v1Tree())
	p := filepath.Join(d, "a.txt")
	rewritten := false
	faults.commitStep = func() {
		if data, err := os.ReadFile(p); rewritten || err != nil || string(data) != "alpha, changed\n" {
			return
		}
		time.Sleep(50 * time.Millisecond) // past any coarse clock tick
		if err := os.WriteFile(p, []byte("ALPHA, CHANGED\n"), 0o644); err != nil {
			t.Error(err)
		}
		if err := os.Chtimes(p, time.Time{}, time.Unix(0, baseTime)); err != nil {
			t.Error(err)
		}
		rewritten = true
	}
	mustApply(t, d, makeArchive(t, v1Tree(), v2Tree()))
	faults.commitStep = nil
	if !rewritten {
		t.Fatal("the commit never placed a.txt")
	}
	v2b := v2Tree()
	v2b["created.txt"] = file("changed once more, a.txt left alone\n")
	// the next archive, which leaves a.txt alone, would not verify
	refused(t, d, makeArchive(t, v2Tree(), v2b), ErrWrongBase, "")
}

// A known file that vouches for a base which is not the old version (here
// forged) makes a wrong new version; ibt-patch then reads the base and
// reports it as the wrong base, not the archive as damaged.
func TestWrongBaseBehindTheKnownFileIsNamed(t *testing.T) {
	d := restored(t, v1Tree())
	p := filepath.Join(d, "big.bin")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[100] ^= 1 // a region v2 copies
	writeWithBaseTime(t, p, data)
	root, err := os.OpenRoot(d)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	fi, err := root.Lstat("big.bin")
	if err != nil {
		t.Fatal(err)
	}
	place := openKnownPlace(d, testKnownDir)
	defer place.close()
	w, err := createKnown(place, time.Now().Add(time.Hour)) // no file is racy
	if err != nil {
		t.Fatal(err)
	}
	w.add(tree.NodeFromInfo("big.bin", fi, ""), entry("big.bin", v1Tree()["big.bin"]).Hash)
	if err := w.commit(); err != nil {
		t.Fatal(err)
	}
	refused(t, d, makeArchive(t, v1Tree(), v2Tree()), ErrWrongBase, "big.bin")
}

// On a filesystem that reports a file's mtime as its ctime, a file just
// placed shows an old ctime: no known file is kept there, and an earlier
// one goes.
func TestKnownFileDroppedWhereCtimeIsMadeUp(t *testing.T) {
	root, nodes := knownTree(t, "a", "b")
	writeKnown(t, root, nodes)
	w, err := createKnown(root, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		w.add(n, hashFor(n))
	}
	placed := *nodes[1]
	placed.CTime = placed.MTime // what sshfs reports for a file just renamed
	w.placedFile(&placed)
	if err := w.commit(); err != nil {
		t.Fatal(err)
	}
	if k := openKnown(root); k != nil {
		k.close()
		t.Error("a known file was kept where ctimes are made up")
	}
}

// NoKnown reads what the known file would vouch for, and leaves none.
func TestNoKnownReadsEveryFileAndKeepsNone(t *testing.T) {
	d := restored(t, v1Tree())
	inc := makeArchive(t, v1Tree(), v2Tree())
	got := reads(t, func() {
		if _, err := Apply(d, bytes.NewReader(inc), Options{NoKnown: true, KnownDir: testKnownDir}); err != nil {
			t.Fatal(err)
		}
	})
	for _, p := range []string{"a.txt", "big.bin", "unchanged/u.txt"} {
		if !slices.Contains(got, p) {
			t.Errorf("with NoKnown, %q was not read (read: %q)", p, got)
		}
	}
	if _, err := os.Lstat(filepath.Join(d, stagingName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("with NoKnown, the workspace is left in DIR (%v)", err)
	}
	if hasKnown(t, d) {
		t.Errorf("with NoKnown, the known file of DIR is kept")
	}
	if got, want := withoutRoot(listing(t, d)), treeListing(t, v2Tree()); got != want {
		t.Fatalf("patched tree differs:\n got:\n%s\nwant:\n%s", got, want)
	}
}

// A record keeps every field, times before 1970 and huge sizes included.
func TestKnownRecordRoundTrip(t *testing.T) {
	n := &tree.Node{Path: "dir/f", Type: tree.TypeFile, Dev: 1<<64 - 1, Inode: 7, Size: 1<<63 - 1, MTime: -1_000_000_123, CTime: -5}
	h := bytes.Repeat([]byte{0xab}, 32)
	k, ok := decodeKnown(encodeKnown(nil, n, h))
	if !ok || !k.matches(n) || k.path != n.Path || !bytes.Equal(k.hash, h) {
		t.Fatalf("decode(encode) = %+v, %v; want the node's fields and hash", k, ok)
	}
	if _, ok := decodeKnown(append(encodeKnown(nil, n, h), 0)); ok {
		t.Error("a record with a byte left over decoded")
	}
}

// writeWithBaseTime writes data to p with the mtime every test tree has:
// a file changed with its mtime put back.
func writeWithBaseTime(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, time.Time{}, time.Unix(0, baseTime)); err != nil {
		t.Fatal(err)
	}
}
