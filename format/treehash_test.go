package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
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
	// A device's number counts; anything else's is not even read.
	dev := &Entry{Path: "d", Type: TypeCharDev, Mode: 0o666, Rdev: MakeRdev(1, 3)}
	other := *dev
	other.Rdev = MakeRdev(1, 5)
	if bytes.Equal(treeHash(dev), treeHash(&other)) {
		t.Error("devices differing only in their number hash alike")
	}
	other = *dev
	other.Type = TypeBlockDev
	if bytes.Equal(treeHash(dev), treeHash(&other)) {
		t.Error("a character and a block device of one number hash alike")
	}
	fifo := &Entry{Path: "p", Type: TypeFIFO, Mode: 0o644}
	if bytes.Equal(treeHash(fifo), treeHash(&Entry{Path: "p", Type: TypeSocket, Mode: 0o644})) {
		t.Error("a fifo and a socket hash alike")
	}
	// The rule in doc.go, byte for byte: the device number follows the
	// fields every entry has, and nothing follows them for a fifo.
	h := sha256.New()
	h.Write([]byte(treeHashDomain))
	h.Write(specialBytes("d", TypeCharDev, 0o666))
	h.Write([]byte{0, 0, 0, 1, 0, 0, 0, 3}) // major 1, minor 3
	h.Write(specialBytes("p", TypeFIFO, 0o644))
	if got := treeHash(dev, fifo); !bytes.Equal(got, h.Sum(nil)) {
		t.Errorf("tree hash of a device and a fifo %x, want %x as doc.go lays it out", got, h.Sum(nil))
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

// specialBytes is the tree hash input of a special file of mtime 0 before
// any device number: path, type, mode, then mtime, size and the lengths of
// an empty target, hash and link.
func specialBytes(path string, t Type, mode uint32) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(len(path)))
	b = append(append(b, path...), byte(t))
	b = binary.BigEndian.AppendUint32(b, mode)
	return append(b, make([]byte, 5*8)...)
}
