package patch

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
	"github.com/ibt-tools/ibt/internal/powerloss"
)

var powerLossAll = flag.Bool("powerloss.all", false, "cut the power after every operation of the power-loss tests, not a sample of them")

func init() {
	if os.Getenv(powerLossEnv) == "" {
		return
	}
	dir, _, _ := strings.Cut(os.Getenv(helperEnv), "\n")
	faults.syncfs = func() error { return unix.Setxattr(dir, powerloss.SyncfsAttr, nil, 0) }
}

// powerLossScenario is one ibt-patch to cut the power of: DIR holds old
// (or does not exist, if old is nil) and the archive turns it into new.
type powerLossScenario struct {
	name     string
	old, new tr
	sample   int // crash points between flushes in go test; -powerloss.all takes every one
	// edit, if not nil, changes the archive's changes before it is written
	edit func(cs []*format.Change)
}

// TestPowerLossPatch runs ibt-patch on the power-loss filesystem and cuts
// the power at every flush and at points spread between them; what
// survives must hold every file in its old or its new version, metadata
// included, and the same ibt-patch run again must finish the new tree.
func TestPowerLossPatch(t *testing.T) {
	if why := powerloss.Available(); why != "" {
		t.Skipf("no power-loss filesystem: %s", why)
	}
	fullNew := smallTree(rand.New(rand.NewPCG(3, 4)), 6, 5)
	incOld := smallTree(rand.New(rand.NewPCG(5, 6)), 3, 4)
	incNew := everyChange(incOld)
	// over maxFsyncs changes: one syncfs instead of fsyncs
	manyOld := smallTree(rand.New(rand.NewPCG(7, 8)), 4, 6)
	manyNew := everyChange(manyOld)
	for p, n := range manyOld {
		if strings.HasPrefix(p, "d3/") || strings.HasPrefix(p, "d2/f") {
			manyNew[p] = file(n.data + "appended\n")
		}
	}
	manyNew["d3/renamed-dir"] = dir()
	for _, sc := range []powerLossScenario{
		{name: "full", new: fullNew, sample: 20},
		{name: "incremental-fsyncs", old: incOld, new: incNew, sample: 25},
		{name: "incremental-syncfs", old: manyOld, new: manyNew, sample: 20},
		rewrittenSourceScenario(),
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			powerLossRun(t, sc)
		})
	}
}

// rewrittenSourceScenario is an archive as ibt-merge writes a copy of a
// file that the next archive edits: the copies take the old version of a
// file the archive updates, one before it in path order and one after, so
// ibt-patch keeps that old version until both are in place.
func rewrittenSourceScenario() powerLossScenario {
	old := smallTree(rand.New(rand.NewPCG(9, 10)), 3, 3)
	n := old.clone()
	n["d1/a-copy"] = old["d1/f1"]
	n["d1/z-copy"] = old["d1/f1"]
	n["d1/f1"] = file(old["d1/f1"].data + "edited after the copies\n").withTime(baseTime + 5)
	return powerLossScenario{name: "rewritten-source", old: old, new: n, sample: 20, edit: func(cs []*format.Change) {
		for _, c := range cs {
			if p := c.Path(); p == "d1/a-copy" || p == "d1/z-copy" {
				c.From, c.FromNew = "d1/f1", false
			}
		}
	}}
}

// smallTree is a tree of dirs directories of files files each, small
// enough for a run of a few hundred operations.
func smallTree(rng *rand.Rand, dirs, files int) tr {
	t := tr{}
	for d := range dirs {
		dp := fmt.Sprintf("d%d", d)
		t[dp] = dir()
		for f := range files {
			b := make([]byte, 200+rng.IntN(3000))
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			t[fmt.Sprintf("%s/f%d", dp, f)] = file(string(b)).withMode(0o644 - uint32(f%2)*0o040).withTime(baseTime + int64(d*100+f))
		}
	}
	t["link"] = symlink("d0/f0")
	return t
}

// everyChange changes old by one of each kind: an update, a creation, a
// deletion, a rename, a copy, type changes both ways and a change of
// metadata, under 16 changes (so that ibt-patch fsyncs them one by one).
func everyChange(old tr) tr {
	n := old.clone()
	b := []byte(old["d0/f0"].data)
	copy(b[len(b)/2:], "an update in the middle")
	n["d0/f0"] = file(string(b)).withTime(baseTime + 7)
	n["d0/new"] = file("created\n")
	delete(n, "d0/f1")
	n["d1/renamed"] = old["d1/f2"]
	delete(n, "d1/f2")
	n["d2/copy"] = old["d2/f0"]
	n["d1/f3"] = dir() // a file became a directory
	n["d1/f3/in"] = file("inside\n")
	n["link"] = file("the symlink became a file\n")
	n["d2/f1"] = old["d2/f1"].withMode(0o600).withTime(baseTime + 99)
	return n
}

