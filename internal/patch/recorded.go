package patch

import (
	"io/fs"
	"os"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
)

// An archive's old entries repeat what the old index's walk saw of each
// file: device, inode, size, mtime and ctime besides the hash. When DIR is
// the tree that index was made of, as in rsync's own workflow (the
// receiver signs its files, the sender sends the delta against that
// signature, the receiver patches), a file whose lstat still says all of
// that is the file ibt-sign read to hash, unchanged: every write moves the
// ctime, which nothing can set back. ibt-patch then takes the old entry's
// hash instead of reading the file again, the rule by which ibt-sign
// --prev reuses an index's entries, with the same care for files changed
// within a clock tick of that walk (see racyWindow): the archive's header
// says when the old index's walk began, and an entry whose ctime is not
// well before it is read. A copy of the tree, or a tree restored elsewhere,
// has other inodes or ctimes, and is read (or vouched for by its own known
// file). Options.NoKnown turns this off with the known file, for
// filesystems whose attributes a client caches; a filesystem that makes its
// ctimes up turns it off by itself (see ctimesReal), as it does the known
// file (see knownWriter.placedFile). A dry run, which writes nothing to
// probe with, reads every old version it checks.

// recordedCutoff returns the ctime before which an old entry's quick check
// fields may be trusted, or 0 if none may: the archive does not say when
// its old index was made (a full backup, or an archive of an older ibt),
// or says a time to come, which no walk on this machine's clock began at
// (a clock set back, or a forged header that would widen the window).
func recordedCutoff(h format.Header, noKnown bool, now time.Time) int64 {
	if noKnown || h.Time <= int64(racyWindow) || h.Time > now.UnixNano() {
		return 0
	}
	return h.Time - int64(racyWindow)
}

// ctimesReal reports whether the filesystem of the staging directory keeps
// a ctime of its own: a file given an old mtime must show a later ctime.
// sshfs, for one, reports the mtime as the ctime, and there a write that
// puts the size and mtime back would pass the quick check.
// The probe is made in the staging directory, which is on DIR's
// filesystem and which ibt-patch empties on every run.
func ctimesReal(root *os.Root) bool {
	name := stageDir + "/ctime-probe"
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false
	}
	f.Close()
	defer root.Remove(name)
	old := time.Unix(1e9, 0) // 2001, before any file this run could write
	if err := root.Chtimes(name, old, old); err != nil {
		return false
	}
	fi, err := root.Lstat(name)
	if err != nil {
		return false
	}
	n := tree.NodeFromInfo(name, fi, "")
	return n.Inode != 0 && n.MTime == old.UnixNano() && n.CTime > n.MTime
}

// recorded reports whether the file n is, unchanged, the one the old index
// recorded as e, whose hash is then e's.
func (d *disk) recorded(n *tree.Node, e *format.Entry) bool {
	return d.recordedCutoff != 0 && e != nil && e.Type == format.TypeFile && len(e.Hash) > 0 &&
		n.Type == tree.TypeFile && e.Inode != 0 && e.CTime < d.recordedCutoff &&
		n.Inode == e.Inode && n.Dev == e.Dev && n.Size == e.Size && n.MTime == e.MTime && n.CTime == e.CTime
}

// rememberRecorded takes old's hash as the content hash of fi at p when the
// old index's record of the file still holds (see recorded), so that
// checking it against the old and new versions reads nothing.
func (d *disk) rememberRecorded(p string, fi fs.FileInfo, old *format.Entry) {
	if fi == nil || old == nil || d.recordedCutoff == 0 {
		return
	}
	if _, ok := d.hashes[p]; ok {
		return
	}
	if d.recorded(tree.NodeFromInfo(p, fi, ""), old) {
		d.remember(p, old.Hash)
	}
}
