package patch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// The workspace lives in DIR/.ibt-patch, on DIR's filesystem so that the
// commit is renames:
//
//	lock      locked by the running ibt-patch (flock, or LockFileEx)
//	stage/    new versions of this run, named by change number
//	journal   written (atomically, after every staged file is durable) just
//	          before the commit starts, removed once it has ended
//
// The journal does not list operations: the archive is the plan, and a run
// that finds a journal reads the same archive again and sees which changes
// are done by their hashes. What the journal keeps is what the archive
// cannot give back: which archive was being committed, and the mtimes that
// directories the archive does not describe had before the commit changed
// their contents (and so their mtimes).
const (
	stageDir    = stagingName + "/stage"
	journalName = stagingName + "/journal"
	lockName    = stagingName + "/lock"
)

// journal is the commit record of one archive.
type journal struct {
	Archive string           `msgpack:"archive"` // the archive's identity
	MTimes  map[string]int64 `msgpack:"mtimes"`  // directory path ("" for DIR) -> mtime in ns before the commit
}

type workspace struct {
	root      *os.Root
	lock      *os.File
	rootMTime time.Time
	pending   *journal // the journal of an interrupted commit, if any
	journal   *journal // the journal of this commit
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
	if ws.pending, err = readJournal(root); err != nil {
		ws.abandon()
		return nil, err
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
				return &Error{Class: ErrBusy, Detail: "another ibt-patch is working on this directory", Fix: "wait for it to finish"}
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
	return &Error{Class: ErrBusy, Detail: "another ibt-patch keeps re-creating the staging directory", Fix: "wait for it to finish"}
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
// file durable, and writes the journal. mtimes gives the mtimes to keep of
// directories the archive does not describe, as they are now; an
// interrupted commit's journal knows them as they were before it. staged
// lists the staged files for systems that make them durable one by one.
func (ws *workspace) claim(id string, mtimes map[string]int64, staged func() []string) error {
	if ws.pending != nil && ws.pending.Archive != id {
		return &Error{Class: ErrBusy, Detail: "the directory holds an unfinished ibt-patch of another archive",
			Fix: "run ibt-patch again with the archive that was interrupted, then this one"}
	}
	if err := syncFS(ws.root, staged); err != nil {
		return ioErr("", "flush the staged files to disk", err)
	}
	if ws.pending != nil {
		ws.journal = ws.pending
		return nil
	}
	mtimes[""] = ws.rootMTime.UnixNano()
	ws.journal = &journal{Archive: id, MTimes: mtimes}
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
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ws.root.Rename(tmp, journalName)
	}
	if err == nil {
		err = syncDir(ws.root, stagingName)
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
		ws.root.RemoveAll(stagingName)
	}
	ws.release()
	ws.root.Chtimes(".", time.Time{}, ws.rootMTime)
}

// release lets go of the lock, keeping the journal for the next run.
func (ws *workspace) release() {
	if ws.lock != nil {
		ws.lock.Close()
		ws.lock = nil
	}
}

// finish ends a commit: the tree is made durable, then the journal and the
// workspace are removed and DIR gets back its mtime. changed lists the
// entries the commit touched, for systems that make them durable one by one.
func (ws *workspace) finish(changed func() []string) error {
	defer ws.release()
	if err := syncFS(ws.root, changed); err != nil {
		return ioErr("", "flush the patched tree to disk", err)
	}
	if err := ws.root.Remove(journalName); err != nil {
		return ioErr(journalName, "remove the journal", err)
	}
	if err := ws.root.RemoveAll(stagingName); err != nil {
		return ioErr(stagingName, "remove the staging directory", err)
	}
	if mt, ok := ws.journal.MTimes[""]; ok {
		if err := ws.root.Chtimes(".", time.Time{}, time.Unix(0, mt)); err != nil {
			return ioErr("", "set the mtime of DIR", err)
		}
	}
	return nil
}
