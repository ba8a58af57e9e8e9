package patch

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/ibt-tools/ibt/format"
)

// The workspace lives in DIR/.ibt-patch, on DIR's filesystem so that the
// commit is renames:
//
//	lock      locked by the running ibt-patch (flock, or LockFileEx)
//	stage/    new versions of this run, named by change number
//	journal   written (atomically, after every staged file is durable) just
//	          before the commit starts, removed once it has ended
//
//	kept      the mtimes of journal's directories, written just before it
//	sources/  hard links to the old versions of files the archive both
//	          copies and rewrites, made before the journal (sources.go)
//
// The journal does not list operations: the archive is the plan, and a run
// that finds a journal reads the same archive again and sees which changes
// are done by their hashes. What the journal keeps is what the archive
// cannot give back: which archive was being committed, and the mtimes that
// directories the archive does not describe had before the commit changed
// their contents (and so their mtimes). There may be one such directory
// per change, so their mtimes go to a file of their own, read as a stream.
const (
	stageDir    = stagingName + "/stage"
	journalName = stagingName + "/journal"
	lockName    = stagingName + "/lock"
	keptName    = stagingName + "/kept"
	keptStaged  = stageDir + "/kept"
	sourcesDir  = stagingName + "/sources"
)

// journal is the commit record of one archive.
type journal struct {
	Archive string `msgpack:"archive"` // the archive's identity
	// MTimes maps a directory path ("" for DIR) to its mtime in ns before
	// the commit; it holds DIR's, those of the other directories are in
	// the kept file.
	MTimes map[string]int64 `msgpack:"mtimes"`
	Kept   bool             `msgpack:"kept,omitempty"` // the kept file exists
}

type workspace struct {
	root      *os.Root
	lock      *os.File
	rootMTime time.Time
	pending   *journal // the journal of an interrupted commit, if any
	journal   *journal // the journal of this commit
	// top is what the archive's new tree says of DIR itself, given to it
	// once the commit is done: its mode and mtime, each if topWhole or
	// not zero (see format.Header.TopDir).
	top      format.Entry
	topWhole bool
	// noSync skips every flush to disk (Options.NoSync).
	noSync bool
	// finalMTime, if set, is the mtime finish gave DIR.
	finalMTime time.Time
}

// sync runs flush unless the run does not flush to disk.
func (ws *workspace) sync(flush func() error) error {
	if ws.noSync {
		return nil
	}
	return flush()
}

// openWorkspace creates (or takes over) DIR/.ibt-patch, locks it, and
// clears the staging of any earlier run.
func openWorkspace(root *os.Root) (*workspace, error) {
	fi, err := root.Stat(".")
	if err != nil {
		return nil, ioErr("", "stat DIR", err)
	}
	ws := &workspace{root: root, rootMTime: fi.ModTime()}
	if err := root.Mkdir(stagingName, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, ioErr(stagingName, "create the staging directory", err)
	}
	if fi, err := root.Lstat(stagingName); err != nil || !fi.IsDir() {
		return nil, pathErr(ErrConflict, stagingName, "move it out of DIR; ibt-patch needs the name for its staging directory",
			"exists and is not ibt-patch's staging directory")
	}
	if err := ws.lockDir(); err != nil {
		return nil, err
	}
	if err := root.RemoveAll(stageDir); err != nil {
		ws.abandon()
		return nil, ioErr(stageDir, "remove stale staging", err)
	}
	if err := root.Mkdir(stageDir, 0o700); err != nil {
		ws.abandon()
		return nil, ioErr(stageDir, "create the staging directory", err)
	}
	// staged files take their ACL from the archive, not from DIR's
	dropDefaultACL(root, stageDir)
	if ws.pending, err = readJournal(root); err != nil {
		ws.abandon()
		return nil, err
	}
	if ws.pending == nil {
		// kept sources of a run that failed before its commit
		if err := root.RemoveAll(sourcesDir); err != nil {
			ws.abandon()
			return nil, ioErr(sourcesDir, "remove stale kept sources", err)
		}
	}
	return ws, nil
}

