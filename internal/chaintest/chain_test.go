//go:build linux

package chaintest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ibt-tools/ibt/internal/cli"
)

var (
	flagLong  = flag.Bool("long", false, "run many seeds with many steps each")
	flagSteps = flag.Int("steps", 0, "steps per seed (default: 70 short, 300 with -long)")
	flagSeed  = flag.Int64("seed", 0, "run only this seed")
	flagSeeds = flag.Int("seeds", 40, "how many seeds -long runs")
	flagKinds = flag.String("kinds", "", "change kinds: a comma list to run exactly those, or +kind,-kind to adjust the default set; 'all' for every kind")
	flagKeep  = flag.Bool("keep", false, "keep the work directory of a failed run")
)

// disabled are the change kinds the default run leaves out, each with the
// bug of the tools it finds, until that bug is fixed; -kinds=+NAME runs it
// anyway. Every kind runs today.
var disabled = map[string]string{}

// archive signs the source with the extra flags sign, diffs it with the
// last index (or makes a full backup) with diffArgs, and packs the delta
// with a codec g picks: this step's archive, whose path it returns.
func (r *run) archive(g *gen, sign, diffArgs []string) string {
	n := r.step
	idx := filepath.Join(r.work, fmt.Sprintf("%d.idx", n))
	diff := filepath.Join(r.work, fmt.Sprintf("%d.diff", n))
	delta := filepath.Join(r.work, fmt.Sprintf("%d.delta", n))
	arch := filepath.Join(r.work, fmt.Sprintf("%d.tar", n))
	r.tool("ibt-sign", append(append([]string{"-o", idx}, sign...), r.src)...)
	diffArgs = append([]string{"-o", diff}, diffArgs...)
	if n == 0 {
		r.tool("ibt-diff", append(diffArgs, "--full", idx)...)
	} else {
		r.tool("ibt-diff", append(diffArgs, r.idx[n-1], idx)...)
	}
	r.tool("ibt-delta", "-o", delta, diff)
	codec := []string{"gzip", "lz4", "zstd", "none"}[g.r.Intn(4)]
	r.tool("ibt-pack", "--codec", codec, "-o", arch, delta)
	r.idx, r.arch = append(r.idx, idx), append(r.arch, arch)
	os.Remove(diff)
	os.Remove(delta)
	return arch
}

// enabledKinds is the set of kinds this run generates.
func enabledKinds(t *testing.T) map[string]bool {
	on := map[string]bool{}
	spec := *flagKinds
	adjust := spec == "" || strings.HasPrefix(spec, "+") || strings.HasPrefix(spec, "-")
	if spec == "all" {
		spec, adjust = "", true
		for _, k := range kindNames() {
			on[k] = true
		}
	} else if adjust {
		for _, k := range kindNames() {
			on[k] = disabled[k] == ""
		}
	}
	for _, f := range strings.Split(spec, ",") {
		if f == "" {
			continue
		}
		name, val := f, true
		if adjust {
			name, val = f[1:], f[0] == '+'
		}
		found := false
		for _, k := range kindNames() {
			found = found || k == name
		}
		if !found {
			t.Fatalf("unknown change kind %q; kinds: %s", name, strings.Join(kindNames(), " "))
		}
		on[name] = val
	}
	return on
}

func TestChain(t *testing.T) {
	seeds := []int64{1, 2, 3}
	steps := 70
	if *flagLong {
		seeds, steps = nil, 300
		for i := range *flagSeeds {
			seeds = append(seeds, int64(1000+i))
		}
	}
	if testing.Short() {
		seeds, steps = seeds[:1], 30
	}
	if *flagSeed != 0 {
		seeds = []int64{*flagSeed}
	}
	if *flagSteps > 0 {
		steps = *flagSteps
	}
	on := enabledKinds(t)
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runChain(t, seed, steps, on)
		})
	}
}

// toolTime is the time spent in each tool, for the log.
var toolTime = map[string]time.Duration{}

// run is one chain: the source tree, its restores, the indexes and archives.
type run struct {
	t       *testing.T
	seed    int64
	step    int
	changes []string
	work    string
	src     string
	restore string
	idx     []string // the index of every step
	arch    []string // the archive of every step
}

// fail reports a wrong result with everything needed to replay it.
func (r *run) fail(format string, args ...any) {
	r.t.Helper()
	msg := fmt.Sprintf(format, args...)
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, step %d: %s\n", r.seed, r.step, msg)
	fmt.Fprintf(&b, "changes of this step:\n")
	for _, c := range r.changes {
		fmt.Fprintf(&b, "\t%q\n", c)
	}
	fmt.Fprintf(&b, "replay: go test ./internal/chaintest -run 'Chain/seed=%d$' -seed %d -steps %d -kinds=%q",
		r.seed, r.seed, r.step+1, *flagKinds)
	if *flagKeep {
		fmt.Fprintf(&b, "\nwork directory kept: %s", r.work)
	}
	r.t.Fatal(b.String())
}

// tool runs an ibt tool in-process and fails the run if it fails.
func (r *run) tool(name string, args ...string) {
	r.t.Helper()
	var out bytes.Buffer
	env := cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out}
	start := time.Now()
	code := cli.Main(name, args, env)
	toolTime[name] += time.Since(start)
	if code != 0 {
		r.fail("%s %s: exit %d:\n%s", name, quoteArgs(args), code, out.String())
	}
}

