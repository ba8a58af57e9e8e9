package patch

import (
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/rsync"
)

// A full restore of many small files spends most of its time in the
// system calls that make each file: create, write, set its mtime, look at
// its identity, close. Below a directory staged whole (see stageTree) no
// check of a later change depends on these, so the stage writer makes
// them on a goroutine of its own while the archive is read on: the
// reading still checks every file's length and hash against its entry,
// in order, and only then hands the content over. Every step goes to the
// step log through the writer, in path order, so that the log stays the
// order of the archive; anything that reads the log first waits for the
// writer to finish what it was given (stepLog.wait), and the first
// failure of the writer is returned there. A dry run and --only have no
// writer. The steps go over in batches: a hand-over a file woke the
// writer once a file, two system calls (futex) of the ten a small file
// cost.

// asyncMax is the largest file the stage writer makes: a larger one
// gains nothing from it. A batch holds at most batchSteps steps or about
// batchBytes of content, and at most stageQueue batches wait for the
// writer, so the content waiting stays small.
const (
	asyncMax   = 64 << 10
	batchSteps = 64
	batchBytes = 256 << 10
	stageQueue = 4
	// maxMakers bounds the goroutines making files: the system calls of
	// one directory's files share its locks in the kernel.
	maxMakers = 2
)

// The stage writer is makers, which make the files of the batches they
// take, each on its own dirFds (a dirFds is not shared between
// goroutines), and a logger, which takes the batches in the order they
// were given, waits until each is made, and logs its steps: the log stays
// in path order, and a failure is reported at the first step that failed
// in that order. Every file below a directory staged whole is made after
// its directory, which the reading goroutine makes before it hands over
// anything below it.
type stageWriter struct {
	a      *applier
	fds    []*dirFds // one per maker
	jobs   chan *batch
	logq   chan *batch
	wg     sync.WaitGroup // batches given and not yet logged
	makers sync.WaitGroup
	failed atomic.Bool   // a batch failed: the makers make no more
	done   chan struct{} // closed when the logger returns
	err    error         // the first failure; read after wg.Wait or done
	// the batch being filled, by the reading goroutine: its steps, the
	// bytes of their content, and the slab that content is read into
	next  []*step
	bytes int
	slab  []byte
	// slabs whose batches are made, for the reading goroutine to fill
	// again: memory the process has touched already, where a buffer new
	// for every file cost a page fault every 4 KiB of content, the most
	// expensive part of reading a restore's small files
	free chan []byte
}

// slabSize holds the content of a batch: it is sent once it holds
// batchBytes, and a file adds at most asyncMax and the byte that shows its
// end (readSmall).
const slabSize = batchBytes + asyncMax + 1

// batch is steps handed over together.
type batch struct {
	steps  []*step
	slab   []byte        // their content, in one slab (stageWriter.free)
	made   chan struct{} // closed once its files are made, or failed
	failAt int           // the step whose file failed, or len(steps)
	err    error
}

// startWriter starts the stage writer of a run that stages.
func (a *applier) startWriter() {
	if a.opt.DryRun || a.only != nil || a.root == nil || a.log == nil {
		return
	}
	a.freshFile() // asked here, before the makers read it
	n := max(1, min(runtime.GOMAXPROCS(0), maxMakers))
	w := &stageWriter{a: a, jobs: make(chan *batch, stageQueue), logq: make(chan *batch, stageQueue+n),
		done: make(chan struct{}), free: make(chan []byte, stageQueue+n+1)}
	a.writer = w
	a.log.wait = w.wait
	for range n {
		fds := newDirFds(a.root)
		w.fds = append(w.fds, fds)
		w.makers.Go(func() { w.make(fds) })
	}
	go w.logAll()
}

// stopWriter waits for the stage writer to log every step and stops it,
// returning its first failure.
func (a *applier) stopWriter() error {
	w := a.writer
	if w == nil {
		return nil
	}
	a.writer = nil
	a.log.wait = nil
	w.send()
	close(w.jobs)
	close(w.logq)
	<-w.done
	w.makers.Wait()
	for _, fds := range w.fds {
		fds.close()
	}
	return w.err
}

// logStep appends s to the step log, through the stage writer if there is
// one: a failure then comes at the next read of the log or stopWriter.
func (a *applier) logStep(s *step) error {
	w := a.writer
	if w == nil {
		return a.log.add(s)
	}
	w.next = append(w.next, s)
	w.bytes += len(s.data)
	if len(w.next) >= batchSteps || w.bytes >= batchBytes {
		w.send()
	}
	return nil
}

// send hands the batch being filled to the writer: to the logger first,
// which takes batches in order, then to whichever maker is free.
func (w *stageWriter) send() {
	if len(w.next) == 0 {
		return
	}
	b := &batch{steps: w.next, slab: w.slab, made: make(chan struct{}), failAt: len(w.next)}
	w.wg.Add(1)
	w.logq <- b
	w.jobs <- b
	w.next, w.bytes, w.slab = make([]*step, 0, batchSteps), 0, nil
}

// space returns a buffer of n bytes for the content of a step the reading
// goroutine is about to log, in the slab of the batch being filled;
// n is at most slabSize.
func (w *stageWriter) space(n int) []byte {
	if cap(w.slab)-len(w.slab) < n {
		w.send()
		w.slab = nil // gone with its batch, or (no step logged since) dropped
	}
	if w.slab == nil {
		select {
		case w.slab = <-w.free:
		default:
			w.slab = make([]byte, 0, slabSize)
		}
	}
	k := len(w.slab)
	w.slab = w.slab[:k+n]
	return w.slab[k : k+n : k+n]
}

