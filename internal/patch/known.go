package patch

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ibt-tools/ibt/internal/tree"
)

// The known file of DIR lists the files of DIR that the last successful
// ibt-patch verified, each with its content hash and what lstat said of it
// then: device, inode, size, mtime and ctime. A later run takes the hash of
// a file whose lstat is unchanged from there instead of reading the file,
// both to check an old version (the base of an update, a file to delete)
// and to verify the tree. Without it every run of a restore chain reads
// the whole tree once to verify it, and every updated file once more to
// check its base; with it a run reads what it changes.
//
// This is the quick check of ibt-sign --prev and of git's index. Every
// write moves a file's ctime to the current time, which nothing can set
// back, and its mtime too (which utimes can set back); the kernel's clock
// for them is coarse. So a write a clock tick or more after the record
// moves the ctime, and one within the same tick still moves the mtime,
// unless the mtime is set back as well, by a deliberate race within that
// tick. trusted keeps out the files where the same tick could hide a
// write that did not even set the mtime back. The check is as good as the
// filesystem's ctime: one that makes it up (sshfs reports the mtime) or a
// client that caches attributes (NFS) can hide a write, as they can from
// ibt-sign --prev. The first shows in the files the commit placed, and no
// known file is kept there (see placedFile); on the second, run with
// --no-known (Options.NoKnown). The list is written during the
// verification walk, in its path order, and replaces the old one only once
// the tree hash matched; it is read forward, side by side with the
// archive's changes or the walk. Files the commit placed go in only while
// untouched since (see placed.go).
//
// The file is a cache: anything wrong with it (missing, from another
// version, truncated, a record whose checksum fails) ends its use at that
// point, and the files it no longer vouches for are read. It lives in the
// user's cache directory (Options.KnownDir), not in DIR, so that a patched
// DIR holds exactly the archive's tree and nothing of ibt's.
const (
	knownMagic = "ibt-patch known 2\n"
	// maxKnownRecord bounds one record: a path of the deepest tree the
	// archive reader accepts, with room to spare.
	maxKnownRecord = 1 << 20
)

// racyWindow is how long before the walk that recorded it a file must
// have changed last, unless its mtime is that much older than its ctime.
// Kernels stamp times with a coarse clock, so a file written again within
// a tick of being recorded may keep both times if its mtime was already
// that tick's; a file whose mtime is well before its ctime (as ibt-patch
// leaves every file it restores) does not: a write sets the mtime to the
// current time, at or after the ctime, and only a deliberate utimes back
// within the tick would hide it.
const racyWindow = 2 * time.Second

var knownCRC = crc32.MakeTable(crc32.Castagnoli)

// knownFile is one record.
type knownFile struct {
	path               string
	dev, ino           uint64
	size, mtime, ctime int64
	hash               []byte
}

// matches reports whether n is the file the record describes, unchanged.
func (k *knownFile) matches(n *tree.Node) bool {
	return n.Type == tree.TypeFile && n.Inode != 0 && k.ino == n.Inode && k.dev == n.Dev &&
		k.size == n.Size && k.mtime == n.MTime && k.ctime == n.CTime
}

// knownReader reads a known file forward.
type knownReader struct {
	f   *os.File
	r   *bufio.Reader
	cur knownFile
	has bool // cur holds a record
	end bool // no more records: the end, or the first one that failed
	buf []byte
}

// knownPlace is where the known file of one DIR is kept: a file in the
// known directory named by DIR's absolute path, and its temporary name.
type knownPlace struct {
	root       *os.Root
	name, temp string
}

