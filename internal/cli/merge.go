package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ibt-tools/ibt/format/archive"
	"github.com/ibt-tools/ibt/internal/merge"
	"github.com/ibt-tools/ibt/internal/oserr"
)

const mergeHelp = `Merge consecutive archives into one, without any tree: applying it to
the first archive's old tree gives exactly the tree that applying them in
turn gives. Merging a full backup and the incrementals since is a
synthetic full backup of the last tree. A chain that does not link (an
archive not made from its predecessor's new tree) is refused, and nothing
is written.

Example:
  ibt-merge full.tar.gz inc1.tar.gz inc2.tar.gz > synthetic.tar.gz
  ibt-merge -o week.tar.gz mon.tar.gz tue.tar.gz wed.tar.gz`

type mergeCmd struct {
	commonFlags
	Archives []string `arg:"" placeholder:"ARCHIVE" help:"The archives, oldest first: at least two."`
	Codec    string   `default:"gzip" enum:"gzip,lz4,zstd,none" help:"Compression of the output's tar stream: gzip, lz4, zstd or none (default: gzip)."`
	Level    int      `help:"Compression level (gzip: -2..9, default 5; lz4: 1..9, default fast; zstd: 1..22 as zstd's, in four steps: 1-2, 3-5, 6-9, 10-22; default 3)."`
	outputFlag
}

func (g *mergeCmd) run(c *runContext) error {
	if len(g.Archives) < 2 {
		return usagef("expected at least two archives, got %d", len(g.Archives))
	}
	for _, name := range g.Archives {
		if isStdin(name) {
			return usagef("the archives are read from files, not standard input")
		}
	}
	out, err := c.openOutput(g.outputFlag)
	if err != nil {
		return err
	}
	defer out.abort()
	dir := ""
	if out.tmp != nil {
		dir = filepath.Dir(out.tmp.Name())
	}
	// Each step is written to a temporary file, the last one too when the
	// output is standard output, so that a refused chain writes nothing.
	var left string // the previous step's file
	defer func() {
		if left != "" {
			os.Remove(left)
			forgetTemp(left)
		}
	}()
	shown := g.Archives[0]
	for i := 1; i < len(g.Archives); i++ {
		last := i == len(g.Archives)-1
		opt := merge.Options{Tool: c.name + " " + Version, Codec: archive.None, TempDir: dir}
		if last {
			opt.Codec, opt.Level = archive.Codec(g.Codec), g.Level
		}
		step, err := createTemp(dir, ".ibt-merge-*")
		if err != nil {
			return fmt.Errorf("failed to create a temporary file: %w", oserr.Cause(err))
		}
		aName := left
		if aName == "" {
			aName = g.Archives[0]
		}
		err = mergeStep(aName, shown, g.Archives[i], step, opt)
		if cerr := step.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("failed to write a temporary file: %w", cerr)
		}
		if left != "" {
			os.Remove(left)
			forgetTemp(left)
		}
		left = step.Name()
		if err != nil {
			return err
		}
		shown = g.Archives[i]
	}
	f, err := os.Open(left)
	if err != nil {
		return fmt.Errorf("failed to read a temporary file: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(out, f); err != nil {
		return fmt.Errorf("failed to write output: %w", err)
	}
	c.summary = fmt.Sprintf("%d archives merged", len(g.Archives))
	return out.commit()
}

// mergeStep merges the archive in file aFile, shown as aName, and the one
// named bName into w.
func mergeStep(aFile, aName, bName string, w io.Writer, opt merge.Options) error {
	return merge.Merge(merge.Input{Name: aName, Open: archiveOpener(aFile, aName)},
		merge.Input{Name: bName, Open: archiveOpener(bName, bName)}, w, opt)
}

// archiveOpener opens the archive in file, shown as name, for reading.
func archiveOpener(file, name string) func() (*archive.Reader, io.Closer, error) {
	return func() (*archive.Reader, io.Closer, error) {
		f, err := os.Open(file)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to open input file %q: %w", name, oserr.Cause(err))
		}
		r, err := archive.NewReader(f)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("failed to read archive %q: %w", name, err)
		}
		return r, f, nil
	}
}
