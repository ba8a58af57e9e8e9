package patch

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/ibt-tools/ibt/format"
)

// Options tune Apply.
type Options struct {
	// DryRun reads and checks the whole archive against DIR and reports
	// what would change, touching nothing (not even a staging directory).
	DryRun bool
	// Report, if set, is called once per change that is not applied yet,
	// with the change's op ("create", "update", "delete", "meta",
	// "replace") and path.
	Report func(action, path string)
	// NoSync skips flushing the staged files and the journal to disk
	// before the commit and the tree after it. A killed run is still
	// finished by the next one; a power failure or a crash of the system
	// may then leave files empty or the journal lost. The writeback of
	// staged files is still started as they are written, as ext4 would
	// start it anyway in the rename over the old file; on a busy disk
	// starting it can wait.
	NoSync bool
	// NoKnown reads every file the patch checks or verifies instead of
	// taking its hash from DIR's known file or from the archive's old
	// entries (see recorded.go), and keeps no known file.
	NoKnown bool
	// KnownDir is the directory that keeps the known file of every DIR
	// patched (see known.go), the user's cache directory for ibt; "" keeps
	// none, and every run reads the files it checks and verifies.
	KnownDir string
	// Warn, if set, receives notes that do not fail the patch, such as
	// owners that cannot be restored without root.
	Warn func(msg string)
	// Only, if not empty, restores from a full backup just the entries
	// these patterns select (tree.Selector: .gitignore patterns, a
	// directory selecting everything beneath it) and their parent
	// directories, into an empty or missing DIR (see only.go).
	Only []string
	// Reread, with Only, opens the archive again from its start, for the
	// content that selected files share with files outside the selection
	// (a hard link, a duplicate). Without it the archive is copied into
	// the staging directory as it is read, in case (in a dry run, into
	// the system's temporary directory).
	Reread func() (io.ReadCloser, error)
}

// Summary counts what Apply did (or, in a dry run, would do).
type Summary struct {
	Created, Updated, Deleted, Meta, Replaced int
	AlreadyApplied                            int   // changes found already applied
	BytesWritten                              int64 // bytes of new file versions staged
}

// Apply applies the archive read from archive to the directory dir, which
// is created if missing. Nothing in dir changes until the whole archive has
// been read, checked against dir and staged; a failure before then leaves
// dir as it was. A failure or a kill during the commit leaves every file in
// its old or its new version, and applying the same archive again finishes
// the job. Errors name the path at fault and wrap ErrWrongBase,
// ErrConflict, ErrCorrupt, ErrUnsafe, ErrVerify or ErrBusy when one applies.
func Apply(dir string, archive io.Reader, opt Options) (Summary, error) {
	a := &applier{
		opt:     opt,
		dir:     dir,
		checked: map[string]error{},
	}
	err := a.run(archive)
	if errors.Is(err, syscall.EROFS) {
		err = &Error{Class: errIO, Detail: fmt.Sprintf("%q is on a read-only filesystem", dir),
			Fix: "remount it read-write, or restore into a directory on another filesystem"}
	}
	return a.sum, err
}

// step is one change on its way to DIR.
type step struct {
	c      *format.Change
	state  state
	staged string // root name of the staged new file or symlink, or ""
	late   bool   // a directory replaced by a file or symlink: placed once emptied
	done   bool   // already applied, metadata included
	// unverified: state is stOld by size only; the content is proved
	// by the new version's hash (see likelyOld).
	unverified bool
	link       bool // New is a hard link, made at the commit
	i          int  // the change's number in the archive, which names its staged file
	oldXattrs  bool // Old has extended attributes (which the commit may remove)
	present    bool // something was at the path when it was checked
	baseHash   []byte
	baseKnown  bool // baseHash is the known file's or the old index's (recorded.go), not read
	// dropped: a directory outside Options.Only, logged in case an entry
	// beneath it is selected, which keeps it as its parent (only.go); a
	// dropped step is none of the passes' business
	dropped bool
	// lateLink: a hard link whose first path is placed late (a directory
	// that became a file), made once the late ones are (see commit)
	lateLink bool
	// inside: created below a directory staged whole (see stageTree), at
	// staged, and placed with it; a regular file's identity once staged
	// is dev, ino and ctime, for the placed log
	inside   bool
	dev, ino uint64
	ctime    int64
	// data: the content of a small file to stage below a directory
	// staged whole, checked against its hash, for the stage writer
	data []byte
}

// state is what a check found on disk at a change's path.
type state uint8

const (
	stAbsent state = iota // nothing
	stOld                 // the old entry
	stNew                 // the new entry's type and content (metadata may differ)
)

