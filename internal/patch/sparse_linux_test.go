package patch

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSparseFilesKeepTheirHoles restores a 64 MiB file of a few data
// blocks, then an update of it: each time the content is the archive's and
// the disk holds little more than the data blocks.
func TestSparseFilesKeepTheirHoles(t *testing.T) {
	t.Parallel()
	const size = 64 << 20
	data := make([]byte, size)
	for _, off := range []int{0, 5 << 20, 33<<20 + 100} {
		copy(data[off:], bytes.Repeat([]byte("data"), 2048))
	}
	old := tr{"sparse": file(string(data))}
	copy(data[50<<20:], "one more block")
	new := tr{"sparse": file(string(data))}
	d := filepath.Join(t.TempDir(), "dir")
	for _, step := range []struct {
		name string
		a    []byte
		want []byte
	}{
		{"created", makeArchive(t, tr{}, old), []byte(old["sparse"].data)},
		{"updated", makeArchive(t, old, new), data},
	} {
		mustApply(t, d, step.a)
		p := filepath.Join(d, "sparse")
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, step.want) {
			t.Fatalf("%s: content differs from the archive's", step.name)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		used := fi.Sys().(*syscall.Stat_t).Blocks * 512
		t.Logf("%s: %d bytes on disk for %d", step.name, used, fi.Size())
		if used > 1<<20 {
			t.Errorf("%s: the file takes %d bytes on disk for 40 KiB of data in %d: its holes were filled", step.name, used, fi.Size())
		}
	}
}
