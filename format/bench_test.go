package format

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// deltaStream writes a delta of one created file of n literals of MaxChunk
// bytes to w.
func deltaStream(tb testing.TB, w io.Writer, n int, lz bool) {
	sw, err := NewWriter(w, Header{Kind: KindDelta, Seed: testSeed(KindDelta), Tool: "bench"}, WriterOptions{LZ4: lz})
	if err != nil {
		tb.Fatal(err)
	}
	chunk := make([]byte, MaxChunk)
	for i := range chunk {
		chunk[i] = byte(i * i >> 8) // compressible, but not trivially
	}
	if err := sw.WriteChange(&Change{Op: OpCreate, New: &Entry{Path: "db", Mode: 0o644, Size: int64(n) * MaxChunk}}); err != nil {
		tb.Fatal(err)
	}
	for range n {
		if err := sw.WriteLiteral(chunk); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Close(Trailer{}); err != nil {
		tb.Fatal(err)
	}
}

// benchPaths returns n sorted paths of small files, made once so that
// benchmarks time the stream and not the formatting of paths.
func benchPaths(n int) []string {
	for len(paths) < n {
		i := len(paths)
		paths = append(paths, fmt.Sprintf("src/pkg%04d/file%06d.go", i/100, i))
	}
	return paths[:n]
}

var paths []string

// benchFile returns the entry of a small file at path p.
func benchFile(p string, i int) *Entry {
	return &Entry{Path: p, Type: TypeFile, Mode: 0o644, MTime: t0, Size: 1500, UID: 1000, GID: 1000, Dev: 2049,
		Inode: uint64(i), CTime: t0, Hash: sum("x"), BlockSize: 2048}
}

// indexStream writes an index of n small files to w.
func indexStream(tb testing.TB, w io.Writer, n int) {
	sw, err := NewWriter(w, Header{Kind: KindIndex, Seed: testSeed(KindIndex), Tool: "bench"}, WriterOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	e := benchFile("", 0)
	for i, p := range benchPaths(n) {
		e.Path, e.Inode = p, uint64(i)
		if err := sw.WriteEntry(e); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Close(Trailer{}); err != nil {
		tb.Fatal(err)
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func drain(b *testing.B, data []byte) {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	for {
		if _, err := r.Next(); err == io.EOF {
			return
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteDelta(b *testing.B) {
	for _, lz := range []bool{false, true} {
		b.Run(fmt.Sprintf("lz4=%t", lz), func(b *testing.B) {
			b.SetBytes(64 * MaxChunk)
			for range b.N {
				deltaStream(b, io.Discard, 64, lz)
			}
		})
	}
}

func BenchmarkReadDelta(b *testing.B) {
	for _, lz := range []bool{false, true} {
		b.Run(fmt.Sprintf("lz4=%t", lz), func(b *testing.B) {
			var buf bytes.Buffer
			deltaStream(b, &buf, 64, lz)
			b.SetBytes(64 * MaxChunk)
			b.ResetTimer()
			for range b.N {
				drain(b, buf.Bytes())
			}
		})
	}
}

const benchEntries = 10000

func BenchmarkWriteIndex(b *testing.B) {
	var c countWriter
	indexStream(b, &c, benchEntries)
	b.SetBytes(c.n)
	b.ResetTimer()
	for range b.N {
		indexStream(b, io.Discard, benchEntries)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchEntries), "ns/entry")
}

func BenchmarkReadIndex(b *testing.B) {
	var buf bytes.Buffer
	indexStream(b, &buf, benchEntries)
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for range b.N {
		drain(b, buf.Bytes())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchEntries), "ns/entry")
}

// diffStream writes a diff of n metadata changes of small files to w, the
// records ibt-diff writes when every mtime changed.
func diffStream(tb testing.TB, w io.Writer, n int) {
	sw, err := NewWriter(w, Header{Kind: KindDiff, Seed: testSeed(KindDiff), Tool: "bench"}, WriterOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	before, after := benchFile("", 0), benchFile("", 0)
	after.MTime++
	ch := &Change{Op: OpMeta, Old: before, New: after}
	for i, p := range benchPaths(n) {
		before.Path, after.Path = p, p
		before.Inode, after.Inode = uint64(i), uint64(i)
		if err := sw.WriteChange(ch); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Close(Trailer{}); err != nil {
		tb.Fatal(err)
	}
}

func BenchmarkWriteDiff(b *testing.B) {
	var c countWriter
	diffStream(b, &c, benchEntries)
	b.SetBytes(c.n)
	b.ResetTimer()
	for range b.N {
		diffStream(b, io.Discard, benchEntries)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchEntries), "ns/change")
}

func BenchmarkReadDiff(b *testing.B) {
	var buf bytes.Buffer
	diffStream(b, &buf, benchEntries)
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for range b.N {
		drain(b, buf.Bytes())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchEntries), "ns/change")
}
