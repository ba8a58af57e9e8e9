package patch

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSparseWriterKeepsTheContent writes content of every shape through
// the sparse writer, in writes of every size, and reads back the same.
func TestSparseWriterKeepsTheContent(t *testing.T) {
	block := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	contents := map[string][]byte{
		"empty":              nil,
		"all zeros":          block(0, 3*sparseBlock+7),
		"data only":          block(1, 2*sparseBlock+1),
		"final hole":         cat(block(1, 10), block(0, 2*sparseBlock)),
		"hole in the middle": cat(block(1, sparseBlock), block(0, 3*sparseBlock), block(2, 5)),
		"zeros unaligned":    cat(block(1, 100), block(0, sparseBlock), block(3, 100)),
		"short zero tail":    cat(block(1, sparseBlock), block(0, 10)),
	}
	for name, want := range contents {
		for _, chunk := range []int{1, 1000, sparseBlock, 3*sparseBlock + 5, 1 << 20} {
			f, err := os.Create(filepath.Join(t.TempDir(), "f"))
			if err != nil {
				t.Fatal(err)
			}
			w := &sparseWriter{f: f}
			for rest := want; len(rest) > 0; rest = rest[min(chunk, len(rest)):] {
				if _, err := w.Write(rest[:min(chunk, len(rest))]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.finish(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			got, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s in writes of %d bytes: read back %d bytes differing from the %d written", name, chunk, len(got), len(want))
			}
		}
	}
}