func quoteArgs(args []string) string {
	var q []string
	for _, a := range args {
		q = append(q, fmt.Sprintf("%q", a))
	}
	return strings.Join(q, " ")
}

func runChain(t *testing.T, seed int64, steps int, on map[string]bool) {
	work := t.TempDir()
	if *flagKeep {
		var err error
		if work, err = os.MkdirTemp("", fmt.Sprintf("chaintest-%d-", seed)); err != nil {
			t.Fatal(err)
		}
	}
	r := &run{t: t, seed: seed, work: work, src: filepath.Join(work, "src"), restore: filepath.Join(work, "restore")}
	if err := os.Mkdir(r.src, 0o755); err != nil {
		t.Fatal(err)
	}
	g := newGen(seed, r.src)
	defer func() {
		if p := recover(); p != nil {
			r.fail("%v", p)
		}
	}()
	start := time.Now()
	clear(toolTime)
	g.seedTree()
	r.changes = []string{"the first tree"}
	r.backup(g)
	for r.step = 1; r.step <= steps; r.step++ {
		r.changes = g.step(on)
		r.backup(g)
		if r.step%25 == 0 {
			r.fromScratch()
		}
	}
	r.step--
	r.fromScratch()
	r.rsyncCheck(r.restore)
	t.Logf("seed %d: %d steps in %v (tools: %v), %d paths at the end, kinds %v", seed, steps,
		time.Since(start).Round(time.Millisecond), toolTime, len(r.listSrc()), onList(on))
	if !t.Failed() && *flagKeep {
		os.RemoveAll(work)
	}
}

func onList(on map[string]bool) []string {
	var l []string
	for _, k := range kindNames() {
		if on[k] {
			l = append(l, k)
		}
	}
	return l
}

// backup makes this step's archive and patches the restore with it, twice.
func (r *run) backup(g *gen) {
	var sign, diffArgs []string
	if r.step > 0 && g.r.Intn(2) == 0 {
		sign = append(sign, "--prev", r.idx[r.step-1])
	}
	if g.r.Intn(4) == 0 {
		sign = append(sign, "--no-lz4")
	}
	if g.r.Intn(5) == 0 {
		diffArgs = append(diffArgs, "--no-renames")
	}
	arch := r.archive(g, sign, diffArgs)

	patch := []string{r.restore, "-i", arch}
	if g.r.Intn(4) != 0 { // flushing is slow, and rarely what fails
		patch = append(patch, "--no-sync")
	}
	if g.r.Intn(6) == 0 {
		patch = append(patch, "--no-known")
	}
	if r.step > 0 && g.r.Intn(6) == 0 {
		before, err := list(r.restore, true)
		if err != nil {
			r.fail("list the restore: %v", err)
		}
		r.tool("ibt-patch", append(patch, "--dry-run")...)
		after := r.compare(r.restore, before, "after ibt-patch --dry-run")
		if d := touched(before, after); len(d) > 0 {
			r.fail("ibt-patch --dry-run changed (inode or ctime) %s", strings.Join(d, ", "))
		}
	}
	r.tool("ibt-patch", patch...)
	want := r.listSrc()
	got := r.compare(r.restore, want, "after ibt-patch")
	r.tool("ibt-patch", patch...)
	again := r.compare(r.restore, want, "after applying the same archive again")
	if d := touched(got, again); len(d) > 0 {
		r.fail("applying the same archive again changed (inode or ctime) %s", strings.Join(d, ", "))
	}
}

func (r *run) listSrc() listing {
	r.t.Helper()
	l, err := list(r.src, false)
	if err != nil {
		r.t.Fatalf("list the source: %v", err)
	}
	return l
}

// compare lists dir and fails the run on the first difference from want.
func (r *run) compare(dir string, want listing, when string) listing {
	r.t.Helper()
	got, err := list(dir, true)
	if err != nil {
		r.fail("%s: list %s: %v", when, dir, err)
	}
	if d := differences(want, got); len(d) > 0 {
		more := ""
		if len(d) > 1 {
			more = fmt.Sprintf("\n\t(and %d more differences; next: %s)", len(d)-1, d[1])
		}
		r.fail("%s: the restore differs from the source:\n\t%s%s", when, d[0], more)
	}
	return got
}

// fromScratch restores the whole chain into a new directory.
func (r *run) fromScratch() {
	r.t.Helper()
	dir := filepath.Join(r.work, fmt.Sprintf("scratch-%d", r.step))
	for _, a := range r.arch {
		r.tool("ibt-patch", dir, "-i", a, "--no-sync")
	}
	r.compare(dir, r.listSrc(), fmt.Sprintf("restoring the chain of %d archives from scratch", len(r.arch)))
	r.rsyncCheck(dir)
	os.RemoveAll(dir)
}

// rsyncCheck asks rsync, when there is one, whether it would change
// anything in dir to make it the source: it must not.
func (r *run) rsyncCheck(dir string) {
	r.t.Helper()
	if _, err := exec.LookPath("rsync"); err != nil {
		return
	}
	out, err := exec.Command("rsync", "-aHAXc", "-n", "-i", "--delete", "--exclude=/"+stateDir,
		r.src+"/", dir+"/").CombinedOutput()
	if err != nil || len(out) > 0 {
		r.fail("rsync -aHAXc -n -i --delete %s/ %s/ would change something (%v):\n%s", r.src, dir, err, out)
	}
}
