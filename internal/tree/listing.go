package tree

import (
	"bytes"
	"os"
	"slices"
)

// listing is one directory's entries in the order Walk emits them. The walk
// must produce paths in bytewise order, and a depth-first walk over sorted
// names does not: "a.b" sorts between the directory "a" and "a/x" because
// '.' < '/'. So every directory contributes two items, its own entry at key
// name and its subtree at key name+"/", and all items sort by key. Names live
// in one arena so a listing costs no allocation per entry once its buffers
// have grown.
type listing struct {
	arena []byte
	items []item
	dirs  []dirState
}

// item is one step of the walk through a listing: emitting an entry, or
// descending into a directory emitted earlier in the same listing.
type item struct {
	off, end uint32 // key in arena; a directory's name is stored with its '/'
	kind     kind   // as the listing saw it
	descend  bool   // the key includes the '/': this is the subtree
	dir      int32  // index into dirs, for directories
}

// dirState carries what emitting a directory found to its descent.
type dirState struct {
	skip       bool // excluded, vanished or the staging directory
	dev, inode uint64
}

func (l *listing) reset() {
	l.arena = l.arena[:0]
	l.items = l.items[:0]
	l.dirs = l.dirs[:0]
}

func add[S string | []byte](l *listing, name S, k kind) {
	off := uint32(len(l.arena))
	l.arena = append(l.arena, name...)
	end := uint32(len(l.arena))
	if k != kindDir {
		l.items = append(l.items, item{off: off, end: end, kind: k, dir: -1})
		return
	}
	l.arena = append(l.arena, '/')
	d := int32(len(l.dirs))
	l.dirs = append(l.dirs, dirState{})
	l.items = append(l.items,
		item{off: off, end: end, kind: k, dir: d},
		item{off: off, end: end + 1, kind: k, descend: true, dir: d})
}

// has reports whether the sorted listing holds an entry named name.
func (l *listing) has(name string) bool {
	_, ok := slices.BinarySearchFunc(l.items, []byte(name), func(it item, name []byte) int {
		return bytes.Compare(l.arena[it.off:it.end], name)
	})
	return ok
}

func (l *listing) sort() {
	slices.SortFunc(l.items, func(a, b item) int {
		return bytes.Compare(l.arena[a.off:a.end], l.arena[b.off:b.end])
	})
}

// name is the entry's name, without the '/' of a descent.
func (l *listing) name(it item) []byte {
	end := it.end
	if it.descend {
		end--
	}
	return l.arena[it.off:end]
}

// addAll adds every entry of the open directory f, for the systems whose
// listings go through os.File.ReadDir.
func addAll(l *listing, f *os.File) error {
	ents, err := f.ReadDir(-1)
	if err != nil {
		return err
	}
	for _, e := range ents {
		add(l, e.Name(), kindOfMode(e.Type()))
	}
	return nil
}
