package cli

import (
	"fmt"
	"io"
	"math"
	"runtime"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

const packHelp = `Read a delta stream and write the archive: a tar stream (gzip by default)
with created/ (new files) and updated/ (rsync deltas), each named by the
SHA-256 of its path, and the records ibt-patch needs to apply it alone.

Example:
  ibt-delta < v2.diff | ibt-pack > v2.tar.gz
  ibt-pack --codec lz4 < v2.delta | ssh backup 'cat > v2.tar.lz4'
  ibt-pack --codec zstd -o v2.tar.zst v2.delta`

type packCmd struct {
	commonFlags
	Input string `arg:"" optional:"" default:"-" placeholder:"DELTA" help:"The delta stream to read ('-', the default, for standard input)."`
	Codec string `default:"gzip" enum:"gzip,lz4,zstd,none" help:"Compression of the tar stream: gzip, lz4, zstd or none (default: gzip)."`
	Level int    `help:"Compression level (gzip: -2..9, default 5; lz4: 1..9, default fast; zstd: 1..22 as zstd's, in four steps: 1-2, 3-5, 6-9, 10-22; default 3)."`
	Jobs  int    `short:"j" placeholder:"N" help:"Compress on N cores at once (default: all of them; zstd uses 4 at most); the archive is the same for every N."`
	outputFlag
}

// packGCPercent is ibt-pack's GOGC, unless GOGC or GOMEMLIMIT say
// otherwise. Its live heap is the codec's buffers and the data held for a
// batch of small files, some 26 MB with gzip on two cores; what it frees
// is a little for each file, so collecting at half the live heap instead
// of all of it costs nothing measurable and keeps the peak RSS of a full
// backup of many small files within the 64 MiB a command may use. No
// limit: zstd's frames in flight are live, and a limit below them would
// keep the collector running.
// Measurements: BENCHMARKS.md, "Measurements behind design choices".
const packGCPercent = 50

func (p *packCmd) run(c *runContext) error {
	defer tuneGC(packGCPercent, math.MaxInt64)()
	if p.Jobs < 0 {
		return usagef("-j %d: the number of cores must be positive", p.Jobs)
	}
	if p.Jobs > 0 {
		// every codec compresses on GOMAXPROCS goroutines, and
		// nothing else in ibt-pack runs in parallel
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(p.Jobs))
	}
	in, err := c.openInput(p.Input)
	if err != nil {
		return err
	}
	defer in.Close()
	r, err := format.NewReader(in)
	if err != nil {
		return fmt.Errorf("failed to read delta %q: %w", displayName(p.Input), err)
	}
	h := r.Header()
	if h.Kind != format.KindDelta {
		hint := "deltas are made by ibt-delta"
		if h.Kind == format.KindDiff {
			hint = "pipe the diff through ibt-delta first: ibt-delta < DIFF | ibt-pack"
		}
		return withHint(fmt.Errorf("%q is a %s stream, not a delta", displayName(p.Input), h.Kind), hint)
	}
	out, err := c.openOutput(p.outputFlag)
	if err != nil {
		return err
	}
	defer out.abort()
	h.Tool = c.name + " " + Version
	w, err := archive.NewWriter(out, h, archive.WriterOptions{Codec: archive.Codec(p.Codec), Level: p.Level})
	if err != nil {
		return err
	}
	var cur *format.Change // the change whose data the next records are
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("failed to read delta %q: %w", displayName(p.Input), err)
		}
		switch rec := rec.(type) {
		case *format.Change:
			cur, err = rec, w.AddChange(rec)
		case *format.Literal:
			if cur != nil && cur.HasDelta() {
				err = w.WriteLiteral(rec.Data)
			} else {
				err = w.WriteContent(rec.Data)
			}
		case *format.Copy:
			err = w.WriteCopy(rec.Offset, rec.Length)
		default:
			err = fmt.Errorf("unexpected %T record in a delta stream", rec)
		}
		if err != nil {
			return fmt.Errorf("failed to write archive: %w", err)
		}
	}
	if err := w.Close(r.Trailer()); err != nil {
		return fmt.Errorf("failed to write archive: %w", err)
	}
	return out.commit()
}
