package format

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden streams in testdata")

// TestGolden pins the byte layout: writing the golden records must give the
// bytes in testdata, and reading those bytes must give the records back.
func TestGolden(t *testing.T) {
	for _, g := range goldens {
		for _, lz := range []bool{false, true} {
			t.Run(g.file(lz), func(t *testing.T) {
				got, err := g.encode(lz)
				if err != nil {
					t.Fatal(err)
				}
				if *update {
					if err := os.WriteFile(g.file(lz), got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(g.file(lz))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("encoding differs from %s (run go test -update if the format changed on purpose)\ngot  %x\nwant %x", g.file(lz), got, want)
				}
				again, err := reencode(want, lz)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(again, want) {
					t.Errorf("decode then encode differs from %s\ngot  %x\nwant %x", g.file(lz), again, want)
				}
			})
		}
	}
}

// loadGoldens returns the golden streams by file name.
func loadGoldens(t testing.TB) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, g := range goldens {
		for _, lz := range []bool{false, true} {
			data, err := os.ReadFile(g.file(lz))
			if err != nil {
				t.Fatal(err)
			}
			m[g.file(lz)] = data
		}
	}
	return m
}
