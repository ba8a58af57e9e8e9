package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/rsync"
	"github.com/ibt-tools/ibt/internal/tree"
)

const deltaHelp = `Read a diff and write the data a backup needs: the rsync delta of every
updated file against its old signature, and the content of every created one,
read from the directory that was signed.

Example:
  ibt-diff v1.idx v2.idx | ibt-delta > v2.delta
  ibt-delta -C /mnt/snapshot < v2.diff > v2.delta`

type deltaCmd struct {
	commonFlags
	Input string `arg:"" optional:"" default:"-" placeholder:"DIFF" help:"The diff to read ('-', the default, for standard input)."`
	Dir   string `short:"C" placeholder:"DIR" help:"Read files from DIR (default: the directory the new index was made from)."`
	outputFlag
	Jobs int  `short:"j" placeholder:"N" help:"Search and hash a large file in N parallel segments (default: one per core); the output is the same for every N."`
	LZ4  bool `name:"lz4" help:"Frame the output in lz4."`
}

func (d *deltaCmd) run(c *runContext) error {
	defer tuneGC(100, streamHeapLimit)()
	in, err := c.openInput(d.Input)
	if err != nil {
		return err
	}
	defer in.Close()
	r, err := format.NewReader(in)
	if err != nil {
		return fmt.Errorf("failed to read diff %q: %w", displayName(d.Input), err)
	}
	h := r.Header()
	if h.Kind != format.KindDiff {
		return withHint(fmt.Errorf("%q is a %s stream, not a diff", displayName(d.Input), h.Kind),
			"diffs are made by ibt-diff")
	}
	// The old signatures' strong sums are keyed with the old index's seed,
	// which the diff carries (a reader refuses signatures without one).
	var key *format.StrongKey
	if len(h.Seed) > 0 {
		if key, err = format.NewStrongKey(h.Seed); err != nil {
			return fmt.Errorf("failed to read diff %q: %w", displayName(d.Input), err)
		}
	}
	dir := d.Dir
	if dir == "" {
		dir = h.Root
	}
	if dir == "" {
		return withHint(fmt.Errorf("the diff does not say which directory it was made from"), "name it with -C DIR")
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return withHint(fmt.Errorf("failed to open directory %q: %w", dir, unwrapPathError(err)),
			"name the directory that was signed with -C DIR")
	}
	defer root.Close()

	out, err := c.openOutput(d.outputFlag)
	if err != nil {
		return err
	}
	defer out.abort()
	oh := format.Header{Kind: format.KindDelta, Tool: c.name + " " + Version}.WithTree(h)
	oh.Root, oh.Time = dir, h.Time
	w, err := format.NewWriter(out, oh,
		format.WriterOptions{LZ4: d.LZ4})
	if err != nil {
		return err
	}
	jobs := d.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	dw := &deltaWriter{w: w, root: root, jobs: jobs, key: key}
	defer func() {
		c.summary = fmt.Sprintf("files: %d (%s), literal %s, copied from the old versions %s",
			dw.files, humanBytes(dw.read), humanBytes(dw.literal), humanBytes(dw.copied))
	}()
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("failed to read diff %q: %w", displayName(d.Input), err)
		}
		ch, ok := rec.(*format.Change)
		if !ok {
			return fmt.Errorf("failed to read diff %q: unexpected %T record", displayName(d.Input), rec)
		}
		if err := dw.change(ch); err != nil {
			return err
		}
	}
	if err := w.Close(format.Trailer{TreeHash: r.Trailer().TreeHash}); err != nil {
		return fmt.Errorf("failed to write delta: %w", err)
	}
	return out.commit()
}

// deltaWriter turns each change of a diff into a change of the delta stream
// followed by its data.
type deltaWriter struct {
	w    *format.Writer
	root *os.Root
	jobs int
	key  *format.StrongKey // of the old signatures
	werr error             // the error of the last failed write
	// for the -v summary: files read and their bytes, bytes sent as
	// literals and as copies
	files, read, literal, copied int64
}

func (d *deltaWriter) change(ch *format.Change) error {
	var old *format.Entry
	if ch.Op == format.OpUpdate {
		old = ch.Old
		ch = &format.Change{Op: ch.Op, Old: stripSig(ch.Old), New: ch.New}
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
	f, fi, err := tree.OpenFile(d.root, e.Path)
	if err != nil {
		return withHint(err,
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
	d.files++
	d.read += e.Size
	return nil
}

// emit writes one delta operation.
func (d *deltaWriter) emit(op rsync.Op) error {
	var err error
	if op.Kind == rsync.OpCopy {
		err = d.w.WriteCopy(format.Copy{Offset: op.Offset, Length: op.Length})
		d.copied += op.Length
	} else {
		err = d.w.WriteLiteral(op.Data)
		d.literal += int64(len(op.Data))
	}
	if err != nil {
		d.werr = fmt.Errorf("failed to write delta: %w", err)
		return d.werr
	}
	return nil
}

func changedSinceSigned(path string) error {
	return withHint(fmt.Errorf("%q changed since it was signed", path),
		"run ibt-sign and ibt-diff again, then ibt-delta")
}
