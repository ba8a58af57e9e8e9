package archive

import (
	"io"
	"strings"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

func TestWriterRefuses(t *testing.T) {
	upd := updated("u", []byte("old"), []DeltaOp{cp(0, 3)}).c
	for _, tc := range []struct {
		name string
		do   func(w *Writer) error
		want string
	}{
		{"out of order", func(w *Writer) error {
			w.AddChange(change(format.OpDelete, entry("b", format.TypeDir, 0), nil).c)
			return w.AddChange(change(format.OpDelete, entry("a", format.TypeDir, 0), nil).c)
		}, `"a" does not sort after "b"`},
		{"bad path", func(w *Writer) error { return w.AddChange(created("a/../b", nil).c) }, `".." path component`},
		{"content too long", func(w *Writer) error {
			w.AddChange(created("a", []byte("abc")).c)
			return w.WriteContent([]byte("abcd"))
		}, "exceeds its size 3"},
		{"content too short", func(w *Writer) error {
			w.AddChange(created("a", []byte("abc")).c)
			w.WriteContent([]byte("ab"))
			return w.Close(format.Trailer{})
		}, "content of \"a\" is 2 bytes, short of its size 3"},
		{"big content too short", func(w *Writer) error {
			w.AddChange(created("a", make([]byte, bigFile+1)).c)
			w.WriteContent([]byte("ab"))
			return w.AddChange(created("b", nil).c)
		}, "short of its size"},
		{"ops too long", func(w *Writer) error {
			w.AddChange(upd)
			w.WriteCopy(0, 2)
			return w.WriteLiteral([]byte("ab"))
		}, "produces more than its size 3"},
		{"ops too short", func(w *Writer) error {
			w.AddChange(upd)
			w.WriteCopy(0, 2)
			return w.Close(format.Trailer{})
		}, "produces 2 bytes, short of its size 3"},
		{"copy outside", func(w *Writer) error {
			w.AddChange(upd)
			return w.WriteCopy(2, 2)
		}, "outside its old size 3"},
		{"content without a file", func(w *Writer) error { return w.WriteContent([]byte("x")) }, "no created file open"},
		{"ops on a created file", func(w *Writer) error {
			w.AddChange(created("a", []byte("abc")).c)
			return w.WriteLiteral([]byte("x"))
		}, "no updated file open"},
		{"after an error", func(w *Writer) error {
			w.WriteContent([]byte("x"))
			return w.AddChange(created("a", nil).c)
		}, "no created file open"},
		{"after close", func(w *Writer) error {
			w.Close(format.Trailer{})
			return w.AddChange(created("a", nil).c)
		}, "closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWriter(io.Discard, testHeader, WriterOptions{Codec: None})
			if err != nil {
				t.Fatal(err)
			}
			errorContains(t, tc.do(w), tc.want)
		})
	}
}

func TestWriterOptions(t *testing.T) {
	diff := testHeader
	diff.Kind = format.KindDiff
	for _, tc := range []struct {
		h    format.Header
		opt  WriterOptions
		want string
	}{
		{testHeader, WriterOptions{Codec: "zip"}, `unknown codec "zip"`},
		{testHeader, WriterOptions{Codec: Gzip, Level: 10}, "out of range"},
		{testHeader, WriterOptions{Codec: LZ4, Level: 10}, "out of range"},
		{testHeader, WriterOptions{Codec: Zstd, Level: 23}, "out of range"},
		{testHeader, WriterOptions{Codec: Zstd, Level: -1}, "out of range"},
		{testHeader, WriterOptions{Codec: None, Level: 1}, "takes no level"},
		{diff, WriterOptions{}, `not a "diff" stream`},
		{testHeader, WriterOptions{Codec: Gzip, Level: 9}, ""},
		{testHeader, WriterOptions{Codec: LZ4, Level: 9}, ""},
		{testHeader, WriterOptions{Codec: Zstd, Level: 1}, ""},
		{testHeader, WriterOptions{Codec: Zstd, Level: 22}, ""},
	} {
		_, err := NewWriter(io.Discard, tc.h, tc.opt)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.opt, err)
			}
			continue
		}
		errorContains(t, err, tc.want)
	}
}

// TestWriterRefusesSeed checks that no archive carries the seed that keys
// the indexes' signatures.
func TestWriterRefusesSeed(t *testing.T) {
	h := format.Header{Kind: format.KindDelta, Tool: "test", Seed: []byte("0123456789abcdef")}
	if _, err := NewWriter(io.Discard, h, WriterOptions{}); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Errorf("NewWriter with a seed = %v, want it refused", err)
	}
}
