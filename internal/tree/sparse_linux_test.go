package tree

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSparseReaderFindsData checks NextData on a real sparse file: the
// data it reports must not be after the data written, and past the last
// data it reports the end (or, on a filesystem without SEEK_DATA, the
// offset asked, which is never wrong).
func TestSparseReaderFindsData(t *testing.T) {
	const size, at = 64 << 20, 32 << 20
	name := filepath.Join(t.TempDir(), "sparse")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("data"), at); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	df, ok := SparseReader(f).(interface{ NextData(int64) (int64, error) })
	if !ok {
		t.Fatal("SparseReader finds no data")
	}
	for _, tt := range []struct{ off, lo, hi int64 }{
		{0, 0, at},
		{at, at, at},
		{at + 1<<20, at + 1<<20, size},
	} {
		got, err := df.NextData(tt.off)
		if err != nil {
			t.Fatal(err)
		}
		if got < tt.lo || got > tt.hi {
			t.Errorf("NextData(%d) = %d, want %d to %d", tt.off, got, tt.lo, tt.hi)
		}
	}
	var b [4]byte
	if _, err := SparseReader(f).ReadAt(b[:], at); err != nil || string(b[:]) != "data" {
		t.Fatalf("ReadAt: %q, %v", b, err)
	}
}
