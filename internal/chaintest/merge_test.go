//go:build linux

package chaintest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ibt-tools/ibt/internal/cli"
)

// TestMerge makes short random chains (a full and 2 to 4 incrementals, of
// every change kind) and checks that ibt-merge of every suffix of the
// chain, applied where the suffix starts, gives the tree the chain gives:
// a merged full restores the last tree into an empty directory, and
// merged incrementals patch the restore of the archives before them.
// ibt-patch checks the tree hash; the listing checks the rest.
func TestMerge(t *testing.T) {
	seeds := []int64{1, 2, 3, 4, 5, 6}
	if testing.Short() {
		seeds = seeds[:2]
	}
	if *flagSeed != 0 {
		seeds = []int64{*flagSeed}
	}
	on := enabledKinds(t)
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			mergeChain(t, seed, 3+int(seed%3), on)
		})
	}
}

// newMergeRun starts a run of seed with an empty source tree, and its
// generator.
func newMergeRun(t *testing.T, seed int64) (*run, *gen) {
	work := t.TempDir()
	r := &run{t: t, seed: seed, work: work, src: filepath.Join(work, "src")}
	if err := os.Mkdir(r.src, 0o755); err != nil {
		t.Fatal(err)
	}
	return r, newGen(seed, r.src)
}

func mergeChain(t *testing.T, seed int64, archives int, on map[string]bool) {
	r, g := newMergeRun(t, seed)
	defer func() {
		if p := recover(); p != nil {
			r.fail("%v", p)
		}
	}()
	g.seedTree()
	r.changes = []string{"the first tree"}
	r.pack(g)
	for r.step = 1; r.step < archives; r.step++ {
		r.changes = g.step(on)
		r.pack(g)
	}
	r.step--
	want := r.listSrc()
	r.changes = []string{fmt.Sprintf("merging the suffixes of a chain of %d archives", archives)}
	for from := 0; from < archives-1; from++ {
		dir := filepath.Join(r.work, fmt.Sprintf("restore-%d", from))
		for _, a := range r.arch[:from] {
			r.tool("ibt-patch", dir, "-i", a, "--no-sync")
		}
		merged := filepath.Join(r.work, fmt.Sprintf("merged-%d.tar", from))
		r.tool("ibt-merge", append([]string{"-o", merged}, r.arch[from:]...)...)
		r.tool("ibt-cat", "--summary", merged)
		r.tool("ibt-patch", dir, "-i", merged, "--no-sync")
		r.compare(dir, want, fmt.Sprintf("after the merge of archives %d to %d", from, archives-1))
	}
}

// pack makes this step's archive, without applying it.
func (r *run) pack(g *gen) { r.archive(g, nil, []string{"--no-renames"}) }

// FuzzMerge grows a random tree through random changes of every kind (the
// generator of TestChain), backs up each step, and merges one run of
// consecutive archives, which the input picks: applied where the run
// starts, the merge must give the tree the run gives, and ibt-merge -n
// must pass the run too. A run from the full backup is also restored with
// ibt-patch --only, of a directory the input picks: it must give that
// subtree and its parents exactly. A composition ibt-merge refuses as not
// yet supported skips the input. The seeds run under go test; more:
//
//	go test ./internal/chaintest -run '^$' -fuzz FuzzMerge
func FuzzMerge(f *testing.F) {
	f.Add(int64(1), uint8(3), uint8(0), uint8(4), uint8(0))
	f.Add(int64(2), uint8(3), uint8(1), uint8(3), uint8(1))
	f.Add(int64(3), uint8(2), uint8(2), uint8(3), uint8(2))
	f.Add(int64(4), uint8(4), uint8(0), uint8(2), uint8(3))
	f.Add(int64(5), uint8(3), uint8(3), uint8(4), uint8(4))
	f.Add(int64(6), uint8(3), uint8(0), uint8(1), uint8(5))
	f.Fuzz(func(t *testing.T, seed int64, n, from, to, pick uint8) {
		archives := 2 + int(n)%5
		i, j := int(from)%archives, int(to)%archives
		if i > j {
			i, j = j, i
		}
		if i == j {
			if j < archives-1 {
				j++
			} else {
				i--
			}
		}
		mergeRun(t, seed, archives, i, j, int(pick), enabledKinds(t))
	})
}

