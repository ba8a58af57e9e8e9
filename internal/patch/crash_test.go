package patch

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// The crash test re-runs the test binary as an ibt-patch that kills itself
// with SIGKILL after the k-th step of its commit (or the k-th staged file).
const (
	helperEnv       = "IBT_PATCH_HELPER"        // "DIR ARCHIVE"
	crashCommitEnv  = "IBT_PATCH_CRASH_COMMIT"  // k: kill after the k-th commit step
	crashStagingEnv = "IBT_PATCH_CRASH_STAGING" // k: kill when staging the k-th file
	countEnv        = "IBT_PATCH_COUNT_STEPS"   // print the number of commit steps
	onlyEnv         = "IBT_PATCH_ONLY"          // Options.Only, one pattern a line
	cloneMinEnv     = "IBT_PATCH_CLONE_MIN"     // cloneMin: the smallest update cloned
	fullRestoreEnv  = "IBT_TEST_FULL_RESTORE"   // killedAtAnyPoint: restore the new tree into an empty DIR
)

func helperMain() int {
	dir, arch, _ := strings.Cut(os.Getenv(helperEnv), "\n")
	kill := func() {
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill() // SIGKILL on Unix
		}
	}
	steps := 0
	if m, err := strconv.ParseInt(os.Getenv(cloneMinEnv), 10, 64); err == nil {
		cloneMin = m
	}
	if k, err := strconv.Atoi(os.Getenv(crashCommitEnv)); err == nil {
		faults.commitStep = func() {
			if steps++; steps == k {
				kill()
			}
		}
	} else if os.Getenv(countEnv) != "" {
		faults.commitStep = func() { steps++ }
	}
	if k, err := strconv.Atoi(os.Getenv(crashStagingEnv)); err == nil {
		var staged atomic.Int64 // the stage writer's makers write at once
		faults.write = func(_ string, w io.Writer) io.Writer {
			if staged.Add(1) == int64(k) {
				kill()
			}
			return w
		}
	}
	f, err := os.Open(arch)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	var only []string
	if o := os.Getenv(onlyEnv); o != "" {
		only = strings.Split(o, "\n")
	}
	if _, err := Apply(dir, f, Options{Only: only}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Print(steps)
	return 0
}

// runHelper runs ibt-patch in a subprocess; it reports whether the process
// was killed.
func runHelper(t *testing.T, dir, arch string, env ...string) (killed bool, out string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, helperEnv+"="+dir+"\n"+arch)...)
	b, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true, ""
		}
		t.Fatalf("ibt-patch failed: %v\n%s", err, ee.Stderr)
	} else if err != nil {
		t.Fatal(err)
	}
	return false, string(b)
}

// bigTrees returns two versions of a tree of about 200 files and 3 MiB
// that differ by every kind of change.
func bigTrees() (tr, tr) {
	rng := rand.New(rand.NewPCG(1, 2))
	blob := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return string(b)
	}
	old := tr{}
	for d := range 10 {
		dp := fmt.Sprintf("d%02d", d)
		old[dp] = dir()
		for f := range 20 {
			old[fmt.Sprintf("%s/f%02d.bin", dp, f)] = file(blob(6<<10 + rng.IntN(12<<10)))
		}
	}
	old["link"] = symlink("/nonexistent/outside")
	new := old.clone()
	i := 0
	for _, p := range old.paths() {
		n := old[p]
		if n.typ != format.TypeFile {
			continue
		}
		switch i++; i % 5 {
		case 0, 1: // update: rewrite a region
			b := []byte(n.data)
			copy(b[len(b)/3:], blob(1000))
			new[p] = file(string(b))
		case 2:
			delete(new, p)
		case 3:
			new[p] = n.withMode(0o600).withTime(baseTime + int64(i))
		}
	}
	for f := range 40 {
		new[fmt.Sprintf("d%02d/new%02d.bin", f%9, f)] = file(blob(4 << 10))
	}
	// renames: d08 moves to a08, before it in path order, and d07/f00.bin
	// (updated or kept) is copied; a created file is copied twice
	for _, p := range new.paths() {
		if rest, ok := strings.CutPrefix(p, "d08/"); ok {
			new["a08/"+rest] = new[p]
			delete(new, p)
		}
	}
	delete(new, "d08")
	new["a08"] = dir()
	new["d07/copy.bin"] = old["d07/f00.bin"]
	new["d06/dup1.bin"] = new["d00/new00.bin"]
	new["e/dup2.bin"] = new["d00/new00.bin"]
	new["e"] = dir()
	for _, p := range old.paths() {
		if strings.HasPrefix(p, "d09/") {
			delete(new, p)
		}
	}
	delete(new, "d09")
	new["d09"] = file("a directory became this file\n")
	new["d00/f00.bin"] = dir()
	new["d00/f00.bin/inside"] = file(blob(100))
	new["link"] = dir()
	new["link/x"] = file("the symlink became a directory\n")
	return old, new
}

