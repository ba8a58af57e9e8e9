package patch

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"runtime"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/rsync"
	"github.com/ibt-tools/ibt/internal/tree"
)

// stage builds the new version of a file, symlink or special file in the staging
// directory (in a dry run, only hashes it), verified and with its final
// metadata, so that the commit only renames. It consumes the change's data
// from the archive in every case, checking content against its hash even
// when the new version is already in place.
func (a *applier) stage(src *source, s *step) error {
	c := s.c
	if a.stagesTree(s) {
		return a.stageTree(s)
	}
	place := !a.opt.DryRun && s.state != stNew && c.New != nil && c.New.Type != format.TypeDir
	if place && !s.inside {
		s.staged = stageName(s.i)
	}
	if c.New != nil && c.New.LinkTo != "" {
		// A hard link is made at the commit, once its first path is in
		// place; data the archive may hold for it is read and dropped.
		s.link = true
		switch {
		case c.HasData() && c.Op == format.OpUpdate:
			return drainOps(src)
		case c.HasData():
			_, err := copyContent(io.Discard, src.content(), c.New.Size)
			return err
		}
		return nil
	}
	if c.From != "" {
		return a.stageFrom(src, s, place)
	}
	switch {
	case c.HasData() && c.Op == format.OpUpdate && s.state == stNew:
		return drainOps(src)
	case c.HasData() && c.Op == format.OpUpdate:
		err := a.stageFile(s, func(f *os.File) (int64, []byte, error) { return a.patch(src, s, f) })
		if s.unverified {
			return a.settleBase(src, s, err)
		}
		return err
	case a.stagesLater(s):
		return a.stageLaterContent(src, s)
	case c.HasData():
		return a.stageFile(s, func(f *os.File) (int64, []byte, error) {
			return a.onePass(f, c.New, nil, func(w io.Writer) (int64, error) { return copyContent(w, src.content(), c.New.Size) })
		})
	case place && c.New.Type == format.TypeFile:
		// A file without data in the archive would be a hard link, refused
		// earlier; an empty file still has a (zero-length) data member.
		return pathErr(ErrCorrupt, c.Path(), "", "the archive holds no content for this new file")
	case place && c.New.Type == format.TypeSymlink:
		return a.stageSymlink(s)
	case place && c.New.Type.IsSpecial():
		return a.stageSpecial(s)
	}
	return nil
}

// settleBase decides on an update whose base was checked by size only
// and hashed while it was patched (see likelyOld): a base that is not the
// old version is reported as such, or, if it is already the new version,
// the change is done; failed, the patching's own result, stands otherwise.
func (a *applier) settleBase(src *source, s *step, failed error) error {
	c := s.c
	p := c.Path()
	s.unverified = false
	if failed == nil && bytes.Equal(s.baseHash, c.Old.Hash) {
		return nil
	}
	switch {
	case s.baseKnown && failed != nil:
		// The known file or the old index vouched for the base, yet
		// the new version built from it is wrong: read the base, to
		// tell a base that is not the old version from a damaged
		// archive.
		if _, err := a.disk.readHash(p); err != nil {
			return err
		}
	case s.baseHash != nil:
		a.disk.remember(p, s.baseHash)
	}
	fi, err := a.disk.lstat(p)
	if err != nil {
		return err
	}
	if s.state, err = a.classify(c, fi); err != nil {
		return err
	}
	if s.state != stNew {
		if failed == nil {
			return pathErr(ErrConflict, p, "run again once nothing writes to DIR", "changed while it was being patched")
		}
		return failed
	}
	if s.staged != "" {
		if err := a.root.Remove(s.staged); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return ioErr(p, "remove its staging file", err)
		}
		s.staged = ""
	}
	s.done = metaEqual(fi, c.New, a.chown)
	var ce *Error
	if errors.As(failed, &ce) && ce.Class == ErrCorrupt && ce.Err != nil && !errors.Is(ce.Err, rsync.ErrInvalidOp) {
		// the archive itself failed to read: draining would fail the same way
		return failed
	}
	return drainOps(src)
}