// make makes the files of the batches it takes, on fds.
func (w *stageWriter) make(fds *dirFds) {
	for b := range w.jobs {
		for i, s := range b.steps {
			if s.data != nil && b.err == nil && !w.failed.Load() {
				if b.err = w.write(fds, s); b.err != nil {
					b.failAt = i
				}
			}
			s.data = nil
		}
		if b.slab != nil {
			w.free <- b.slab[:0] // never blocks: no more slabs are made than it holds
		}
		close(b.made)
	}
}

// logAll logs the steps of the batches in the order they were given, each
// once it is made, up to the first failure.
func (w *stageWriter) logAll() {
	defer close(w.done)
	for b := range w.logq {
		<-b.made
		for _, s := range b.steps[:b.failAt] {
			if w.err == nil {
				w.err = w.a.log.add(s)
			}
		}
		if b.err != nil && w.err == nil {
			w.err = b.err
		}
		if w.err != nil {
			w.failed.Store(true)
		}
		w.wg.Done()
	}
}

// wait hands over the batch being filled and waits until every step given
// is logged.
func (w *stageWriter) wait() error {
	w.send()
	w.wg.Wait()
	return w.err
}

// write makes the staged file of s from its content, as stageFile does:
// on a bare descriptor where it can (makeSmall).
func (w *stageWriter) write(fds *dirFds, s *step) error {
	a := w.a
	e := s.c.New
	fresh := a.freshFile()
	small := smallFile{data: s.data, create: fresh.createMode(e), mode: e.Mode & 0o7777, chmod: !fresh.createsMode(e),
		chown: a.chown && !fresh.owns(e), uid: int(e.UID), gid: int(e.GID), mtime: e.MTime}
	if faults.write != nil {
		small.wrap = func(w io.Writer) io.Writer { return faults.write(e.Path, w) }
	}
	dev, ino, ctime, ok, err := fds.makeSmall(s.staged, small)
	var we *writeError
	switch {
	case ok && errors.As(err, &we):
		e := ioErr(e.Path, "write its new version to staging", we.err)
		e.Fix = "free space on DIR's filesystem and run again; DIR is unchanged"
		return e
	case ok && err != nil:
		return ioErr(e.Path, "make its staging file", err)
	case ok:
		s.dev, s.ino, s.ctime = dev, ino, ctime
		return nil
	}
	f, err := fds.createStaged(s.staged, fresh.createMode(e))
	if err != nil {
		return ioErr(e.Path, "create its staging file", err)
	}
	sparse := &sparseWriter{f: f, piece: writePiece}
	var out io.Writer = sparse
	if faults.write != nil {
		out = faults.write(e.Path, out)
	}
	if _, err = out.Write(s.data); err == nil {
		err = sparse.finish()
	}
	if err != nil {
		f.Close()
		e := ioErr(e.Path, "write its new version to staging", err)
		e.Fix = "free space on DIR's filesystem and run again; DIR is unchanged"
		return e
	}
	return a.settleStaged(fds, f, s)
}

// smallFile is a small staged file for makeSmall to make whole: its
// content, the mode to create it with, the owner and mode to give it after
// if chown or chmod, and its mtime. wrap, if not nil, wraps its writer
// (faults.write).
type smallFile struct {
	data         []byte
	create, mode uint32
	chmod, chown bool
	uid, gid     int
	mtime        int64
	wrap         func(io.Writer) io.Writer
}

// stagesLater reports whether s, staged now, would be a small file for the
// stage writer.
func (a *applier) stagesLater(s *step) bool {
	c := s.c
	return a.writer != nil && s.inside && c.Op == format.OpCreate && c.From == "" && c.HasData() &&
		c.New.Type == format.TypeFile && len(c.New.Xattrs) == 0 && c.New.Size <= asyncMax
}

// stageLaterContent reads the content of s from the archive and checks it
// against its entry, for the stage writer to make.
// The content is read into one buffer, which the writer takes, and hashed
// there whole: no hashing on other cores, which a small file does not pay
// for.
func (a *applier) stageLaterContent(src *source, s *step) error {
	e := s.c.New
	b, err := readSmall(src.content(), a.writer.space(int(e.Size)+1))
	if err != nil {
		return err
	}
	h := rsync.NewFileHash(e.Size)
	h.Write(b)
	if err := checkStaged(e, int64(len(b)), h.Sum()); err != nil {
		return err
	}
	s.data = b
	a.sum.BytesWritten += int64(len(b))
	return nil
}

// readSmall reads r to its end into b, a buffer one byte longer than the
// content should be (to see its end): a small file's content, read as
// copyContent reads it.
func readSmall(r io.Reader, b []byte) ([]byte, error) {
	n := 0
	for {
		k, err := r.Read(b[n:])
		n += k
		switch {
		case err == io.EOF:
			return b[:n], nil
		case err != nil:
			return nil, corrupt(err)
		case n == len(b):
			// more than size, which checkStaged reports
			if _, err := copyContent(io.Discard, r, 0); err != nil {
				return nil, err
			}
			return b, nil
		}
	}
}
