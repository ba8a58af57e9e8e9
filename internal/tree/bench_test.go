package tree

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkWalk walks a generated tree of 20,000 files (IBT_TREE_BENCH_FILES
// changes the count; IBT_TREE_BENCH_DIR walks an existing tree instead) and
// reports entries per second. The tree is generated once per benchmark run.
func BenchmarkWalk(b *testing.B) {
	root := os.Getenv("IBT_TREE_BENCH_DIR")
	if root == "" {
		files := 20_000
		if s := os.Getenv("IBT_TREE_BENCH_FILES"); s != "" {
			var err error
			if files, err = strconv.Atoi(s); err != nil {
				b.Fatal(err)
			}
		}
		root = b.TempDir()
		generate(b, root, files)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var entries int
	for b.Loop() {
		entries = 0
		err := Walk(root, Options{}, func(n *Node) error {
			entries++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(entries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(entries), "entries")
}

// generate makes a source-tree-like layout: directories of 100 files, ten
// directories per parent, small files.
func generate(b *testing.B, root string, files int) {
	data := make([]byte, 200)
	for i := range files {
		dir := filepath.Join(root, fmt.Sprintf("d%02d", i/1000), fmt.Sprintf("s%d", i/100%10))
		if i%100 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%d.go", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}
