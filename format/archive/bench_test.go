package archive

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

const benchSize = 64 << 20

// benchContent is like a database file: 4 KiB pages, half random, half
// text rows.
func benchContent() []byte {
	rnd := randBytes(10, benchSize/2)
	out := make([]byte, 0, benchSize)
	for page := 0; len(out) < benchSize; page++ {
		if page%2 == 0 {
			out = append(out, rnd[page/2*4096:page/2*4096+4096]...)
			continue
		}
		var b bytes.Buffer
		for row := 0; b.Len() < 4096; row++ {
			fmt.Fprintf(&b, "%d|customer %d|order %d|2026-11-%02d|%d.%02d\n", page, row*7, page*31+row, row%28+1, row*13, row%100)
		}
		out = append(out, b.Bytes()[:4096]...)
	}
	return out
}

var benchCodecs = []struct {
	name string
	opt  WriterOptions
}{
	{"gzip", WriterOptions{Codec: Gzip}},
	{"gzip-6", WriterOptions{Codec: Gzip, Level: 6}},
	{"lz4", WriterOptions{Codec: LZ4}},
	{"zstd", WriterOptions{Codec: Zstd}},
	{"none", WriterOptions{Codec: None}},
}

// BenchmarkWrite packs one 64 MiB created file.
func BenchmarkWrite(b *testing.B) {
	content := benchContent()
	files := []testFile{created("db", content)}
	for _, bc := range benchCodecs {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(benchSize)
			var size int
			for b.Loop() {
				w, err := NewWriter(countWriter{&size}, testHeader, bc.opt)
				if err != nil {
					b.Fatal(err)
				}
				w.AddChange(files[0].c)
				for p := content; len(p) > 0; p = p[min(len(p), 1<<20):] {
					if err := w.WriteContent(p[:min(len(p), 1<<20)]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(testTrailer); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size)/float64(b.N)/benchSize*100, "%size")
		})
	}
}

// BenchmarkRead unpacks one 64 MiB created file.
func BenchmarkRead(b *testing.B) {
	files := []testFile{created("db", benchContent())}
	for _, bc := range benchCodecs {
		if bc.opt.Level != 0 {
			continue
		}
		b.Run(bc.name, func(b *testing.B) {
			data := writeArchive(b, files, bc.opt)
			b.SetBytes(benchSize)
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.Next(); err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, r.Content()); err != nil || n != benchSize {
					b.Fatal(n, err)
				}
				if _, err := r.Next(); err != io.EOF {
					b.Fatal(err)
				}
			}
		})
	}
}

type countWriter struct{ n *int }

func (c countWriter) Write(p []byte) (int, error) { *c.n += len(p); return len(p), nil }