// writeError marks a failure to write the staging file, as opposed to one
// reading the archive.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// stageFile has content write the new version of s to its staged file
// (nil in a dry run, where content only hashes it), then checks its length
// and hash and sets its metadata.
func (a *applier) stageFile(s *step, content func(f *os.File) (int64, []byte, error)) (err error) {
	e := s.c.New
	p := e.Path
	var f *os.File
	fresh := a.freshFile()
	if s.staged != "" {
		f, err = a.fds.createStaged(s.staged, fresh.createMode(e))
		if err != nil {
			return ioErr(p, "create its staging file", err)
		}
		defer func() {
			if f != nil {
				f.Close()
			}
		}()
	}
	n, sum, err := content(f)
	if err != nil {
		var we *writeError
		if errors.As(err, &we) {
			e := ioErr(p, "write its new version to staging", we.err)
			e.Fix = "free space on DIR's filesystem and run again; DIR is unchanged"
			return e
		}
		return err
	}
	if err := checkStaged(e, n, sum); err != nil {
		return err
	}
	if f == nil {
		return nil
	}
	a.sum.BytesWritten += n
	err = a.settleStaged(a.fds, f, s)
	f = nil
	return err
}

// checkStaged checks the length and hash of the new version of e built
// from the archive.
func checkStaged(e *format.Entry, n int64, sum []byte) error {
	if n != e.Size {
		return pathErr(ErrCorrupt, e.Path, "", "the archive's data gives %d bytes, the entry says %d", n, e.Size)
	}
	if !bytes.Equal(sum, e.Hash) {
		return pathErr(ErrCorrupt, e.Path, "the archive is damaged; make it again or use another copy",
			"the new version built from the archive does not match its recorded hash (expected %s %s, got %s)", format.HashAlgorithm, short(e.Hash), short(sum))
	}
	return nil
}

// settleStaged gives the staged file f of s, written, its metadata, and
// closes it; below a directory staged whole it notes the identity the
// file keeps once placed. It runs on the stage writer too (see
// stagewriter.go), with a dirFds of the writer's own.
func (a *applier) settleStaged(fds *dirFds, f *os.File, s *step) (err error) {
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	e := s.c.New
	p := e.Path
	fresh := a.freshFile()
	if !a.opt.NoSync {
		if err := flushStaged(f); err != nil {
			return ioErr(p, "flush its staging file to disk", err)
		}
	}
	if a.chown && !fresh.owns(e) {
		if err := f.Chown(int(e.UID), int(e.GID)); err != nil {
			return ioErr(p, "chown its staging file", err)
		}
	}
	if !fresh.createsMode(e) {
		if err := f.Chmod(fileMode(e.Mode)); err != nil {
			return ioErr(p, "chmod its staging file", err)
		}
	}
	if err := a.xattrsOnFd(f, e); err != nil {
		return ioErr(p, "set the extended attributes of its staging file", err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return ioErr(p, "write its new version to staging", err)
	}
	if err := fds.stagedMTime(s.staged, e.MTime); err != nil {
		return ioErr(p, "set the mtime of its staging file", err)
	}
	if s.inside {
		// the identity it keeps once its directory is renamed into place
		// (the last change of its inode), for the placed log
		var ok bool
		if s.dev, s.ino, s.ctime, ok = fds.stagedIdentity(s.staged); !ok {
			return ioErr(p, "look at its staging file", errors.ErrUnsupported)
		}
	}
	return nil
}

// freshFile is what a file created in the staging directory gets, found
// by creating one: its owner, and the permissions a mode of 0777 leaves
// (the umask's, or a default ACL's). A staged file whose entry has that
// owner needs no chown, and one created with a mode the umask leaves whole,
// without setuid, setgid or sticky bits, no chmod: two system calls of the
// eight a small file costs. The verification checks both, as root.
type freshFile struct {
	uid, gid, perm uint32
	ok             bool
	// setgid: the staging directory has the setgid bit, which the
	// directories made below it take
	setgid bool
	// dirs is what the first directory made in staging showed of the
	// probe's owner and of the mode it was made with (see checkDir)
	dirs dirCheck
}

// dirCheck is whether a directory made in staging was seen to take the
// owner the probe found and the mode it was made with.
type dirCheck uint8

const (
	dirsUnchecked dirCheck = iota
	dirsAsProbed
	dirsDiffer
)

// freshFile probes the staging directory once; in a dry run, or if the
// probe fails, every file is given its owner and mode.
func (a *applier) freshFile() *freshFile {
	if a.fresh != nil {
		return a.fresh
	}
	a.fresh = &freshFile{}
	if a.opt.DryRun || a.root == nil {
		return a.fresh
	}
	name := stageDir + "/fresh-probe"
	f, err := a.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o777)
	if err != nil {
		return a.fresh
	}
	fi, err := f.Stat()
	f.Close()
	if a.root.Remove(name) != nil || err != nil {
		return a.fresh
	}
	n := tree.NodeFromInfo(name, fi, "")
	sd, err := a.root.Lstat(stageDir)
	if err != nil {
		return a.fresh
	}
	a.fresh = &freshFile{uid: n.UID, gid: n.GID, perm: n.Mode & 0o777, ok: fi.Mode().IsRegular(),
		setgid: sd.Mode()&fs.ModeSetgid != 0}
	return a.fresh
}