func powerLossRun(t *testing.T, sc powerLossScenario) {
	arch := filepath.Join(t.TempDir(), "archive.tar.gz")
	a := makeArchive(t, sc.old, sc.new)
	if sc.edit != nil {
		cs := changes(sc.old, sc.new)
		sc.edit(cs)
		a = writeArchive(t, cs, sc.new, archive.Gzip)
	}
	if err := os.WriteFile(arch, a, 0o644); err != nil {
		t.Fatal(err)
	}
	want := treeListing(t, sc.new)
	// fresh returns a backing directory holding DIR as before the patch
	fresh := func() string {
		b := t.TempDir()
		if sc.old != nil {
			d := filepath.Join(b, "dir")
			os.Mkdir(d, 0o755)
			materialize(t, d, sc.old)
		}
		return b
	}

	// the clean run: its operations and flushes
	b := fresh()
	mnt := t.TempDir()
	p, err := powerloss.Mount(b, mnt, powerloss.Options{})
	if err != nil {
		t.Skipf("no power-loss filesystem: mount: %v", err)
	}
	if crashed, out := powerLossPatch(t, p, mnt, arch); crashed {
		t.Fatalf("the clean run failed:\n%s", out)
	}
	total, flushes := p.Ops()
	syncfs := p.Syncfs()
	p.Unmount()
	if got := withoutRoot(listing(t, filepath.Join(b, "dir"))); got != want {
		t.Fatalf("the clean run's tree:\n%s\nwant:\n%s", got, want)
	}

	// the crash points: just before and just after every flush, and
	// others spread evenly between
	points := map[int]bool{}
	for _, f := range flushes {
		points[f-1], points[f] = true, true
	}
	step := max(1, total/sc.sample)
	if *powerLossAll {
		step = 1
	}
	for k := 0; k < total; k += step {
		points[k] = true
	}
	ks := make([]int, 0, len(points))
	for k := range points {
		ks = append(ks, k)
	}
	slices.Sort(ks)

	rng := rand.New(rand.NewPCG(uint64(total), 7))
	for i, k := range ks {
		// a cut keeps the flushed state; every third one also some of
		// the name changes not flushed, as a journal may commit them
		survive := 0
		if i%3 == 1 {
			survive = rng.IntN(1 << 10)
		}
		at := fmt.Sprintf("cut after operation %d of %d (keeping %d unflushed name changes)", k, total, survive)
		b := fresh()
		mnt := t.TempDir()
		p, err := powerloss.Mount(b, mnt, powerloss.Options{Crash: true, CrashAfter: k})
		if err != nil {
			t.Fatal(err)
		}
		powerLossPatch(t, p, mnt, arch)
		if _, err := p.Cut(survive); err != nil {
			t.Fatalf("%s: %v", at, err)
		}
		d := filepath.Join(b, "dir")
		checkSurvivors(t, d, sc.old, sc.new, at)

		// the same ibt-patch again, on the filesystem mounted again
		if p, err = powerloss.Mount(b, mnt, powerloss.Options{}); err != nil {
			t.Fatal(err)
		}
		if crashed, out := powerLossPatch(t, p, mnt, arch); crashed {
			t.Fatalf("%s: the rerun failed:\n%s", at, out)
		}
		p.Unmount()
		if got := withoutRoot(listing(t, d)); got != want {
			t.Fatalf("%s: the tree after the rerun:\n%s\nwant:\n%s", at, got, want)
		}
	}
	t.Logf("%d crash points (%d operations, %d flushes, %d of them syncfs)", len(ks), total, len(flushes), syncfs)
}

// powerLossPatch runs ibt-patch on mnt/dir in a subprocess that flushes
// to disk; it reports whether the run failed, the power having been cut
// under it, and its output.
func powerLossPatch(t *testing.T, p *powerloss.FS, mnt, arch string) (failed bool, out string) {
	t.Helper()
	dir := filepath.Join(mnt, "dir")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), powerLossEnv+"=1", helperEnv+"="+dir+"\n"+arch)
	var mu sync.Mutex
	p.OnCrash(func() {
		mu.Lock()
		defer mu.Unlock()
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
	})
	mu.Lock()
	err := cmd.Start()
	mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var b []byte
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("ibt-patch hangs")
	}
	if err != nil && !p.Crashed() {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			b = ee.Stderr
		}
		return true, fmt.Sprintf("%v %s", err, b)
	}
	return err != nil, ""
}

// checkSurvivors checks what a cut left in d: every path is the old or the
// new version of itself (content, mode and mtime together), nothing is
// there that neither had, and a path that is the same kind of thing in
// both is not missing.
func checkSurvivors(t *testing.T, d string, old, new tr, at string) {
	t.Helper()
	if old == nil {
		if _, err := os.Lstat(d); errors.Is(err, fs.ErrNotExist) {
			return // the cut came before DIR was made
		}
	}
	err := filepath.WalkDir(d, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(d, path)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if rel == stagingName {
			return filepath.SkipDir
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		o, inOld := old[rel]
		n, inNew := new[rel]
		if !inOld && !inNew {
			t.Errorf("%s: %q is in neither tree", at, rel)
			return nil
		}
		if !(inOld && sameNode(t, path, fi, o)) && !(inNew && sameNode(t, path, fi, n)) {
			t.Errorf("%s: %q is neither its old nor its new version: %v %v %d bytes", at, rel, fi.Mode(), fi.ModTime().UnixNano(), fi.Size())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", at, err)
	}
	for p, o := range old {
		if n, ok := new[p]; ok && n.typ == o.typ && n.typ != format.TypeDir {
			if _, err := os.Lstat(filepath.Join(d, p)); err != nil {
				t.Errorf("%s: %q is missing: %v", at, p, err)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// sameNode reports whether the file at path (fi) is n, content, mode and
// mtime. Only a directory's type is compared: the commit makes new
// directories private and changes the contents of others, and gives them
// their mode and mtime once done (a rerun does).
func sameNode(t *testing.T, path string, fi fs.FileInfo, n node) bool {
	switch n.typ {
	case format.TypeDir:
		return fi.IsDir()
	case format.TypeSymlink:
		target, err := os.Readlink(path)
		return err == nil && target == n.target
	case format.TypeFile:
		if !fi.Mode().IsRegular() || fi.Mode() != fileMode(n.mode) || fi.ModTime().UnixNano() != n.mtime {
			return false
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b) == n.data
	}
	return false
}
