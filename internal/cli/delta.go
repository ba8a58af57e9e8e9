package cli

import (
	"fmt"
	"os"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/delta"
	"github.com/ibt-tools/ibt/internal/oserr"
	"github.com/ibt-tools/ibt/internal/progress"
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
	dir := d.Dir
	if dir == "" {
		dir = h.Root
	}
	if dir == "" {
		return withHint(fmt.Errorf("the diff does not say which directory it was made from"), "name it with -C DIR")
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return withHint(fmt.Errorf("failed to open directory %q: %w", dir, oserr.Cause(err)),
			"name the directory that was signed with -C DIR")
	}
	defer root.Close()

	out, err := c.openOutput(d.outputFlag)
	if err != nil {
		return err
	}
	defer out.abort()
	st, err := delta.Write(r, root, delta.Options{Tool: c.name + " " + Version, LZ4: d.LZ4, Jobs: d.Jobs, Name: displayName(d.Input)}, out)
	c.summary = fmt.Sprintf("files: %d (%s), literal %s, copied from the old versions %s",
		st.Files, progress.HumanBytes(st.Read), progress.HumanBytes(st.Literal), progress.HumanBytes(st.Copied))
	if err != nil {
		return err
	}
	return out.commit()
}