// makesDir reports whether e's directory is made in staging with e's mode
// and then needs no chmod: on Linux, where the staging directory holds no
// default ACL, so that a directory is made as the probe's file was; where
// the umask leaves the mode whole and no setgid bit is passed on; and
// where the mode lets its owner make its entries and nobody else write
// in it, since the directory has it from when its subtree is placed,
// while the commit still works inside.
func (f *freshFile) makesDir(e *format.Entry) bool {
	return runtime.GOOS == "linux" && f.dirs != dirsDiffer && f.createsMode(e) && !f.setgid &&
		e.Mode&0o700 == 0o700 && e.Mode&0o022 == 0
}

// ownsDir reports whether e's directory, made in staging, has e's owner.
func (f *freshFile) ownsDir(e *format.Entry) bool {
	return f.dirs != dirsDiffer && f.owns(e)
}

// checkDir looks at the first directory made in staging, at name with
// permissions perm: if it did not take the probe's owner or that mode (a
// filesystem with a mask of its own for directories, an ACL), every
// directory gets its owner and mode from the commit.
func (a *applier) checkDir(name string, perm uint32) {
	f := a.fresh
	if f == nil || f.dirs != dirsUnchecked {
		return
	}
	f.dirs = dirsDiffer
	fi, err := a.root.Lstat(name)
	if err != nil {
		return
	}
	n := tree.NodeFromInfo(name, fi, "")
	if fi.IsDir() && n.UID == f.uid && n.GID == f.gid && n.Mode == perm {
		f.dirs = dirsAsProbed
	}
}

// owns reports whether a file created in staging has e's owner already.
func (f *freshFile) owns(e *format.Entry) bool {
	return f.ok && f.uid == e.UID && f.gid == e.GID
}

// createsMode reports whether creating e's staged file with e's mode gives
// it that mode.
func (f *freshFile) createsMode(e *format.Entry) bool {
	return f.ok && e.Mode&^0o777 == 0 && e.Mode&f.perm == e.Mode
}

// createMode returns the mode to create e's staged file with: e's own if
// creating gives it, or 0600 (then set by chmod).
func (f *freshFile) createMode(e *format.Entry) uint32 {
	if f.createsMode(e) {
		return e.Mode
	}
	return 0o600
}

// A directory that is not in DIR and that the archive creates is staged
// whole: it is made in the staging directory, and every entry the archive
// creates below it is made inside it, at its place in the tree, not staged
// on its own; the commit then places the whole subtree with one rename.
// A full restore into an empty DIR is then a rename per top-level entry
// instead of one per file, and the lookups of paths in DIR that cannot
// exist are saved. Directories inside get their metadata in the commit's
// last pass, as a directory made in place does, deepest first, after the
// rename; they are made without ACLs (the staging directory has no
// default ACL), so that nothing below them inherits one the archive does
// not record, and 0700 unless their own mode can be given at once (see
// freshFile.makesDir): one that lets anyone else write in it or enter it
// unchecked stays 0700 until the commit is done below it. Hard
// links are made at the commit as anywhere else, once the subtree holding
// their first path is in place. A --only restore and a dry run stage
// nothing whole.

// stagesTree reports whether s is a directory to stage whole (or, below
// one, to make inside it).
func (a *applier) stagesTree(s *step) bool {
	c := s.c
	return !a.opt.DryRun && a.only == nil && c.New != nil && c.New.Type == format.TypeDir && s.state == stAbsent && !s.present
}

// stageTree makes the directory of s in the staging directory, or inside
// the directory staged whole above it.
func (a *applier) stageTree(s *step) error {
	if !s.inside {
		s.staged = stageName(s.i)
	}
	perm := uint32(0o700)
	if a.freshFile().makesDir(s.c.New) {
		perm = s.c.New.Mode
	}
	if err := a.fds.mkdirStaged(s.staged, perm); err != nil {
		return ioErr(s.c.Path(), "create its directory in staging", err)
	}
	a.checkDir(s.staged, perm)
	return nil
}