// lockDir takes the lock, refusing to wait: two ibt-patch runs on one DIR
// are a mistake to report, not to serialise.
func (ws *workspace) lockDir() error {
	for range 3 {
		f, err := ws.root.OpenFile(lockName, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return ioErr(lockName, "open the lock", err)
		}
		if held, err := tryLock(f); held || err != nil {
			f.Close()
			if held {
				return &Error{Class: ErrLocked, Detail: fmt.Sprintf("%q is busy: another ibt-patch holds its lock", ws.root.Name()),
					Fix: "wait for it to finish, and run this one again"}
			}
			return ioErr(lockName, "lock", err)
		}
		// A run that finished between our open and our lock removed the
		// file we locked; lock the current one instead.
		held, err1 := f.Stat()
		now, err2 := ws.root.Lstat(lockName)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			ws.lock = f
			return nil
		}
		f.Close()
	}
	return &Error{Class: ErrLocked, Detail: fmt.Sprintf("%q is busy: another ibt-patch keeps re-creating its staging directory", ws.root.Name()),
		Fix: "wait for it to finish, and run this one again"}
}

// readJournal returns the journal of an interrupted commit, or nil.
func readJournal(root *os.Root) (*journal, error) {
	b, err := root.ReadFile(journalName)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, ioErr(journalName, "read the journal", err)
	}
	var j journal
	if err := msgpack.Unmarshal(b, &j); err != nil || j.Archive == "" {
		return nil, pathErr(ErrBusy, journalName, "remove DIR/.ibt-patch if DIR is known to be consistent, or restore DIR from the backups again",
			"the journal of an interrupted ibt-patch is unreadable")
	}
	return &j, nil
}

// claim starts the commit of the archive named id: it refuses an archive
// other than the one an interrupted commit was applying, makes every staged
// file durable, and writes the journal. kept holds the mtimes to keep of
// directories the archive does not describe, as they are now; an
// interrupted commit's kept file has them as they were before it. staged
// lists the staged files for systems that make them durable one by one.
func (ws *workspace) claim(id string, kept *keptLog, staged names) error {
	if ws.pending != nil && ws.pending.Archive != id {
		return &Error{Class: ErrBusy, Detail: "the directory holds an unfinished ibt-patch of another archive",
			Fix: "run ibt-patch again with the archive that was interrupted, then this one"}
	}
	if err := ws.sync(func() error { return syncFS(ws.root, staged) }); err != nil {
		return ioErr("", "flush the staged files to disk", err)
	}
	if _, err := ws.root.Lstat(sourcesDir); err == nil {
		// the kept sources' links, which syncFS may not list
		if err := ws.sync(func() error { return syncDir(ws.root, sourcesDir) }); err != nil {
			return ioErr(sourcesDir, "flush the kept sources to disk", err)
		}
	}
	if ws.pending != nil {
		kept.close()
		ws.journal = ws.pending
		return nil
	}
	kept.noSync = ws.noSync
	if err := kept.commit(); err != nil {
		return err
	}
	if err := ws.root.Rename(keptStaged, keptName); err != nil {
		return ioErr(keptName, "write the journal", err)
	}
	ws.journal = &journal{Archive: id, MTimes: map[string]int64{"": ws.rootMTime.UnixNano()}, Kept: true}
	b, err := msgpack.Marshal(ws.journal)
	if err != nil {
		return fmt.Errorf("encode the journal: %w", err)
	}
	tmp := journalName + ".tmp"
	f, err := ws.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return ioErr(tmp, "write the journal", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = ws.sync(f.Sync)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ws.root.Rename(tmp, journalName)
	}
	if err == nil {
		err = ws.sync(func() error { return syncDir(ws.root, stagingName) })
	}
	if err != nil {
		ws.root.Remove(tmp)
		return ioErr(journalName, "write the journal", err)
	}
	return nil
}

// abandon undoes the workspace of a run that failed before its commit:
// DIR is left as it was found, interrupted journal included.
func (ws *workspace) abandon() {
	ws.root.RemoveAll(stageDir)
	if ws.pending == nil {
		ws.clear()
	}
	ws.release()
	ws.root.Chtimes(".", time.Time{}, ws.rootMTime)
}

// clear removes the workspace and everything in it (a known file that an
// earlier version kept there too). It reports whether the workspace is
// gone.
func (ws *workspace) clear() bool {
	if d, err := ws.root.Open(stagingName); err == nil {
		names, _ := d.Readdirnames(-1)
		d.Close()
		for _, n := range names {
			ws.root.RemoveAll(stagingName + "/" + n)
		}
	}
	return ws.root.Remove(stagingName) == nil
}

// close ends a run whose commit finished: the workspace goes, but for the
// known file, and the lock is let go.
func (ws *workspace) close() {
	if ws.clear() && !ws.finalMTime.IsZero() {
		// removing the workspace changed DIR's mtime again
		ws.root.Chtimes(".", time.Time{}, ws.finalMTime)
	}
	ws.release()
}

