// Package streamtest builds and reads ibt streams in tests: an index of
// given entries, and the records of a stream a tool wrote.
package streamtest

import (
	"bytes"
	"io"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// Index returns a reader of an index stream of entries, whose header is
// h with its kind and tool filled in.
func Index(t testing.TB, h format.Header, entries ...*format.Entry) *format.Reader {
	t.Helper()
	h.Kind, h.Tool = format.KindIndex, "test"
	if h.Seed == nil {
		h.Seed = []byte("ibt stream test!")
	}
	var buf bytes.Buffer
	w, err := format.NewWriter(&buf, h, format.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := w.WriteEntry(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(format.Trailer{}); err != nil {
		t.Fatal(err)
	}
	r, err := format.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Records reads a whole stream and returns its records and its trailer.
func Records(t testing.TB, stream []byte) ([]format.Record, format.Trailer) {
	t.Helper()
	r, err := format.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	var recs []format.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, r.Trailer()
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}