// insideStaged returns the root name at which c's new entry is made, if
// c creates it below a directory staged whole, or "". A hard link is made
// at the commit instead (see stage).
func (a *applier) insideStaged(c *format.Change) string {
	if c.Op != format.OpCreate || c.New == nil || c.New.LinkTo != "" || a.opt.DryRun || a.only != nil {
		return ""
	}
	p := c.Path()
	f := a.frameOf(parent(p))
	if f == nil || f.staged == "" {
		return ""
	}
	return f.staged + p[len(f.path):]
}

// onePass writes what fill produces to f (nil in a dry run), keeping its
// holes, while hashing it on all cores; the leaves go on to base, if not
// nil. It returns the length written and its file hash; a failure to write
// is a *writeError.
func (a *applier) onePass(f *os.File, e *format.Entry, base *baseLeaves, fill func(io.Writer) (int64, error)) (int64, []byte, error) {
	var sparse *sparseWriter
	var out io.Writer
	if f != nil {
		if a.writePiece == 0 {
			a.writePiece = piece(f) // every staged file is on DIR's filesystem
		}
		sparse = &sparseWriter{f: f, piece: a.writePiece, flush: a.flushesStaged()}
		defer sparse.wait() // after h's writes end (h.close, deferred below)
		out = sparse
		if faults.write != nil {
			out = faults.write(e.Path, out)
		}
	}
	h := newHashWriter(out, e.Size)
	h.base = base
	if f != nil {
		h.tee = a.disk.leaves.create(e.Size)
	}
	defer h.tee.drop()
	defer h.close() // before f's Close, deferred by the caller
	n, err := fill(h)
	if err != nil {
		return 0, nil, err
	}
	sum, err := h.Sum()
	if err != nil {
		return 0, nil, err
	}
	h.tee.keep(sum)
	if sparse != nil {
		if err := sparse.finish(); err != nil {
			return 0, nil, &writeError{err}
		}
	}
	return n, sum, nil
}

// flushesStaged reports whether a large staged file is flushed to disk as
// it is written (see sparseWriter): not without flushes, nor in the tests
// that do not watch them.
func (a *applier) flushesStaged() bool {
	return !a.opt.NoSync && (!faults.noSync || faults.flush != nil)
}

// patch rebuilds the new version of an updated file from its current
// (verified old, or likely old) version and the delta in the archive, into
// f (nil in a dry run), and returns its length and file hash. An unverified
// base is hashed alongside (see baseLeaves) into s.baseHash, for
// settleBase. Where DIR's filesystem can share extents, the staged file
// starts as a clone of the base and only what differs is written (see
// stageClone); elsewhere the new version is written in one pass.
func (a *applier) patch(src *source, s *step, f *os.File) (int64, []byte, error) {
	c := s.c
	p := c.Path()
	base, fi, err := tree.OpenFile(a.root, p)
	if err != nil {
		return 0, nil, ioErr(p, "open", err)
	}
	defer base.Close()
	var bl *baseLeaves
	var hashed chan struct{} // closed once the base is hashed, if it is
	if s.unverified {
		// the stat of the file opened: the one read below
		n := tree.NodeFromInfo(p, fi, "")
		if s.baseHash = a.disk.known.lookup(p, n); s.baseHash == nil && a.disk.recorded(n, c.Old) {
			s.baseHash = c.Old.Hash
		}
		s.baseKnown = s.baseHash != nil
	}
	cloned, err := a.tryClone(f, base, c)
	if err != nil {
		return 0, nil, err
	}
	if s.unverified && s.baseHash == nil {
		if faults.read != nil {
			faults.read(p)
		}
		// A clone reads little of its base, which may not be in the page
		// cache: its hash shares the leaves of the blocks copied in place
		// (baseLeaves). Written in one pass, the base is read anyway, and
		// hashing all of it alongside, on the other cores, took less time
		// than sharing leaves (0.53 s against 0.74 s for the db corpus's
		// update, whose insertions shift most blocks).
		if cloned {
			bl = newBaseLeaves(base, fi.Size(), c.New.Size)
		}
		if bl == nil {
			// hashed on its own, alongside, for settleBase once this
			// returns
			done := make(chan struct{})
			hashed = done
			go func() {
				defer close(done)
				if sum, err := hashReaderAt(base, fi.Size(), nil, nil); err == nil {
					s.baseHash = sum
				}
			}()
			defer func() { <-done }()
		} else {
			defer bl.close()
		}
	}
	var n int64
	var sum []byte
	if cloned {
		n, sum, err = a.stageClone(src, s, f, base, fi.Size(), bl)
	} else {
		var dropped chan struct{}
		defer func() {
			if dropped != nil {
				<-dropped
			}
		}()
		n, sum, err = a.onePass(f, c.New, bl, func(w io.Writer) (int64, error) {
			n, err := applyOps(src, p, base, c.Old.Size, w, c.New.Size, bl)
			if err == nil && f != nil && a.flushesStaged() && c.New.Size > flushChunk {
				// The base is read. The rename over it will free it,
				// page cache and all, on the commit's time; its page
				// cache goes now instead, while the cores wait for the
				// last flush of the new version (BENCHMARKS.md,
				// "Durable patch of the db file").
				dropped = make(chan struct{})
				go func() {
					defer close(dropped)
					if hashed != nil {
						<-hashed
					}
					dropCache(base, fi)
				}()
			}
			return n, err
		})
	}
	if err == nil && bl != nil {
		if bsum, err := bl.sum(); err == nil {
			s.baseHash = bsum
		}
	}
	return n, sum, err
}

