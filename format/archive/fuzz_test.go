package archive

import (
	"errors"
	"io"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// FuzzReader reads arbitrary bytes as an archive: it must never panic,
// never return more than the bounds allow, and only return io.EOF after
// a trailer that counts what was read.
func FuzzReader(f *testing.F) {
	files := []testFile{
		created("a", []byte("content")),
		updated("b", []byte("old content"), []DeltaOp{cp(4, 7), lit([]byte("!"))}),
		change(format.OpDelete, entry("c", format.TypeDir, 0), nil),
	}
	for _, codec := range []Codec{Gzip, LZ4, Zstd, None} {
		data := writeArchive(f, files, WriterOptions{Codec: codec})
		f.Add(data)
		for _, cut := range []int{len(data) / 3, len(data) / 2, len(data) - 5} {
			f.Add(data[:cut])
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		res, r, err := readArchive(data, nil)
		if err != nil {
			if errors.Is(err, io.EOF) {
				t.Fatalf("io.EOF leaked as an error: %v", err)
			}
			return
		}
		if got := r.Trailer().Changes; got != uint64(len(res.changes)) {
			t.Fatalf("trailer counts %d changes, read %d", got, len(res.changes))
		}
		for _, c := range res.changes {
			if c.HasData() && int64(len(res.files[c.Path()])) > c.New.Size {
				t.Fatalf("%q: more data than its size", c.Path())
			}
		}
	})
}