func TestKilledAtAnyPointThenRerunFinishes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	killedAtAnyPoint(t, t.TempDir, true)
}

// A full restore into an empty DIR stages each top-level directory whole
// and places it with one rename (see stageTree): a kill at any point of
// it leaves each file missing or new, and a rerun finishes.
func TestFullRestoreKilledAtAnyPointThenRerunFinishes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	killedAtAnyPoint(t, t.TempDir, true, fullRestoreEnv+"=1")
}

// killedAtAnyPoint kills ibt-patch at points of its staging (if staging)
// and of its commit, in trees of bigTrees made in directories that newDir
// returns, and checks that every file is its old or new version and that a
// rerun finishes. env goes to every run.
func killedAtAnyPoint(t *testing.T, newDir func() string, staging bool, env ...string) {
	old, new := bigTrees()
	full := false
	for _, e := range env {
		full = full || e == fullRestoreEnv+"=1"
	}
	if full {
		old = tr{}
	}
	arch := filepath.Join(t.TempDir(), "inc.tar.gz")
	if err := os.WriteFile(arch, makeArchive(t, old, new), 0o644); err != nil {
		t.Fatal(err)
	}
	want := treeListing(t, new)
	fresh := func() string {
		d := filepath.Join(newDir(), "dir")
		os.Mkdir(d, 0o755)
		materialize(t, d, old)
		return d
	}
	runHelper := func(t *testing.T, dir, arch string, more ...string) (bool, string) {
		t.Helper()
		return runHelper(t, dir, arch, append(append([]string(nil), env...), more...)...)
	}
	// count the commit steps of an uninterrupted run
	d := fresh()
	_, out := runHelper(t, d, arch, countEnv+"=1")
	total, _ := strconv.Atoi(out)
	if got := withoutRoot(listing(t, d)); got != want || total < 100 && !full {
		t.Fatalf("uninterrupted run: %d steps, tree:\n%s", total, got)
	}
	if files := len(new.paths()); full && total > files/4 {
		// one rename a top-level entry and the directories' metadata,
		// not one rename a file
		t.Fatalf("a full restore of %d entries took %d commit steps", files, total)
	}
	type point struct{ env []string }
	var points []point
	for _, k := range []int{1, 2, 3} {
		if staging {
			points = append(points, point{[]string{fmt.Sprintf("%s=%d", crashStagingEnv, k*30)}})
		}
	}
	for k := 1; k <= total; k += max(1, total/14) {
		points = append(points, point{[]string{fmt.Sprintf("%s=%d", crashCommitEnv, k)}})
	}
	points = append(points, point{[]string{fmt.Sprintf("%s=%d", crashCommitEnv, total)}})
	for i, pt := range points {
		d := fresh()
		killed, _ := runHelper(t, d, arch, pt.env...)
		if !killed {
			t.Fatalf("%v: not killed", pt.env)
		}
		checkOldOrNew(t, d, old, new, pt.env)
		if i%5 == 0 {
			// a second crash during the rerun, at another point
			runHelper(t, d, arch, fmt.Sprintf("%s=%d", crashCommitEnv, total/3))
			checkOldOrNew(t, d, old, new, pt.env)
		}
		if killed, _ := runHelper(t, d, arch); killed {
			t.Fatal("rerun killed")
		}
		if got := withoutRoot(listing(t, d)); got != want {
			t.Fatalf("%v: tree after the rerun differs:\n got:\n%s\nwant:\n%s", pt.env, got, want)
		}
	}
	t.Logf("killed at %d points of %d commit steps; every rerun finished", len(points), total)
}

// checkOldOrNew checks that every file under d is the old or the new
// version of its path, and that no file present in both versions is
// missing.
func checkOldOrNew(t *testing.T, d string, old, new tr, at []string) {
	t.Helper()
	for _, p := range append(old.paths(), new.paths()...) {
		o, inOld := old[p]
		n, inNew := new[p]
		fi, err := os.Lstat(filepath.Join(d, p))
		if err != nil {
			if inOld && inNew && o.typ == n.typ {
				t.Fatalf("%v: %q is missing: %v", at, p, err)
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, p))
		if err != nil {
			t.Fatal(err)
		}
		if !(inOld && o.typ == format.TypeFile && string(b) == o.data) && !(inNew && n.typ == format.TypeFile && string(b) == n.data) {
			t.Fatalf("%v: %q is neither its old nor its new version (%d bytes)", at, p, len(b))
		}
	}
}
