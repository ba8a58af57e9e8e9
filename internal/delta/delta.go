// Package delta makes the data of a backup, the work of ibt-delta: for each
// change of a diff, the rsync delta of an updated file against its old
// signature, or the whole content of a created one, read from the tree the
// new index was made from.
package delta

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/hint"
	"github.com/ibt-tools/ibt/internal/rsync"
	"github.com/ibt-tools/ibt/internal/tree"
)

// Options says how Write writes a delta stream.
type Options struct {
	Tool string // the creating tool, for the delta's header
	LZ4  bool   // frame the delta in lz4
	// Jobs is how many segments of a large file are searched and hashed in
	// parallel (default: one per core); the output is the same for every
	// value.
	Jobs int
	Name string // the diff's name in messages
}

// Stats counts what Write read and wrote.
type Stats struct {
	Files, Read int64 // files read, and their bytes
	Literal     int64 // bytes sent as literal data
	Copied      int64 // bytes sent as copies from the old versions
}

// Write reads the changes of diff and writes to w the delta stream: each
// change followed by its data, the files read from root, which holds the
// tree the diff's new index was made from. A file that is not as that
// index has it fails the whole stream.
func Write(diff *format.Reader, root *os.Root, opt Options, w io.Writer) (Stats, error) {
	h := diff.Header()
	// The old signatures' strong sums are keyed with the old index's seed,
	// which the diff carries (a reader refuses signatures without one).
	var key *format.StrongKey
	if len(h.Seed) > 0 {
		var err error
		if key, err = format.NewStrongKey(h.Seed); err != nil {
			return Stats{}, fmt.Errorf("failed to read diff %q: %w", opt.Name, err)
		}
	}
	oh := format.Header{Kind: format.KindDelta, Tool: opt.Tool}.WithTree(h)
	oh.Root, oh.Time = root.Name(), h.Time
	fw, err := format.NewWriter(w, oh, format.WriterOptions{LZ4: opt.LZ4})
	if err != nil {
		return Stats{}, err
	}
	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	dw := &deltaWriter{w: fw, files: tree.NewFiles(root), jobs: jobs, key: key}
	defer dw.files.Close()
	for {
		rec, err := diff.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return dw.stats, fmt.Errorf("failed to read diff %q: %w", opt.Name, err)
		}
		ch, ok := rec.(*format.Change)
		if !ok {
			return dw.stats, fmt.Errorf("failed to read diff %q: unexpected %T record", opt.Name, rec)
		}
		if err := dw.change(ch); err != nil {
			return dw.stats, err
		}
	}
	if err := fw.Close(format.Trailer{TreeHash: diff.Trailer().TreeHash}); err != nil {
		return dw.stats, fmt.Errorf("failed to write delta: %w", err)
	}
	return dw.stats, nil
}

// deltaWriter turns each change of a diff into a change of the delta stream
// followed by its data.
type deltaWriter struct {
	w     *format.Writer
	files *tree.Files // the tree's files, read in path order
	jobs  int
	key   *format.StrongKey // of the old signatures
	werr  error             // the error of the last failed write
	stats Stats
}

func (d *deltaWriter) change(ch *format.Change) error {
	var old *format.Entry
	if ch.Op == format.OpUpdate {
		old = ch.Old
		ch = &format.Change{Op: ch.Op, Old: ch.Old.WithoutSig(), New: ch.New}
	}
	if err := d.w.WriteChange(ch); err != nil {
		return fmt.Errorf("failed to write delta: %w", err)
	}
	if !ch.HasData() {
		return nil
	}
	var sig *rsync.Signature
	if old != nil && len(old.Sig) > 0 {
		var err error
		if d.key == nil {
			return fmt.Errorf("the diff holds the signature of %q but no signature seed: make it again with this version of ibt-diff", old.Path)
		}
		sig, err = rsync.ParseSignature(old.Sig, int(old.BlockSize), old.Size, d.key)
		if err != nil {
			return fmt.Errorf("bad signature of %q in the diff: %w", old.Path, err)
		}
	}
	e := ch.New
	f, fi, err := d.files.Open(e.Path)
	if err != nil {
		return hint.With(err,
			"the directory changed since it was signed: run ibt-sign and ibt-diff again")
	}
	defer f.Close()
	if fi.Size() != e.Size || fi.ModTime().UnixNano() != e.MTime {
		return changedSinceSigned(e.Path)
	}
	// A created file is a delta against nothing: all literal. DeltaFile
	// sends exactly e.Size bytes, then reports a file that grew or shrank,
	// so the writer never sees more data than the change announced.
	d.werr = nil
	hash, err := rsync.DeltaFile(sig, f, e.Size, d.jobs, d.emit)
	switch {
	case d.werr != nil:
		return d.werr
	case errors.Is(err, rsync.ErrSizeChanged):
		return changedSinceSigned(e.Path)
	case err != nil:
		return fmt.Errorf("failed to read %q: %w", e.Path, err)
	case !bytes.Equal(hash, e.Hash):
		return changedSinceSigned(e.Path)
	}
	d.stats.Files++
	d.stats.Read += e.Size
	return nil
}

// emit writes one delta operation.
func (d *deltaWriter) emit(op rsync.Op) error {
	var err error
	if op.Kind == rsync.OpCopy {
		err = d.w.WriteCopy(format.Copy{Offset: op.Offset, Length: op.Length})
		d.stats.Copied += op.Length
	} else {
		err = d.w.WriteLiteral(op.Data)
		d.stats.Literal += int64(len(op.Data))
	}
	if err != nil {
		d.werr = fmt.Errorf("failed to write delta: %w", err)
		return d.werr
	}
	return nil
}

func changedSinceSigned(path string) error {
	return hint.With(fmt.Errorf("%q changed since it was signed", path),
		"run ibt-sign and ibt-diff again, then ibt-delta")
}
