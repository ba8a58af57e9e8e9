package patch

import (
	"errors"
	"io"
	"sync"

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
)

type stageWriter struct {
	a    *applier
	fds  *dirFds // the writer's own: a dirFds is not shared between goroutines
	jobs chan []*step
	wg   sync.WaitGroup // batches given and not yet logged
	done chan struct{}
	err  error // the first failure; read after wg.Wait or done
	// the batch being filled, by the reading goroutine
	batch []*step
	bytes int
}

// startWriter starts the stage writer of a run that stages.
func (a *applier) startWriter() {
	if a.opt.DryRun || a.only != nil || a.root == nil || a.log == nil {
		return
	}
	a.freshFile() // asked here, before the writer reads it
	w := &stageWriter{a: a, fds: newDirFds(a.root), jobs: make(chan []*step, stageQueue), done: make(chan struct{})}
	a.writer = w
	a.log.wait = w.wait
	go w.run()
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
	<-w.done
	w.fds.close()
	return w.err
}

// logStep appends s to the step log, through the stage writer if there is
// one: a failure then comes at the next read of the log or stopWriter.
func (a *applier) logStep(s *step) error {
	w := a.writer
	if w == nil {
		return a.log.add(s)
	}
	w.batch = append(w.batch, s)
	w.bytes += len(s.data)
	if len(w.batch) >= batchSteps || w.bytes >= batchBytes {
		w.send()
	}
	return nil
}

// send hands the batch being filled to the writer.
func (w *stageWriter) send() {
	if len(w.batch) == 0 {
		return
	}
	w.wg.Add(1)
	w.jobs <- w.batch
	w.batch, w.bytes = make([]*step, 0, batchSteps), 0
}

func (w *stageWriter) run() {
	defer close(w.done)
	for batch := range w.jobs {
		for _, s := range batch {
			if w.err == nil {
				w.err = w.stage(s)
			}
			s.data = nil
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

// stage makes the staged file of s if it carries content, and logs s.
func (w *stageWriter) stage(s *step) error {
	if s.data != nil {
		if err := w.write(s); err != nil {
			return err
		}
	}
	return w.a.log.add(s)
}

// write makes the staged file of s from its content, as stageFile does:
// on a bare descriptor where it can (makeSmall).
func (w *stageWriter) write(s *step) error {
	a := w.a
	e := s.c.New
	fresh := a.freshFile()
	small := smallFile{data: s.data, create: fresh.createMode(e), mode: e.Mode & 0o7777, chmod: !fresh.createsMode(e),
		chown: a.chown && !fresh.owns(e), uid: int(e.UID), gid: int(e.GID), mtime: e.MTime}
	if faults.write != nil {
		small.wrap = func(w io.Writer) io.Writer { return faults.write(e.Path, w) }
	}
	dev, ino, ctime, ok, err := w.fds.makeSmall(s.staged, small)
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
	f, err := w.fds.createStaged(s.staged, fresh.createMode(e))
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
	return a.settleStaged(w.fds, f, s)
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
	b, err := readSmall(src.content(), e.Size)
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

// readSmall reads r to its end into a buffer of size bytes (and one more,
// to see the end): a small file's content, read as copyContent reads it.
func readSmall(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, size+1)
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