type applier struct {
	opt     Options
	dir     string
	root    *os.Root
	disk    *disk
	fds     *dirFds // DIR's directories held open for the hot paths
	created bool    // Apply created dir
	knownAt *knownPlace
	ws      *workspace

	log     *stepLog         // the steps, checked and staged, in path order
	placed  *placedLog       // what the commit placed, for the known file
	frames  []frame          // what the steps above the current path said
	kept    *keptLog         // mtimes of directories to give back, or nil in a dry run
	checked map[string]error // unchangedDir results, a bounded cache
	sum     Summary
	warned  map[string]bool
	chown   bool
	// euid and egid are this process's, asked once rather than per entry
	euid, egid uint32
	header     format.Header // of the delta stream the archive was packed from
	// laterSources counts old sources after the file copied from them,
	// which checkLaterSources checks once the archive is read.
	laterSources int
	only         *only // the selection of Options.Only, or nil
	// noClone: DIR's filesystem cannot clone files (see stageClone)
	noClone bool
	// writePiece: the most one write to a staged file writes (see piece),
	// once asked
	writePiece int
	// fresh: what a file created in the staging directory gets, once
	// asked (see freshFile)
	fresh *freshFile
	// writer stages small files below directories staged whole and logs
	// every step, while the archive is read (see stagewriter.go)
	writer *stageWriter
}

func (a *applier) run(in io.Reader) (err error) {
	if len(a.opt.Only) > 0 {
		a.only = newOnly(a.opt.Only, a.opt.Reread)
		in = a.only.tee(in)
		defer a.only.close()
	}
	src, err := openSource(in, a.only == nil) // only's copy is written as it is read
	if err != nil {
		return err
	}
	defer src.close()
	a.header = src.r.Header().Delta
	if err := a.only.checkFull(a.header); err != nil {
		return err
	}
	if err := a.openDir(); err != nil {
		return err
	}
	if a.root != nil {
		defer a.root.Close()
	}
	if err := a.checkEmpty(); err != nil {
		a.removeCreatedDir()
		return err
	}
	if a.disk, err = newDisk(a.root); err != nil {
		return err
	}
	if !a.opt.DryRun || !a.opt.NoKnown {
		a.knownAt = openKnownPlace(a.dir, a.opt.KnownDir)
		defer a.knownAt.close()
	}
	if !a.opt.NoKnown {
		a.disk.known = openKnown(a.knownAt)
		defer a.disk.known.close()
	}
	if !a.opt.NoKnown && !a.opt.DryRun {
		a.disk.leaves = openLeavesCache(a.opt.KnownDir)
		defer a.disk.leaves.close()
	}
	a.chown = os.Geteuid() == 0
	a.euid, a.egid = uint32(os.Geteuid()), uint32(os.Getegid())
	if top, whole := a.header.TopDir(); whole {
		a.noteUnrestorable(&top)
	}
	if !a.opt.DryRun {
		if a.ws, err = openWorkspace(a.root); err != nil {
			a.removeCreatedDir()
			return err
		}
		a.ws.noSync = a.opt.NoSync
		if err := a.only.keepCopy(a.root); err != nil {
			a.ws.abandon()
			a.removeCreatedDir()
			return err
		}
		a.fds = newDirFds(a.root)
		defer a.fds.close()
		if cutoff := recordedCutoff(a.header, a.opt.NoKnown, time.Now().Add(faults.later)); cutoff != 0 && ctimesReal(a.root) {
			a.disk.recordedCutoff = cutoff
		}
		committing := false
		defer func() {
			if !committing {
				a.ws.abandon()
				a.removeCreatedDir()
			}
		}()
		if a.log, err = newStepLog(a.root, false); err != nil {
			return err
		}
		defer a.log.close()
		if a.kept, err = newKeptLog(a.root); err != nil {
			return err
		}
		defer a.kept.close()
		if treeVerified {
			if a.placed, err = newPlacedLog(a.root); err != nil {
				return err
			}
			defer a.placed.close()
		}
		if err := a.read(src); err != nil {
			return err
		}
		if err := a.predict(src.treeHash()); err != nil {
			return err
		}
		a.ws.top, a.ws.topWhole = a.header.TopDir()
		if err := a.sameRun(src); err != nil {
			return err
		}
		if err := a.ws.claim(a.identity(src), a.kept, a.stagedNames); err != nil {
			return err
		}
		committing = true
		if err := a.commit(); err != nil {
			a.ws.release()
			return err
		}
		if err := a.topMeta(); err != nil {
			a.ws.release()
			return err
		}
		if !treeVerified {
			// verify reads no log here, and the staging directory
			// cannot be removed while it is open
			a.log.close()
		}
		if err := a.ws.finish(a.changedNames); err != nil {
			return err
		}
		defer a.ws.close()
		return a.verify(src.treeHash())
	}
	if a.log, err = newStepLog(nil, true); err != nil {
		return err
	}
	defer a.log.close()
	if err := a.only.keepCopy(nil); err != nil {
		return err
	}
	if err := a.read(src); err != nil {
		return err
	}
	if err := a.predict(src.treeHash()); err != nil {
		return err
	}
	if a.ws == nil && a.root != nil {
		if pending, _ := readJournal(a.root); pending != nil && pending.Archive != a.identity(src) {
			a.warn(fmt.Sprintf("%q holds an unfinished ibt-patch of another archive; a real run would refuse to start", a.dir))
		}
	}
	return nil
}