// release lets go of the lock, keeping the journal for the next run.
func (ws *workspace) release() {
	if ws.lock != nil {
		ws.lock.Close()
		ws.lock = nil
	}
}

// finish ends a commit: the tree is made durable, then the journal and the
// staging are removed and DIR gets back its mtime. changed lists the
// entries the commit touched, for systems that make them durable one by
// one. The lock is kept for the verification, until close; a failure lets
// it go, keeping the journal for the next run.
func (ws *workspace) finish(changed names) (err error) {
	defer func() {
		if err != nil {
			ws.release()
		}
	}()
	if err := ws.sync(func() error { return syncFS(ws.root, changed) }); err != nil {
		return ioErr("", "flush the patched tree to disk", err)
	}
	if err := ws.root.Remove(journalName); err != nil {
		return ioErr(journalName, "remove the journal", err)
	}
	if err := ws.root.RemoveAll(stageDir); err != nil {
		return ioErr(stageDir, "remove the staging directory", err)
	}
	if err := ws.root.RemoveAll(sourcesDir); err != nil {
		return ioErr(sourcesDir, "remove the kept sources", err)
	}
	if err := ws.root.Remove(keptName); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ioErr(keptName, "remove the journal's mtimes", err)
	}
	if ws.topWhole || ws.top.Mode != 0 {
		if err := ws.root.Chmod(".", fileMode(ws.top.Mode)); err != nil {
			return ioErr("", "set the mode of DIR", err)
		}
	}
	mt, ok := ws.journal.MTimes[""]
	if ws.topWhole || ws.top.MTime != 0 {
		mt, ok = ws.top.MTime, true
	}
	if ok {
		ws.finalMTime = time.Unix(0, mt)
		if err := ws.root.Chtimes(".", time.Time{}, ws.finalMTime); err != nil {
			return ioErr("", "set the mtime of DIR", err)
		}
	}
	return nil
}

// keptLog writes the mtimes to keep, one record per directory: the length
// of its path, the path and the mtime, as varints.
type keptLog struct {
	noSync bool
	f      *os.File
	w      *bufio.Writer
	buf    []byte
}

func newKeptLog(root *os.Root) (*keptLog, error) {
	f, err := root.OpenFile(keptStaged, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, ioErr(keptStaged, "create the journal's mtimes", err)
	}
	return &keptLog{f: f, w: bufio.NewWriterSize(f, 16<<10)}, nil
}

func (k *keptLog) add(p string, mtime int64) error {
	k.buf = appendBytes(k.buf[:0], []byte(p))
	k.buf = binary.AppendVarint(k.buf, mtime)
	if _, err := k.w.Write(k.buf); err != nil {
		return ioErr(keptStaged, "write the journal's mtimes", err)
	}
	return nil
}

// commit makes the file durable and closes it.
func (k *keptLog) commit() error {
	err := k.w.Flush()
	if err == nil && !faults.noSync && !k.noSync {
		err = k.f.Sync()
	}
	if cerr := k.f.Close(); err == nil {
		err = cerr
	}
	k.f = nil
	if err != nil {
		return ioErr(keptStaged, "write the journal's mtimes", err)
	}
	return nil
}

func (k *keptLog) close() {
	if k != nil && k.f != nil {
		k.f.Close()
		k.f = nil
	}
}

// eachKept calls fn with every directory whose mtime the journal keeps,
// DIR excepted, and that mtime.
func (ws *workspace) eachKept(fn func(p string, mtime int64) error) error {
	for p, mt := range ws.journal.MTimes {
		if p != "" {
			if err := fn(p, mt); err != nil {
				return err
			}
		}
	}
	if !ws.journal.Kept {
		return nil
	}
	f, err := ws.root.Open(keptName)
	if err != nil {
		return ioErr(keptName, "read the journal's mtimes", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 16<<10)
	bad := func(err error) error {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return pathErr(ErrBusy, keptName, "remove DIR/.ibt-patch if DIR is known to be consistent, or restore DIR from the backups again",
			"the journal of an interrupted ibt-patch is unreadable: %v", err)
	}
	var buf []byte
	for {
		n, err := binary.ReadUvarint(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return bad(err)
		}
		if n > maxRecord {
			return bad(errBadRecord)
		}
		if uint64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return bad(err)
		}
		mt, err := binary.ReadVarint(r)
		if err != nil {
			return bad(err)
		}
		if err := fn(string(buf), mt); err != nil {
			return err
		}
	}
}
