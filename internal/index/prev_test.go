package index

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
)

// TestPrevReuse pins the quick check of ibt-sign --prev: a previous hash is
// reused only when size, mtime, ctime, inode and device all match and the
// file last changed well before the previous walk.
func TestPrevReuse(t *testing.T) {
	walk := time.Now().UnixNano()
	old := time.Unix(0, walk).Add(-time.Hour).UnixNano()
	base := format.Entry{Path: "f", Type: format.TypeFile, Mode: 0o644, Size: 10, MTime: old, CTime: old,
		Inode: 7, Dev: 1, Hash: bytes.Repeat([]byte{1}, 32), BlockSize: uint32(format.BlockSize(10))}
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
			prevEntry := base
			if tt.name == "racy: changed just before the walk" {
				tt.change(&prevEntry)
			}
			next, stop := readAhead(indexOf(t, format.Header{Time: walk}, &prevEntry))
			defer stop()
			p := newPrevIndex("prev", next, walk, "user")
			cur := base
			cur.Hash, cur.BlockSize = nil, 0
			tt.change(&cur)
			o, err := p.take(&tree.Node{Path: cur.Path})
			if err != nil {
				t.Fatal(err)
			}
			got := p.reuse(&cur, o)
			if got != tt.reuse {
				t.Fatalf("reuse = %v, want %v", got, tt.reuse)
			}
			if got && !bytes.Equal(cur.Hash, base.Hash) {
				t.Fatalf("reused entry has hash %x, want %x", cur.Hash, base.Hash)
			}
		})
	}
}

// prevOf returns a prevIndex reading the entries es, written as an index of
// a walk at walk.
func prevOf(t *testing.T, walk int64, es []format.Entry) *prevIndex {
	t.Helper()
	ptrs := make([]*format.Entry, len(es))
	for i := range es {
		ptrs[i] = &es[i]
	}
	next, stop := readAhead(indexOf(t, format.Header{Time: walk}, ptrs...))
	t.Cleanup(stop)
	return newPrevIndex("prev", next, walk, "user")
}

// TestPrevKnownXattrs pins when the walk may take an entry's extended
// attributes from the previous index instead of reading them: same type,
// inode, device and ctime, the ctime not racy, and the previous index known
// to record the namespaces this walk reads; only user.* are taken then.
func TestPrevKnownXattrs(t *testing.T) {
	walk := time.Now().UnixNano()
	old := walk - int64(time.Hour)
	attrs := []format.Xattr{{Name: "security.selinux", Value: []byte("ctx")}, {Name: "user.k", Value: []byte("v")}}
	base := format.Entry{Path: "d", Type: format.TypeDir, Mode: 0o755, MTime: old, CTime: old, Inode: 7, Dev: 1, Xattrs: attrs}
	node := tree.Node{Path: "d", Type: tree.TypeDir, Mode: 0o755, MTime: old, CTime: old, Inode: 7, Dev: 1}
	tests := []struct {
		name       string
		change     func(n *tree.Node)
		namespaces bool // the previous index recorded what this walk reads
		known      bool
	}{
		{"unchanged", func(*tree.Node) {}, true, true},
		{"unchanged, index of other namespaces", func(*tree.Node) {}, false, false},
		{"mtime (entries added: attributes kept)", func(n *tree.Node) { n.MTime++ }, true, true},
		{"ctime (attribute set)", func(n *tree.Node) { n.CTime++ }, true, false},
		{"inode", func(n *tree.Node) { n.Inode++ }, true, false},
		{"device", func(n *tree.Node) { n.Dev++ }, true, false},
		{"type", func(n *tree.Node) { n.Type = tree.TypeFile }, true, false},
		{"racy", func(n *tree.Node) { n.CTime = walk - int64(time.Second) }, true, false},
		{"other path", func(n *tree.Node) { n.Path = "e" }, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prevEntry := base
			if tt.name == "racy" {
				prevEntry.CTime = walk - int64(time.Second)
			}
			p := prevOf(t, walk, []format.Entry{prevEntry})
			p.xattrs, p.scope = tt.namespaces, "user" // a walk without root

			n := node
			tt.change(&n)
			x, ok := p.known(&n)
			if ok != tt.known {
				t.Fatalf("known = %v, want %v", ok, tt.known)
			}
			if want := []tree.Xattr{{Name: "user.k", Value: []byte("v")}}; ok && !reflect.DeepEqual(x, want) {
				t.Errorf("attributes %q, want %q", x, want)
			}
		})
	}
}

// TestPrevXattrScope pins which previous indexes a walk takes attributes
// from: one without root any index (it reads user.*, which every index
// made here holds), one as root only an index made as root.
func TestPrevXattrScope(t *testing.T) {
	for _, tt := range []struct {
		walk, index string
		want        bool
	}{
		{"user", "", true}, {"user", "user", true}, {"user", "all", true},
		{"all", "", false}, {"all", "user", false}, {"all", "all", true},
		{"", "all", false},
	} {
		if got := xattrsReusable(tt.walk, tt.index); got != tt.want {
			t.Errorf("walk %q, index %q: reusable = %v, want %v", tt.walk, tt.index, got, tt.want)
		}
	}
}

// TestPrevTakeRunsAhead checks that take hands each emitted node its own
// previous entry while the walk looks entries up ahead of emitting them,
// skips some, and the previous index is read ahead in batches, some of them
// cut short by large signatures.
func TestPrevTakeRunsAhead(t *testing.T) {
	walk := time.Now().UnixNano()
	var es []format.Entry
	for i := range 2000 {
		e := format.Entry{Path: fmt.Sprintf("f%05d", 2*i), Type: format.TypeFile, Mode: 0o644, Size: int64(i),
			Inode: uint64(i + 1), Hash: make([]byte, 32)}
		if i%300 == 0 {
			e.Size = 64 << 20
			e.Sig = make([]byte, format.SigLen(e.Size, format.BlockSize(e.Size)))
		}
		e.BlockSize = uint32(format.BlockSize(e.Size))
		es = append(es, e)
	}
	p := prevOf(t, walk, es)
	var nodes []*tree.Node
	for i := range 4001 { // every previous path and one between each two
		nodes = append(nodes, &tree.Node{Path: fmt.Sprintf("f%05d", i)})
	}
	for start := 0; start < len(nodes); start += 100 {
		run := nodes[start:min(start+100, len(nodes))]
		for _, n := range run {
			p.known(n)
		}
		for _, n := range run {
			if n.Path[len(n.Path)-1] == '4' {
				continue // vanished: never emitted
			}
			o, err := p.take(n)
			if err != nil {
				t.Fatal(err)
			}
			var i int
			fmt.Sscanf(n.Path, "f%d", &i)
			if i%2 == 1 || i >= 4000 {
				if o != nil {
					t.Fatalf("%q: got previous entry %q, want none", n.Path, o.Path)
				}
			} else if o == nil || o.Path != n.Path || o.Inode != uint64(i/2+1) {
				t.Fatalf("%q: got previous entry %+v", n.Path, o)
			}
		}
	}
}
