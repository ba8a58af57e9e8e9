package delta

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/rsync"
)

var seed = []byte("ibt delta test16")

// entryOf writes data to p under dir and returns its entry, signed with
// the test seed.
func entryOf(t *testing.T, dir, p string, data []byte) *format.Entry {
	t.Helper()
	name := filepath.Join(dir, p)
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Unix(1_700_000_000, 0)
	if err := os.Chtimes(name, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	key, err := format.NewStrongKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(data))
	hash, sig, err := rsync.SignFile(bytes.NewReader(data), size, 1, key)
	if err != nil {
		t.Fatal(err)
	}
	return &format.Entry{Path: p, Type: format.TypeFile, Mode: 0o644, MTime: mtime.UnixNano(), Size: size,
		Hash: hash, BlockSize: uint32(format.BlockSize(size)), Sig: sig}
}

// diffOf returns a reader of a diff stream of changes.
func diffOf(t *testing.T, changes ...*format.Change) *format.Reader {
	t.Helper()
	var buf bytes.Buffer
	w, err := format.NewWriter(&buf, format.Header{Kind: format.KindDiff, Tool: "test", Seed: seed, Time: 7}, format.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if err := w.WriteChange(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(format.Trailer{TreeHash: bytes.Repeat([]byte{9}, 32)}); err != nil {
		t.Fatal(err)
	}
	r, err := format.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func openRoot(t *testing.T, dir string) *os.Root {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

// TestWrite makes the delta of a created and an updated file and checks
// the stream: the header, each change without its signature, and data
// that rebuilds each new version.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	old := make([]byte, 300<<10)
	for i := range old {
		old[i] = byte(rng.Uint32())
	}
	oldEntry := entryOf(t, dir, "u", old)
	updated := append(append([]byte{}, old[:100<<10]...), append([]byte("inserted"), old[100<<10:]...)...)
	newEntry := entryOf(t, dir, "u", updated)
	created := []byte("a created file\n")
	createdEntry := entryOf(t, dir, "c", created)
	newEntry.Sig, createdEntry.Sig = nil, nil // a diff has only the old ones
	diff := diffOf(t,
		&format.Change{Op: format.OpCreate, New: createdEntry},
		&format.Change{Op: format.OpUpdate, Old: oldEntry, New: newEntry},
	)

	var out bytes.Buffer
	st, err := Write(diff, openRoot(t, dir), Options{Tool: "test", Jobs: 2, Name: "d"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	r, err := format.NewReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.Kind != format.KindDelta || h.Root != dir || h.Time != 7 || len(h.Seed) != 0 {
		t.Errorf("header %+v: want a delta of %q, walk time 7, no seed", h, dir)
	}
	got := map[string][]byte{}
	var cur *format.Change
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch rec := rec.(type) {
		case *format.Change:
			cur = rec
			if rec.Old != nil && rec.Old.Sig != nil {
				t.Errorf("%q: the delta carries the old signature", rec.Path())
			}
			got[rec.Path()] = []byte{}
		case *format.Literal:
			got[cur.Path()] = append(got[cur.Path()], rec.Data...)
		case *format.Copy:
			got[cur.Path()] = append(got[cur.Path()], old[rec.Offset:rec.Offset+rec.Length]...)
		}
	}
	if !bytes.Equal(got["c"], created) || !bytes.Equal(got["u"], updated) {
		t.Errorf("the delta does not rebuild the new versions")
	}
	if !bytes.Equal(r.Trailer().TreeHash, bytes.Repeat([]byte{9}, 32)) {
		t.Errorf("tree hash %x, want the diff's", r.Trailer().TreeHash)
	}
	want := Stats{Files: 2, Read: int64(len(created) + len(updated))}
	if st.Files != want.Files || st.Read != want.Read || st.Literal+st.Copied != want.Read || st.Copied < int64(len(old))*9/10 {
		t.Errorf("stats %+v: want %d files, %d bytes read, most of them copied", st, want.Files, want.Read)
	}
}

// TestWriteChangedSinceSigned checks that a file unlike its entry in the
// diff fails the stream, with the fix.
func TestWriteChangedSinceSigned(t *testing.T) {
	dir := t.TempDir()
	e := entryOf(t, dir, "f", []byte("signed content\n"))
	e.Sig = nil
	for name, change := range map[string]func(){
		"size":    func() { e.Size++ },
		"content": func() { e.Hash = bytes.Repeat([]byte{1}, 32) },
	} {
		t.Run(name, func(t *testing.T) {
			saved := *e
			defer func() { *e = saved }()
			change()
			_, err := Write(diffOf(t, &format.Change{Op: format.OpCreate, New: e}), openRoot(t, dir), Options{Tool: "test"}, io.Discard)
			var h interface{ Hint() string }
			if err == nil || !strings.Contains(err.Error(), `"f" changed since it was signed`) ||
				!errors.As(err, &h) || !strings.Contains(h.Hint(), "run ibt-sign and ibt-diff again") {
				t.Fatalf("got %v, want a change since signing, with the fix", err)
			}
		})
	}
}