// mergeRun makes a chain of archives, merges the archives from to to, and
// checks the merge (see FuzzMerge).
func mergeRun(t *testing.T, seed int64, archives, from, to, pick int, on map[string]bool) {
	r, g := newMergeRun(t, seed)
	defer func() {
		if p := recover(); p != nil {
			r.fail("%v\n%s", p, debug.Stack())
		}
	}()
	// renames and copies on for half the archives: their compositions
	// are the hardest, and the least often supported
	pack := func() {
		if g.r.Intn(2) == 0 {
			r.archive(g, nil, nil)
		} else {
			r.pack(g)
		}
	}
	g.seedTree()
	r.changes = []string{"the first tree"}
	pack()
	want := []listing{r.listSrc()}
	for r.step = 1; r.step < archives; r.step++ {
		r.changes = g.step(on)
		pack()
		want = append(want, r.listSrc())
	}
	r.step = to
	r.changes = []string{fmt.Sprintf("merging archives %d to %d of %d", from, to, archives)}
	merged := filepath.Join(r.work, "merged.tar")
	codec := []string{"gzip", "lz4", "zstd", "none"}[g.r.Intn(4)]
	args := append([]string{"-o", merged, "--codec", codec}, r.arch[from:to+1]...)
	if out, ok := r.mayRefuse("ibt-merge", args...); !ok {
		t.Skipf("ibt-merge does not compose this chain yet: %s", out)
	}
	r.tool("ibt-merge", append([]string{"-n"}, r.arch[from:to+1]...)...)
	dir := filepath.Join(r.work, "restore")
	for _, a := range r.arch[:from] {
		r.tool("ibt-patch", dir, "-i", a, "--no-sync")
	}
	r.tool("ibt-patch", dir, "-i", merged, "--no-sync")
	r.compare(dir, want[to], "after the merge")
	if to-from >= 2 {
		// merged archives merge again: the run split in two, each half
		// merged, then the halves
		k := from + 1 + pick%(to-from-1)
		r.changes = append(r.changes, fmt.Sprintf("merging the merges of archives %d to %d and %d to %d", from, k, k+1, to))
		half := func(name string, archs []string) string {
			if len(archs) == 1 {
				return archs[0]
			}
			out := filepath.Join(r.work, name)
			r.tool("ibt-merge", append([]string{"-o", out}, archs...)...)
			return out
		}
		left, right := half("left.tar", r.arch[from:k+1]), half("right.tar", r.arch[k+1:to+1])
		both := filepath.Join(r.work, "both.tar")
		r.tool("ibt-merge", "-o", both, left, right)
		dir := filepath.Join(r.work, "restore-nested")
		for _, a := range r.arch[:from] {
			r.tool("ibt-patch", dir, "-i", a, "--no-sync")
		}
		r.tool("ibt-patch", dir, "-i", both, "--no-sync")
		r.compare(dir, want[to], "after the merge of merges")
	}
	if from != 0 {
		return
	}
	var dirs []string
	for p, e := range want[to] {
		if e.Type == "dir" && p != "." {
			dirs = append(dirs, p)
		}
	}
	if len(dirs) == 0 {
		return
	}
	sort.Strings(dirs)
	d := dirs[pick%len(dirs)]
	r.changes = append(r.changes, fmt.Sprintf("restoring --only %q of the merge", d))
	sub := filepath.Join(r.work, "subtree")
	r.tool("ibt-patch", sub, "-i", merged, "--no-sync", "--only", "/"+escapePattern(d))
	r.compare(sub, subtree(want[to], d), "after ibt-patch --only")
}

// mayRefuse runs a tool that may refuse what it cannot do yet: it reports
// false and the tool's output for a refusal as not yet supported, and
// fails the run for any other failure.
func (r *run) mayRefuse(name string, args ...string) (string, bool) {
	r.t.Helper()
	var out bytes.Buffer
	env := cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out}
	if cli.Main(name, args, env) == 0 {
		return "", true
	}
	if strings.Contains(out.String(), "not yet supported") {
		return out.String(), false
	}
	r.fail("%s %s:\n%s", name, quoteArgs(args), out.String())
	return "", false
}

// escapePattern is a pattern of .gitignore syntax that matches the path p
// (given a leading '/', which anchors it). A byte that is not UTF-8 is a
// '?': the command line does not keep it (kong makes it U+FFFD), and names
// here are unique without it.
func escapePattern(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRuneInString(p[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteByte('?')
		case strings.IndexByte("\\*?[ ", p[i]) >= 0:
			b.WriteByte('\\')
			b.WriteByte(p[i])
		default:
			b.WriteString(p[i : i+n])
		}
		i += n
	}
	return b.String()
}

// subtree is the part of l that ibt-patch --only d restores: d and what is
// beneath it, its parent directories, and the root; hard-link groups are
// cut down to it.
func subtree(l listing, d string) listing {
	out := listing{}
	for p, e := range l {
		if below(p, d) || p == "." || below(d, p) {
			c := *e
			out[p] = &c
		}
	}
	for _, e := range out {
		if e.Links == "" {
			continue
		}
		var kept []string
		for rest := e.Links; rest != ""; rest = strings.TrimPrefix(rest, ",") {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				panic(err)
			}
			rest = rest[len(q):]
			if p, _ := strconv.Unquote(q); out[p] != nil {
				kept = append(kept, q)
			}
		}
		e.Links = ""
		if len(kept) > 1 {
			e.Links = strings.Join(kept, ",")
		}
	}
	return out
}
