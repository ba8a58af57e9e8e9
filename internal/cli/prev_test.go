package cli

import (
	"bytes"
	"testing"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/rsync"
)

// TestPrevReuse pins the quick check of ibt-sign --prev: a previous hash is
// reused only when size, mtime, ctime, inode and device all match and the
// file last changed well before the previous walk.
func TestPrevReuse(t *testing.T) {
	walk := time.Now().UnixNano()
	old := time.Unix(0, walk).Add(-time.Hour).UnixNano()
	base := format.Entry{Path: "f", Type: format.TypeFile, Mode: 0o644, Size: 10, MTime: old, CTime: old,
		Inode: 7, Dev: 1, Hash: bytes.Repeat([]byte{1}, 32), BlockSize: uint32(rsync.BlockSize(10))}
	tests := []struct {
		name   string
		change func(e *format.Entry)
		reuse  bool
	}{
		{"unchanged", func(*format.Entry) {}, true},
		{"size", func(e *format.Entry) { e.Size = 11 }, false},
		{"mtime", func(e *format.Entry) { e.MTime++ }, false},
		{"ctime (content rewritten, mtime put back)", func(e *format.Entry) { e.CTime++ }, false},
		{"inode (unpacked again)", func(e *format.Entry) { e.Inode++ }, false},
		{"device", func(e *format.Entry) { e.Dev++ }, false},
		{"racy: changed just before the walk", func(e *format.Entry) {
			e.CTime = walk - int64(time.Second)
		}, false},
		{"other path", func(e *format.Entry) { e.Path = "g" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := format.NewWriter(&buf, format.Header{Kind: format.KindIndex, Tool: "test", Time: walk}, format.WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			prevEntry := base
			if tt.name == "racy: changed just before the walk" {
				tt.change(&prevEntry)
			}
			if err := w.WriteEntry(&prevEntry); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(format.Trailer{}); err != nil {
				t.Fatal(err)
			}
			r, err := format.NewReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			p := &prevIndex{r: r, name: "prev", cutoff: walk - int64(racyWindow)}
			if err := p.advance(); err != nil {
				t.Fatal(err)
			}
			cur := base
			cur.Hash, cur.BlockSize = nil, 0
			tt.change(&cur)
			got, err := p.reuse(&cur)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.reuse {
				t.Fatalf("reuse = %v, want %v", got, tt.reuse)
			}
			if got && !bytes.Equal(cur.Hash, base.Hash) {
				t.Fatalf("reused entry has hash %x, want %x", cur.Hash, base.Hash)
			}
		})
	}
}
