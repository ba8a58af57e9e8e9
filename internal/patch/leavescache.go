package patch

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"

	"github.com/ibt-tools/ibt/format"
)

// The leaves of a big file's hash are kept in the cache beside the known
// files, so that the next update of that file reads only what changed.
// "sha256-blocks" hashes the SHA-256 of each block (a leaf) in order: a
// patch that clones the old version (clone.go) leaves most blocks as they
// were, and where the old version's leaves are at hand, the new version's
// hash needs a read of the blocks the patch wrote and no other.
//
// A leaves file is named by the file hash its leaves give (the hex of the
// outer hash), and holds nothing else: the leaves, 32 bytes a block, of a
// file of the size and block size the hash itself commits to. It is
// written whenever ibt-patch hashes a big file whole, as a new version it
// staged and verified or as a file it read, and is used only if its leaves
// do hash to the old version's recorded hash: so it says nothing that the
// hash does not, whoever wrote it, and a damaged or foreign one is not
// used. Being content-addressed, it serves any DIR that holds that
// content.
//
// Why skipping the reads is sound: the cached leaves are the leaves of
// the old version (they hash to its hash). They are used only for an
// update whose base is the old version, either read and hashed in this run
// or vouched for by the known file's quick check (see known.go), the rule
// by which ibt-patch already takes a file for its old version without
// reading it. The staged file is a clone of that base, and a block of it
// that lies inside a copy from the same offset was not written since: it
// holds the base's bytes, whose leaf is the cached one. The new version's
// hash, from those leaves and from a read of every other block, is then
// the hash of the staged file's content, checked against the archive's
// before the rename as always. What this trusts beyond a full read is what
// the known file trusts: that a file whose device, inode, size, mtime and
// ctime are unchanged has unchanged content.

// leavesMin is the smallest file whose leaves are kept: below it, a read
// of the whole file costs little.
var leavesMin int64 = 64 << 20

// leavesCache is the directory of leaves files, or nil: none are kept.
type leavesCache struct{ root *os.Root }

// openLeavesCache opens (creating it) the leaves directory under knownDir,
// or returns nil if there is none to use.
func openLeavesCache(knownDir string) *leavesCache {
	if knownDir == "" {
		return nil
	}
	dir := filepath.Join(knownDir, "leaves")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil
	}
	return &leavesCache{root: root}
}

func (c *leavesCache) close() {
	if c != nil {
		c.root.Close()
	}
}

// create starts the leaves file of a file of size bytes, or returns nil
// (a tee that keeps nothing) if it is too small or none can be written.
func (c *leavesCache) create(size int64) *leavesTee {
	if c == nil || size < leavesMin {
		return nil
	}
	var r [8]byte
	rand.Read(r[:])
	name := "tmp-" + hex.EncodeToString(r[:])
	f, err := c.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil
	}
	return &leavesTee{c: c, f: f, w: bufio.NewWriterSize(f, 256<<10), name: name}
}

// remove drops the leaves of the file hash h: its file was replaced.
func (c *leavesCache) remove(h []byte) {
	if c != nil {
		c.root.Remove(hex.EncodeToString(h))
	}
}

// leavesTee writes the leaves of a file as they are hashed, in order.
type leavesTee struct {
	c    *leavesCache
	f    *os.File
	w    *bufio.Writer
	name string
	err  error
}

func (t *leavesTee) add(leaves []byte) {
	if t != nil && t.err == nil {
		_, t.err = t.w.Write(leaves)
	}
}

// keep names the leaves file by h, the file hash they gave, and ends the
// tee; drop ends it keeping nothing. Either may follow the other.
func (t *leavesTee) keep(h []byte) {
	if t == nil || t.f == nil {
		return
	}
	err := t.err
	if err == nil {
		err = t.w.Flush()
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	t.f = nil
	if err == nil {
		err = t.c.root.Rename(t.name, hex.EncodeToString(h))
	}
	if err != nil {
		t.c.root.Remove(t.name)
	}
}

func (t *leavesTee) drop() {
	if t == nil || t.f == nil {
		return
	}
	t.f.Close()
	t.f = nil
	t.c.root.Remove(t.name)
}

// cachedLeaves reads the leaves of a file hash from the cache, forward.
type cachedLeaves struct {
	f    *os.File
	r    *bufio.Reader
	n    int64 // leaves in the file
	next int64 // index of the next leaf r returns
	leaf [32]byte
}

// open returns the cached leaves of the file of size bytes in blocks of
// bs whose file hash is h, or nil if there are none that hash to h.
func (c *leavesCache) open(h []byte, size int64, bs int) *cachedLeaves {
	if c == nil || size < leavesMin {
		return nil
	}
	f, err := c.root.Open(hex.EncodeToString(h))
	if err != nil {
		return nil
	}
	n := format.BlockCount(size, bs)
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != n*32 {
		f.Close()
		return nil
	}
	// The leaves are used only if they give the hash: read them once
	// to check, and again as they are used.
	fh := format.NewFileHasher(size, bs)
	if _, err := io.Copy(leafAdder{fh}, bufio.NewReaderSize(f, 256<<10)); err != nil || !bytes.Equal(fh.Sum(), h) {
		f.Close()
		return nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil
	}
	return &cachedLeaves{f: f, r: bufio.NewReaderSize(f, 256<<10), n: n}
}

// leafAdder adds what is written to it to a FileHasher as leaves.
type leafAdder struct{ h *format.FileHasher }

func (a leafAdder) Write(p []byte) (int, error) { a.h.AddLeaves(p); return len(p), nil }

// at returns leaf i; indexes must increase. A failure to read ends the
// leaves: nil.
func (l *cachedLeaves) at(i int64) []byte {
	if l == nil || i < l.next || i >= l.n {
		return nil
	}
	if _, err := l.r.Discard(int((i - l.next) * 32)); err != nil {
		l.close()
		return nil
	}
	if _, err := io.ReadFull(l.r, l.leaf[:]); err != nil {
		l.close()
		return nil
	}
	l.next = i + 1
	return l.leaf[:]
}

func (l *cachedLeaves) close() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
		l.n = 0
	}
}
