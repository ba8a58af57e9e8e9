package show

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func printFile(t *testing.T, name string, opt Options) string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	if err := Print(&out, f, opt); err != nil {
		t.Fatalf("Print(%s): %v", name, err)
	}
	return out.String()
}

// TestPrintStream prints a golden index as JSON lines: a header that keeps
// the seed secret, one line an entry, a trailer.
func TestPrintStream(t *testing.T) {
	for _, name := range []string{"../../format/testdata/index.ibt", "../../format/testdata/index.ibt.lz4"} {
		lines := strings.Split(strings.TrimSpace(printFile(t, name, Options{})), "\n")
		var first, last map[string]any
		if json.Unmarshal([]byte(lines[0]), &first) != nil || json.Unmarshal([]byte(lines[len(lines)-1]), &last) != nil {
			t.Fatalf("%s: not JSON lines:\n%s", name, strings.Join(lines, "\n"))
		}
		if first["record"] != "header" || first["kind"] != "index" || last["record"] != "trailer" {
			t.Errorf("%s: first line %v, last %v", name, first, last)
		}
		if h := first["header"].(map[string]any); !strings.Contains(h["seed"].(string), "not shown") {
			t.Errorf("%s: the seed is shown: %v", name, h["seed"])
		}
		if !strings.Contains(lines[1], `"record":"entry"`) {
			t.Errorf("%s: second line %s, want an entry", name, lines[1])
		}
	}
}

func TestPrintSummary(t *testing.T) {
	got := printFile(t, "../../format/archive/testdata/full.tar.gz", Options{Summary: true})
	for _, want := range []string{"kind       archive\n", "created    9\n", "literal    1551 bytes\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	got = printFile(t, "../../format/testdata/delta.ibt", Options{Summary: true, JSON: true})
	want := `{"copied_bytes":5000,"created":2,"deleted":1,"kind":"delta","literal_bytes":113,"metadata":2,"renamed":0,"renamed_bytes":0,"replaced":1,"updated":1}` + "\n"
	if got != want {
		t.Errorf("JSON summary = %s, want %s", got, want)
	}
}

func TestPrintRefusesOther(t *testing.T) {
	var out bytes.Buffer
	if err := Print(&out, strings.NewReader("hello\n"), Options{}); err == nil {
		t.Error("Print of text succeeded")
	}
}

func TestAddString(t *testing.T) {
	m := map[string]any{}
	AddString(m, "path", "ok")
	AddString(m, "bad", "a\xffb")
	if m["path"] != "ok" || m["path_base64"] != nil || m["bad_base64"] != "Yf9i" {
		t.Errorf("AddString gave %v", m)
	}
}
