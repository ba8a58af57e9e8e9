package patch

import (
	"io"
	"sync"

	"github.com/ibt-tools/ibt/format"
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
// writer.

// asyncMax is the largest file the stage writer makes: a larger one
// gains nothing from it, and the content waiting for it stays small
// (at most stageQueue of them).
const (
	asyncMax   = 64 << 10
	stageQueue = 64
)

type stageWriter struct {
	a    *applier
	fds  *dirFds // the writer's own: a dirFds is not shared between goroutines
	jobs chan *step
	wg   sync.WaitGroup // steps given and not yet logged
	done chan struct{}
	err  error // the first failure; read after wg.Wait or done
}

// startWriter starts the stage writer of a run that stages.
func (a *applier) startWriter() {
	if a.opt.DryRun || a.only != nil || a.root == nil || a.log == nil {
		return
	}
	a.freshFile() // asked here, before the writer reads it
	w := &stageWriter{a: a, fds: newDirFds(a.root), jobs: make(chan *step, stageQueue), done: make(chan struct{})}
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
	w.wg.Add(1)
	w.jobs <- s
	return nil
}

func (w *stageWriter) run() {
	defer close(w.done)
	for s := range w.jobs {
		if w.err == nil {
			w.err = w.stage(s)
		}
		s.data = nil
		w.wg.Done()
	}
}

// wait waits until every step given is logged.
func (w *stageWriter) wait() error {
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

// write makes the staged file of s from its content, as stageFile does.
func (w *stageWriter) write(s *step) error {
	a := w.a
	e := s.c.New
	f, err := w.fds.createStaged(s.staged, a.freshFile().createMode(e))
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

// stagesLater reports whether s, staged now, would be a small file for the
// stage writer.
func (a *applier) stagesLater(s *step) bool {
	c := s.c
	return a.writer != nil && s.inside && c.Op == format.OpCreate && c.From == "" && c.HasData() &&
		c.New.Type == format.TypeFile && len(c.New.Xattrs) == 0 && c.New.Size <= asyncMax
}

// stageLaterContent reads the content of s from the archive and checks it
// against its entry, for the stage writer to make.
func (a *applier) stageLaterContent(src *source, s *step) error {
	e := s.c.New
	buf := &byteSink{b: make([]byte, 0, e.Size+1)}
	n, sum, err := a.onePass(nil, e, nil, func(w io.Writer) (int64, error) {
		return copyContent(io.MultiWriter(w, buf), src.content(), e.Size)
	})
	if err != nil {
		return err
	}
	if err := checkStaged(e, n, sum); err != nil {
		return err
	}
	s.data = buf.b
	a.sum.BytesWritten += n
	return nil
}

// byteSink collects what is written to it.
type byteSink struct{ b []byte }

func (s *byteSink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}