// openKnownPlace opens the known directory, creating it if need be, and
// names DIR's known file there. Without one (dir is "", or it cannot be
// made) no known file is kept: nil, which reads nothing and writes nothing.
func openKnownPlace(dir, knownDir string) *knownPlace {
	if knownDir == "" {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	if err := os.MkdirAll(knownDir, 0o700); err != nil {
		return nil
	}
	root, err := os.OpenRoot(knownDir)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256([]byte(abs))
	name := "known-" + hex.EncodeToString(sum[:16])
	return &knownPlace{root: root, name: name, temp: name + ".tmp"}
}

// remove drops the known file, as --no-known asks.
func (p *knownPlace) remove() error {
	if p == nil {
		return nil
	}
	if err := p.root.Remove(p.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (p *knownPlace) close() {
	if p != nil {
		p.root.Close()
	}
}

// openKnown opens DIR's known file, or returns nil (a reader that knows
// nothing) if there is none that this version reads.
func openKnown(p *knownPlace) *knownReader {
	if p == nil {
		return nil
	}
	f, fi, err := tree.OpenFile(p.root, p.name)
	if err != nil {
		return nil
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil
	}
	k := &knownReader{f: f, r: bufio.NewReaderSize(f, 64<<10)}
	magic := make([]byte, len(knownMagic))
	if _, err := io.ReadFull(k.r, magic); err != nil || string(magic) != knownMagic {
		k.close()
		return nil
	}
	return k
}

// next reads the next record into cur, or ends the reader.
func (k *knownReader) next() {
	k.has = false
	n, err := binary.ReadUvarint(k.r)
	if err != nil || n > maxKnownRecord {
		k.end = true
		return
	}
	if cap(k.buf) < int(n)+4 {
		k.buf = make([]byte, int(n)+4)
	}
	b := k.buf[:n+4]
	if _, err := io.ReadFull(k.r, b); err != nil ||
		crc32.Checksum(b[:n], knownCRC) != binary.LittleEndian.Uint32(b[n:]) {
		k.end = true
		return
	}
	rec, ok := decodeKnown(b[:n])
	if !ok || (k.cur.path != "" && rec.path <= k.cur.path) {
		k.end = true
		return
	}
	k.cur, k.has = rec, true
}

// lookup returns the recorded hash of the file n at path p if it is
// unchanged since it was recorded, or nil. Paths must be asked for in
// increasing order; one smaller than the last is not found.
func (k *knownReader) lookup(p string, n *tree.Node) []byte {
	if k == nil {
		return nil
	}
	for !k.end && (!k.has || k.cur.path < p) {
		k.next()
	}
	if !k.has || k.cur.path != p || !k.cur.matches(n) {
		return nil
	}
	return k.cur.hash
}

// stale reports whether the last lookup, of the file n at p, found a
// record of p that does not vouch for n: it changed since it was recorded.
func (k *knownReader) stale(p string, n *tree.Node) bool {
	return k != nil && k.has && k.cur.path == p && !k.cur.matches(n)
}

func (k *knownReader) close() {
	if k != nil && k.f != nil {
		k.f.Close()
		k.f = nil
		k.end, k.has = true, false
	}
}

// encodeKnown appends the record of n with hash h to b.
func encodeKnown(b []byte, n *tree.Node, h []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(n.Path)))
	b = append(b, n.Path...)
	b = binary.AppendUvarint(b, n.Dev)
	b = binary.AppendUvarint(b, n.Inode)
	// times and size as unsigned: a time before 1970 only takes more bytes
	b = binary.AppendUvarint(b, uint64(n.Size))
	b = binary.AppendUvarint(b, uint64(n.MTime))
	b = binary.AppendUvarint(b, uint64(n.CTime))
	b = binary.AppendUvarint(b, uint64(len(h)))
	return append(b, h...)
}

// decodeKnown decodes one record, refusing anything left over.
func decodeKnown(b []byte) (knownFile, bool) {
	var k knownFile
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	bytesOf := func() []byte {
		n := uv()
		if b == nil || n > uint64(len(b)) {
			b = nil
			return nil
		}
		v := b[:n]
		b = b[n:]
		return v
	}
	k.path = string(bytesOf())
	k.dev, k.ino = uv(), uv()
	k.size, k.mtime, k.ctime = int64(uv()), int64(uv()), int64(uv())
	k.hash = append([]byte(nil), bytesOf()...)
	if b == nil || len(b) != 0 || k.path == "" || len(k.hash) == 0 {
		return knownFile{}, false
	}
	return k, true
}

// knownWriter writes the known file of a verification walk to a temporary
// file, which replaces the known file once the walk has verified the tree.
type knownWriter struct {
	place  *knownPlace
	f      *os.File
	w      *bufio.Writer
	cutoff int64 // files whose ctime is at or after this are racy
	n      int   // records written
	// madeUp says the filesystem does not keep a real ctime (see
	// placedFile); nothing written is then kept.
	madeUp bool
	rec    []byte
	err    error
}

// createKnown starts the known file of a walk that starts at walkStart.
// Without a place it returns nil, which records nothing.
func createKnown(p *knownPlace, walkStart time.Time) (*knownWriter, error) {
	if p == nil {
		return nil, nil
	}
	if err := p.root.Remove(p.temp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	f, err := p.root.OpenFile(p.temp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	w := &knownWriter{place: p, f: f, w: bufio.NewWriterSize(f, 64<<10), cutoff: walkStart.Add(-racyWindow).UnixNano()}
	_, w.err = w.w.WriteString(knownMagic)
	return w, nil
}

// trusted reports whether a later write to n is sure to change its mtime
// or its ctime, so that n may be recorded (see racyWindow).
func (w *knownWriter) trusted(n *tree.Node) bool {
	return n.Inode != 0 && (n.CTime < w.cutoff || n.MTime < n.CTime-int64(racyWindow))
}

// placedFile looks at a file the commit placed, whose ctime must be the
// time of its rename: a filesystem that reports an old mtime as its ctime
// instead (sshfs, for one) makes the ctime up, and the check cannot rest
// on it. The walk's known file is then dropped, and the old one too.
func (w *knownWriter) placedFile(n *tree.Node) {
	if w != nil && n.CTime == n.MTime && n.CTime < w.cutoff {
		w.madeUp = true
	}
}

// add records the file n, of content hash h, if it can be trusted later.
func (w *knownWriter) add(n *tree.Node, h []byte) {
	if w == nil || w.err != nil || len(h) == 0 || !w.trusted(n) {
		return
	}
	w.rec = encodeKnown(w.rec[:0], n, h)
	var hdr [binary.MaxVarintLen64]byte
	if _, w.err = w.w.Write(hdr[:binary.PutUvarint(hdr[:], uint64(len(w.rec)))]); w.err != nil {
		return
	}
	if _, w.err = w.w.Write(w.rec); w.err != nil {
		return
	}
	_, w.err = w.w.Write(binary.LittleEndian.AppendUint32(hdr[:0], crc32.Checksum(w.rec, knownCRC)))
	w.n++
}

// commit puts the new known file in place of the old one, or, if it
// vouches for no file or the filesystem makes ctimes up, removes both.
// It is not flushed to disk: a known file lost or torn in a crash only
// costs reads.
func (w *knownWriter) commit() error {
	if w == nil {
		return nil
	}
	if w.err == nil && (w.n == 0 || w.madeUp) {
		w.abort()
		return w.place.remove()
	}
	err := w.err
	if err == nil {
		err = w.w.Flush()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.place.root.Rename(w.place.temp, w.place.name)
	}
	if err != nil {
		w.place.root.Remove(w.place.temp)
	}
	return err
}

// abort drops the new known file; the old one, if any, stays.
func (w *knownWriter) abort() {
	if w != nil {
		w.f.Close()
		w.place.root.Remove(w.place.temp)
	}
}