// applyOps applies the archive's delta of the file at p to base, writing
// the new version to w, and records its same-offset copies in bl (if not
// nil). It returns the length written.
func applyOps(src *source, p string, base io.ReaderAt, baseSize int64, w io.Writer, newSize int64, bl *baseLeaves) (int64, error) {
	pt := rsync.NewPatcher(base, baseSize, w, newSize)
	for {
		op, err := src.nextOp()
		if err == io.EOF {
			return pt.Written(), nil
		}
		if err != nil {
			return 0, err
		}
		if bl != nil && op.Kind == rsync.OpCopy && op.Offset == pt.Written() {
			bl.sameOffset(op.Offset, op.Length)
		}
		if err := pt.Apply(op); err != nil {
			var we *writeError
			if errors.Is(err, rsync.ErrInvalidOp) {
				return 0, &Error{Path: p, Class: ErrCorrupt, Detail: "the archive's delta is invalid", Err: err}
			} else if errors.As(err, &we) {
				return 0, err
			}
			return 0, ioErr(p, "patch", err)
		}
	}
}

// drainOps skips the delta of a file whose new version is already in place.
func drainOps(src *source) error {
	for {
		if _, err := src.nextOp(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// copyContent copies a created file's content, of size bytes if the
// archive is right, telling archive errors (corrupt) from write errors
// (writeError). It reads straight into the buffer of a w that has one (a
// hashWriter); else a small file gets a buffer its size (and one byte, to
// see the end), not a large one per file.
func copyContent(w io.Writer, r io.Reader, size int64) (int64, error) {
	if bw, ok := w.(rsync.BufferWriter); ok {
		return copyInto(bw, r)
	}
	buf := make([]byte, min(max(size, 0), 256<<10-1)+1)
	var n int64
	for {
		k, rerr := r.Read(buf)
		if k > 0 {
			if _, err := w.Write(buf[:k]); err != nil {
				return n, err
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, corrupt(rerr)
		}
	}
}

// copyInto is copyContent into the buffer of bw.
func copyInto(bw rsync.BufferWriter, r io.Reader) (int64, error) {
	var n int64
	for {
		b, err := bw.Buffer()
		if err != nil {
			return n, err
		}
		k, rerr := r.Read(b)
		bw.Commit(k)
		n += int64(k)
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, corrupt(rerr)
		}
	}
}

// stageSymlink creates the new symlink of s in staging, with its mtime.
func (a *applier) stageSymlink(s *step) error {
	e := s.c.New
	if err := a.root.Symlink(e.Target, s.staged); err != nil {
		return ioErr(e.Path, "create its symlink in staging", err)
	}
	if err := setMeta(a.root, s.staged, e, a.chown); err != nil {
		return ioErr(e.Path, "set the metadata of its staged symlink", err)
	}
	if len(e.Xattrs) > 0 {
		if err := a.syncXattrs(s.staged, e); err != nil {
			return ioErr(e.Path, "set the extended attributes of its staged symlink", err)
		}
	}
	return nil
}
