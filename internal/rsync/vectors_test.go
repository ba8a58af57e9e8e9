package rsync

import (
	"bytes"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// TestSpecVectors checks the fast implementations against the spec's ok
// index vector: Sign and SignFile must give every file the hash and
// signature recorded there, computed from format's doc.go.
func TestSpecVectors(t *testing.T) {
	data, err := os.ReadFile("../../format/testdata/vectors/index.vec")
	if err != nil {
		t.Fatal(err)
	}
	head, stream, _ := bytes.Cut(data, []byte("\n\n"))
	content := map[string][]byte{}
	for _, line := range strings.Split(string(head), "\n") {
		if rest, ok := strings.CutPrefix(line, "file: "); ok {
			p, h, _ := strings.Cut(rest, " ")
			if content[p], err = hex.DecodeString(h); err != nil {
				t.Fatal(err)
			}
		}
	}
	r, err := format.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	key, err := format.NewStrongKey(r.Header().Seed)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		e, ok := rec.(*format.Entry)
		if !ok || e.Type != format.TypeFile || e.LinkTo != "" {
			continue
		}
		d := content[e.Path]
		hash, sig, err := Sign(bytes.NewReader(d), e.Size, key)
		if err != nil {
			t.Fatal(err)
		}
		phash, psig, err := SignFile(bytes.NewReader(d), e.Size, 2, key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(hash, e.Hash) || !bytes.Equal(sig, e.Sig) || !bytes.Equal(phash, e.Hash) || !bytes.Equal(psig, e.Sig) {
			t.Errorf("%s: Sign gives %x %x, SignFile %x %x; the vector has %x %x", e.Path, hash, sig, phash, psig, e.Hash, e.Sig)
		}
		checked++
	}
	if checked != 4 {
		t.Errorf("checked %d files, want 4", checked)
	}
}