// openDir opens DIR, creating it if it is missing (in a dry run, a missing
// DIR reads as empty).
func (a *applier) openDir() error {
	fi, err := os.Stat(a.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if a.opt.DryRun {
			return nil
		}
		if err := os.Mkdir(a.dir, 0o777); err != nil {
			return &Error{Class: errIO, Detail: fmt.Sprintf("failed to create directory %q", a.dir), Err: unwrapPath(err)}
		}
		a.created = true
	case err != nil:
		return &Error{Class: errIO, Detail: fmt.Sprintf("failed to open directory %q", a.dir), Err: unwrapPath(err)}
	case !fi.IsDir():
		return &Error{Class: ErrConflict, Detail: fmt.Sprintf("%q is not a directory", a.dir), Fix: "ibt-patch restores into a directory; name a new or existing directory"}
	}
	root, err := os.OpenRoot(a.dir)
	if err != nil {
		a.removeCreatedDir()
		return &Error{Class: errIO, Detail: fmt.Sprintf("failed to open directory %q", a.dir), Err: unwrapPath(err)}
	}
	a.root = root
	return nil
}

// removeCreatedDir undoes the creation of DIR by a run that failed.
func (a *applier) removeCreatedDir() {
	if a.created {
		os.Remove(a.dir)
	}
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// warn passes a note on once.
func (a *applier) warn(msg string) {
	if a.opt.Warn == nil || a.warned[msg] {
		return
	}
	if a.warned == nil {
		a.warned = map[string]bool{}
	}
	a.warned[msg] = true
	a.opt.Warn(msg)
}

// count adds a change to the summary and reports it.
func (a *applier) count(s *step) {
	if s.done {
		a.sum.AlreadyApplied++
		return
	}
	switch s.c.Op {
	case format.OpCreate:
		a.sum.Created++
	case format.OpUpdate:
		a.sum.Updated++
	case format.OpDelete:
		a.sum.Deleted++
	case format.OpMeta:
		a.sum.Meta++
	case format.OpReplace:
		a.sum.Replaced++
	}
	if a.opt.Report != nil {
		a.opt.Report(s.c.Op.String(), s.c.Path())
	}
}

// maxCached bounds each cache of what was found on disk: beyond it the
// cache starts afresh, so that memory does not grow with the tree.
const maxCached = 4096

// names calls fn with paths in DIR, stopping at its first error.
type names func(fn func(name string) error) error

// stagedNames lists the staged new versions and their directory, for
// syncFS on systems that make them durable one by one.
func (a *applier) stagedNames(fn func(string) error) error {
	err := a.log.each(func(s *step) error {
		if s.staged != "" && !s.link {
			return fn(s.staged)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return fn(stageDir)
}

// changedNames lists every entry the commit may have placed, removed or
// given metadata, and their directories, for syncFS on systems that make
// them durable one by one; missing ones are skipped there.
func (a *applier) changedNames(fn func(string) error) error {
	last := ""
	add := func(p string) error {
		if p == last {
			return nil
		}
		last = p
		return fn(p)
	}
	err := a.log.each(func(s *step) error {
		if err := add(s.c.Path()); err != nil {
			return err
		}
		return add(parent(s.c.Path()))
	})
	if err != nil {
		return err
	}
	if err := a.ws.eachKept(func(p string, _ int64) error { return add(p) }); err != nil {
		return err
	}
	return fn("")
}

// topMeta gives DIR the owner and extended attributes the archive records
// for the signed directory itself, where it records them (its mode and
// mtime come last, in the workspace's finish).
func (a *applier) topMeta() error {
	top, whole := a.header.TopDir()
	if !whole {
		return nil
	}
	if a.chown {
		if err := a.root.Lchown(".", int(top.UID), int(top.GID)); err != nil {
			return ioErr("", "set the owner of DIR", err)
		}
	}
	if err := a.syncXattrs(".", &top); err != nil {
		return ioErr("", "set the extended attributes of DIR", err)
	}
	return nil
}
