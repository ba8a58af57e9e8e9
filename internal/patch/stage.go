package patch

import (
	"bytes"
	"errors"
	"io"
	"os"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/rsync"
	"github.com/ibt-tools/ibt/internal/tree"
)

// stage builds the new version of a file or symlink in the staging
// directory (in a dry run, only hashes it), verified and with its final
// metadata, so that the commit only renames. It consumes the change's data
// from the archive in every case, checking content against its hash even
// when the new version is already in place.
func (a *applier) stage(src *source, s *step, i int) error {
	c := s.c
	place := !a.opt.DryRun && s.state != stNew && c.New != nil && c.New.Type != format.TypeDir
	if place {
		s.staged = a.stageName(i)
	}
	switch {
	case c.HasData() && c.Op == format.OpUpdate && s.state == stNew:
		return drainOps(src)
	case c.HasData() && c.Op == format.OpUpdate:
		return a.stageFile(s, func(w io.Writer) (int64, error) { return a.patch(src, c, w) })
	case c.HasData():
		return a.stageFile(s, func(w io.Writer) (int64, error) { return copyContent(w, src.content()) })
	case place && c.New.Type == format.TypeFile:
		// A file without data in the archive would be a hard link, refused
		// earlier; an empty file still has a (zero-length) data member.
		return pathErr(ErrCorrupt, c.Path(), "", "the archive holds no content for this new file")
	case place && c.New.Type == format.TypeSymlink:
		return a.stageSymlink(s)
	}
	return nil
}

// writeError marks a failure to write the staging file, as opposed to one
// reading the archive.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

type stagingWriter struct{ w io.Writer }

func (s stagingWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil {
		err = &writeError{err}
	}
	return n, err
}

// stageFile writes what fill produces to the staged file of s (and to the
// hash), then checks length and hash and sets the metadata.
func (a *applier) stageFile(s *step, fill func(io.Writer) (int64, error)) (err error) {
	e := s.c.New
	p := e.Path
	h := rsync.NewFileHash(e.Size)
	var w io.Writer = h
	var f *os.File
	if s.staged != "" {
		f, err = a.root.OpenFile(s.staged, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return ioErr(p, "create its staging file", err)
		}
		defer func() {
			if f != nil {
				f.Close()
			}
		}()
		var fw io.Writer = f
		if faults.write != nil {
			fw = faults.write(p, fw)
		}
		w = io.MultiWriter(stagingWriter{fw}, h)
	}
	n, err := fill(w)
	if err != nil {
		var we *writeError
		if errors.As(err, &we) {
			e := ioErr(p, "write its new version to staging", we.err)
			e.Fix = "free space on DIR's filesystem and run again; DIR is unchanged"
			return e
		}
		return err
	}
	if n != e.Size {
		return pathErr(ErrCorrupt, p, "", "the archive's data gives %d bytes, the entry says %d", n, e.Size)
	}
	sum := h.Sum()
	if !bytes.Equal(sum, e.Hash) {
		return pathErr(ErrCorrupt, p, "the archive is damaged; make it again or use another copy",
			"the new version built from the archive does not match its recorded hash (expected %s %s, got %s)", format.HashAlgorithm, short(e.Hash), short(sum))
	}
	a.written[p] = newFile{size: e.Size, mtime: e.MTime, hash: sum}
	if f == nil {
		return nil
	}
	a.sum.BytesWritten += n
	if a.chown {
		if err := f.Chown(int(e.UID), int(e.GID)); err != nil {
			return ioErr(p, "chown its staging file", err)
		}
	}
	if err := f.Chmod(fileMode(e.Mode)); err != nil {
		return ioErr(p, "chmod its staging file", err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return ioErr(p, "write its new version to staging", err)
	}
	if err := a.root.Chtimes(s.staged, time.Time{}, time.Unix(0, e.MTime)); err != nil {
		return ioErr(p, "set the mtime of its staging file", err)
	}
	return nil
}

// patch rebuilds the new version of an updated file from its current
// (verified old) version and the delta in the archive.
func (a *applier) patch(src *source, c *format.Change, w io.Writer) (int64, error) {
	p := c.Path()
	base, _, err := tree.OpenFile(a.root, p)
	if err != nil {
		return 0, ioErr(p, "open", err)
	}
	defer base.Close()
	pt := rsync.NewPatcher(base, c.Old.Size, w, c.New.Size)
	for {
		op, err := src.nextOp()
		if err == io.EOF {
			return pt.Written(), nil
		}
		if err != nil {
			return 0, err
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

// copyContent copies a created file's content, telling archive errors
// (corrupt) from write errors (writeError).
func copyContent(w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, 256<<10)
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

// stageSymlink creates the new symlink of s in staging, with its mtime.
func (a *applier) stageSymlink(s *step) error {
	e := s.c.New
	if err := a.root.Symlink(e.Target, s.staged); err != nil {
		return ioErr(e.Path, "create its symlink in staging", err)
	}
	if err := setMeta(a.root, s.staged, e, a.chown); err != nil {
		return ioErr(e.Path, "set the metadata of its staged symlink", err)
	}
	return nil
}
