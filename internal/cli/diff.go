package cli

import (
	"fmt"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/diff"
	"github.com/ibt-tools/ibt/internal/progress"
)

const diffHelp = `Compare two indexes and write the changes from OLD to NEW: created,
updated, deleted and type-changed entries, metadata changes. It is a merge
join of two sorted streams: memory stays constant on any tree.

A created file whose content an old file (or an earlier created one) has
is a rename or a copy: it names that file as its source and the archive
carries no content for it. An incremental diff writes its changes once the
join is done, as a rename to an earlier name is only known then; a full
backup's flow out at once (see --no-renames).

A file that ibt-sign --skip-changed marked skipped (it changed while read,
and no earlier entry was at hand) is left as OLD has it, with a warning; a
full backup leaves it out. A file OLD has skipped is written whole (or
deleted) over whatever the restore holds there, or left alone if NEW has
it skipped too.

Example:
  ibt-diff v1.idx v2.idx > v2.diff
  ibt-sign ~/data | ibt-diff v1.idx - > v2.diff
  ibt-diff --full v1.idx > full.diff      # full backup: everything is created`

type diffCmd struct {
	commonFlags
	Old  string `arg:"" placeholder:"OLD" help:"The old index ('-' for standard input); with --full, the new one."`
	New  string `arg:"" optional:"" placeholder:"NEW" help:"The new index ('-' for standard input)."`
	Full bool   `help:"Write a full backup: every entry of the one index given is created."`
	// NoRenames streams the changes straight out, for a consumer that
	// wants them before the join ends.
	NoRenames bool `name:"no-renames" help:"Do not look for renamed and copied files; their content goes into the archive. The changes then flow out as the join finds them instead of at its end."`
	outputFlag
	LZ4 bool `name:"lz4" help:"Frame the output in lz4."`
}

// streamHeapLimit is the memory limit of ibt-diff, ibt-delta and ibt-patch,
// unless GOMEMLIMIT or GOGC say otherwise. Their live heap is small but for
// the signature or the delta of one large file, which passes through them
// as records of up to 16 MB decoded, encoded again and parsed; the limit
// makes the collector take back each such record's garbage before the
// next, so that the process stays within the 64 MiB a command may use.
// Measurements: BENCHMARKS.md, "Measurements behind design choices".
const streamHeapLimit = 32 << 20

func (d *diffCmd) run(c *runContext) error {
	defer tuneGC(100, streamHeapLimit)()
	oldName, newName := d.Old, d.New
	switch {
	case d.Full && d.New != "":
		return usagef("--full takes one index, the new one; got two")
	case !d.Full && d.New == "":
		return withHint(usagef("expected two indexes, OLD and NEW"), "for a full backup, use 'ibt-diff --full NEW'")
	case !d.Full && isStdin(oldName) && isStdin(newName):
		return usagef("only one of OLD and NEW can be standard input")
	}
	if d.Full {
		oldName, newName = "", d.Old
	}

	var oldIdx *format.Reader
	if oldName != "" {
		r, err := c.openIndex(oldName)
		if err != nil {
			return err
		}
		defer r.close()
		oldIdx = r.Reader
	}
	newR, err := c.openIndex(newName)
	if err != nil {
		return err
	}
	defer newR.close()

	out, err := c.openOutput(d.outputFlag)
	if err != nil {
		return err
	}
	out.private = true // it holds (or hands on) the signatures' secret seed
	defer out.abort()
	st, err := diff.Join(oldIdx, newR.Reader, diff.Options{
		Tool: c.name + " " + Version, LZ4: d.LZ4,
		OldName: displayName(oldName), NewName: displayName(newName),
		NoRenames: d.NoRenames, Warn: func(msg string) { c.warnf("%s", msg) },
	}, out)
	if err != nil {
		return err
	}
	switch {
	case d.NoRenames:
	case oldIdx == nil:
		c.summary = fmt.Sprintf("%d created files are copies (%s not stored)", st.Sourced, progress.HumanBytes(st.Saved))
	default:
		c.summary = fmt.Sprintf("%d created files are renames or copies (%s not stored)", st.Sourced, progress.HumanBytes(st.Saved))
	}
	if st.Skipped > 0 {
		c.summary += fmt.Sprintf("; %d skipped files left as %s has them", st.Skipped, displayName(oldName))
	}
	return out.commit()
}

func isStdin(name string) bool { return name == "-" }

// indexInput is an opened index stream.
type indexInput struct {
	*format.Reader
	close func() error
}

// openIndex opens name as an index stream and checks its kind.
func (c *runContext) openIndex(name string) (*indexInput, error) {
	f, err := c.openInput(name)
	if err != nil {
		return nil, err
	}
	r, err := format.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("failed to read index %q: %w", displayName(name), err)
	}
	if k := r.Header().Kind; k != format.KindIndex {
		f.Close()
		return nil, withHint(fmt.Errorf("%q is a %s stream, not an index", displayName(name), k),
			"indexes are made by ibt-sign")
	}
	return &indexInput{Reader: r, close: f.Close}, nil
}

func displayName(name string) string {
	if name == "-" || name == "" {
		return "standard input"
	}
	return name
}
