package cli

import (
	"bytes"
	"io"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// indexOf returns a reader of an index stream of entries, whose header is
// h with its kind and tool filled in.
func indexOf(t testing.TB, h format.Header, entries ...*format.Entry) *format.Reader {
	t.Helper()
	h.Kind, h.Tool = format.KindIndex, "test"
	if h.Seed == nil {
		h.Seed = []byte("ibt cli tests 16")
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

// readAll reads a whole stream and returns its records and its trailer.
func readAll(t testing.TB, stream []byte) ([]format.Record, format.Trailer) {
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

// runToolCode runs one tool in process and returns its exit code, standard
// output and standard error.
func runToolCode(t *testing.T, name string, stdin []byte, args ...string) (int, []byte, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdin: bytes.NewReader(stdin), Stdout: &out, Stderr: &errb, IsTerminal: func(any) bool { return false }}
	code := Main(name, args, env)
	return code, out.Bytes(), errb.String()
}
