package chaintest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
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

func mergeChain(t *testing.T, seed int64, archives int, on map[string]bool) {
	work := t.TempDir()
	r := &run{t: t, seed: seed, work: work, src: filepath.Join(work, "src")}
	if err := os.Mkdir(r.src, 0o755); err != nil {
		t.Fatal(err)
	}
	g := newGen(seed, r.src)
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
		dir := filepath.Join(work, fmt.Sprintf("restore-%d", from))
		for _, a := range r.arch[:from] {
			r.tool("ibt-patch", dir, "-i", a, "--no-sync")
		}
		merged := filepath.Join(work, fmt.Sprintf("merged-%d.tar", from))
		r.tool("ibt-merge", append([]string{"-o", merged}, r.arch[from:]...)...)
		r.tool("ibt-cat", "--summary", merged)
		r.tool("ibt-patch", dir, "-i", merged, "--no-sync")
		r.compare(dir, want, fmt.Sprintf("after the merge of archives %d to %d", from, archives-1))
	}
}

// pack makes this step's archive, without applying it.
func (r *run) pack(g *gen) { r.archive(g, nil, []string{"--no-renames"}) }
