package format

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestTreeHasher(t *testing.T) {
	base := func() *Entry {
		return &Entry{Path: "a/b", Type: TypeFile, Mode: 0o644, MTime: 1, Size: 3, Hash: sum("abc"), BlockSize: 2048}
	}
	ref := treeHash(base())
	if len(ref) != 32 {
		t.Fatalf("Sum is %d bytes, want 32", len(ref))
	}
	tests := []struct {
		name    string
		edit    func(e *Entry)
		changes bool
	}{
		{"path", func(e *Entry) { e.Path = "a/c" }, true},
		{"type", func(e *Entry) { e.Type = TypeDir }, true},
		{"mode", func(e *Entry) { e.Mode = 0o600 }, true},
		{"mtime", func(e *Entry) { e.MTime = 2 }, true},
		{"size", func(e *Entry) { e.Size = 4 }, true},
		{"target", func(e *Entry) { e.Target = "x" }, true},
		{"hash", func(e *Entry) { e.Hash = sum("abd") }, true},
		{"link", func(e *Entry) { e.LinkTo = "a/a" }, true},
		{"owner", func(e *Entry) { e.UID, e.GID = 1000, 1000 }, false},
		{"xattrs", func(e *Entry) { e.Xattrs = []Xattr{{Name: "user.x", Value: []byte("y")}} }, false},
		{"dev inode ctime", func(e *Entry) { e.Dev, e.Inode, e.CTime = 1, 2, 3 }, false},
		{"block size and signature", func(e *Entry) { e.BlockSize, e.Sig = 1, sigOf(3, 1) }, false},
	}
	for _, tt := range tests {
		e := base()
		tt.edit(e)
		if got := treeHash(e); !bytes.Equal(got, ref) != tt.changes {
			t.Errorf("changing the %s: tree hash changed %t, want %t", tt.name, !bytes.Equal(got, ref), tt.changes)
		}
	}
	// Moving bytes between adjacent fields must change the hash.
	a := &Entry{Path: "ab", Target: "c", Type: TypeSymlink}
	b := &Entry{Path: "a", Target: "bc", Type: TypeSymlink}
	if bytes.Equal(treeHash(a), treeHash(b)) {
		t.Error("entries differing only in field boundaries hash alike")
	}
	if bytes.Equal(treeHash(base(), base()), treeHash(base())) {
		t.Error("an entry added twice hashes like once")
	}
	// Pin the empty tree's hash: sha256("ibt tree hash v1\x00").
	const empty = "38bbad7735384ed5a9f4b0defe27701c7591b0d383454f487d34498821a276ab"
	if got := hex.EncodeToString(NewTreeHasher().Sum()); got != empty {
		t.Errorf("empty tree hash %s, want %s", got, empty)
	}
}

// TestTreeHasherLeavesOutSkipped checks that a skipped entry adds nothing:
// a full backup of its index does not hold it.
func TestTreeHasherLeavesOutSkipped(t *testing.T) {
	a := &Entry{Path: "a", Type: TypeFile, Mode: 0o644, MTime: 1, Size: 3, Hash: sum("abc")}
	f := &Entry{Path: "f", Type: TypeFile, Mode: 0o644, MTime: 2, Size: 9, Skipped: true}
	without, with := NewTreeHasher(), NewTreeHasher()
	without.Add(a)
	with.Add(a)
	with.Add(f)
	if !bytes.Equal(with.Sum(), without.Sum()) {
		t.Error("a skipped entry changes the tree hash")
	}
}
