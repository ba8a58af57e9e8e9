package cli

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
	"github.com/ibt-tools/ibt/internal/merge"
	"github.com/ibt-tools/ibt/internal/oserr"
)

const mergeHelp = `Merge consecutive archives into one, without any tree: applying it to
the first archive's old tree gives exactly the tree that applying them in
turn gives. Merging a full backup and the incrementals since is a
synthetic full backup of the last tree. A chain that does not link (an
archive not made from its predecessor's new tree) is refused, and nothing
is written. With -n, nothing is written: the archives are checked whole
(every member read, every created file's content against its hash) and
merged as they would be, and each link of the chain is printed, its old
and new tree hash and what it changes.

Example:
  ibt-merge full.tar.gz inc1.tar.gz inc2.tar.gz > synthetic.tar.gz
  ibt-merge -o week.tar.gz mon.tar.gz tue.tar.gz wed.tar.gz
  ibt-merge -n full.tar.gz inc1.tar.gz inc2.tar.gz`

// mergeHeapLimit is ibt-merge's memory limit, unless GOMEMLIMIT or GOGC say
// otherwise. Its live heap is the output's compressor (about 17 MiB for
// gzip's parallel blocks), the small files of the batch being written, and
// the change records of both archives; at twice that, where the collector
// would let it grow, a merge of a full backup of 200,000 files peaked at 80
// MiB. At ibt-diff's 32 MiB the collector ran all the time.
const mergeHeapLimit = 48 << 20

type mergeCmd struct {
	commonFlags
	Archives []string `arg:"" placeholder:"ARCHIVE" help:"The archives, oldest first: at least two."`
	Codec    string   `default:"gzip" enum:"gzip,lz4,zstd,none" help:"Compression of the output's tar stream: gzip, lz4, zstd or none (default: gzip)."`
	Level    int      `help:"Compression level (gzip: -2..9, default 5; lz4: 1..9, default fast; zstd: 1..22 as zstd's, in four steps: 1-2, 3-5, 6-9, 10-22; default 3)."`
	DryRun   bool     `short:"n" name:"dry-run" help:"Check that the archives are whole and make a chain, and print each link (old and new tree hash, its changes); write no archive."`
	outputFlag
}

func (g *mergeCmd) run(c *runContext) error {
	defer tuneGC(100, mergeHeapLimit)()
	if len(g.Archives) < 2 {
		return usagef("expected at least two archives, got %d", len(g.Archives))
	}
	for _, name := range g.Archives {
		if isStdin(name) {
			return usagef("the archives are read from files, not standard input")
		}
	}
	if g.DryRun {
		if g.Output != "" {
			return usagef("-n writes no archive, and -o names one")
		}
		return g.check(c)
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
	// -o FILE is a temporary file until the commit: the last step goes
	// there, not copied once more.
	if out.tmp != nil {
		if _, err := g.fold(c, dir, out); err != nil {
			return err
		}
		c.summary = fmt.Sprintf("%d archives merged", len(g.Archives))
		return out.commit()
	}
	last, err := g.fold(c, dir, nil)
	if err != nil {
		return err
	}
	defer removeTemp(last)
	f, err := os.Open(last)
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

// fold merges the archives from the left, each step into a temporary file
// in dir, and returns the name of the last one, which the caller removes;
// or, given final, writes the last step there and returns "".
func (g *mergeCmd) fold(c *runContext, dir string, final io.Writer) (string, error) {
	var left string // the previous step's file
	shown := g.Archives[0]
	for i := 1; i < len(g.Archives); i++ {
		last := i == len(g.Archives)-1
		opt := merge.Options{Tool: c.name + " " + Version, Codec: archive.None, TempDir: dir}
		if last && !g.DryRun {
			opt.Codec, opt.Level = archive.Codec(g.Codec), g.Level
		}
		aName := left
		if aName == "" {
			aName = g.Archives[0]
		}
		if last && final != nil {
			err := mergeStep(aName, shown, g.Archives[i], final, opt)
			removeTemp(left)
			return "", err
		}
		step, err := createTemp(dir, ".ibt-merge-*")
		if err != nil {
			removeTemp(left)
			return "", fmt.Errorf("failed to create a temporary file: %w", oserr.Cause(err))
		}
		err = mergeStep(aName, shown, g.Archives[i], step, opt)
		if cerr := step.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("failed to write a temporary file: %w", cerr)
		}
		removeTemp(left)
		left = step.Name()
		if err != nil {
			removeTemp(left)
			return "", err
		}
		shown = g.Archives[i]
	}
	return left, nil
}

// removeTemp removes a temporary file of the fold, if any.
func removeTemp(name string) {
	if name != "" {
		os.Remove(name)
		forgetTemp(name)
	}
}

// check is ibt-merge -n: every archive is read whole, the chain is merged
// as it would be (into temporary files, removed), and each link printed.
func (g *mergeCmd) check(c *runContext) error {
	var links []merge.Link
	for _, name := range g.Archives {
		l, err := merge.Inspect(merge.Input{Name: name, Open: archiveOpener(name, name)})
		if err != nil {
			return err
		}
		links = append(links, l)
	}
	last, err := g.fold(c, "", nil)
	if err != nil {
		return err
	}
	removeTemp(last)
	out := bufio.NewWriter(c.env.Stdout)
	enc := json.NewEncoder(out)
	for i, l := range links {
		var old []byte
		switch {
		case i > 0:
			old = links[i-1].NewTree
		case l.Full:
			old = merge.EmptyTree
		}
		if g.JSON {
			m := map[string]any{"full": l.Full, "new_tree_hash": hex.EncodeToString(l.NewTree),
				"created": l.Ops[format.OpCreate], "updated": l.Ops[format.OpUpdate], "deleted": l.Ops[format.OpDelete],
				"metadata": l.Ops[format.OpMeta], "replaced": l.Ops[format.OpReplace], "renamed": l.Renamed}
			addString(m, "archive", l.Name)
			if old != nil {
				m["old_tree_hash"] = hex.EncodeToString(old)
			}
			enc.Encode(m)
			continue
		}
		from := "(not recorded)"
		switch {
		case i == 0 && l.Full:
			from = "(empty tree)"
		case old != nil:
			from = shortHash(old)
		}
		fmt.Fprintf(out, "%s: %s -> %s: created %d, updated %d, deleted %d, metadata %d, replaced %d, renamed %d\n",
			quotePath(l.Name), from, shortHash(l.NewTree), l.Ops[format.OpCreate], l.Ops[format.OpUpdate],
			l.Ops[format.OpDelete], l.Ops[format.OpMeta], l.Ops[format.OpReplace], l.Renamed)
	}
	c.summary = fmt.Sprintf("%d archives make a chain (nothing written)", len(g.Archives))
	return out.Flush()
}

// shortHash shows a tree hash by its first 8 bytes, as people compare them.
func shortHash(h []byte) string {
	if len(h) == 0 {
		return "(none)"
	}
	return hex.EncodeToString(h[:min(len(h), 8)])
}

// mergeStep merges the archive in file aFile, shown as aName, and the one
// named bName into w. The later archive, read twice by the merge, is read
// from its file once (merge.ReadOnce), so that it may be a pipe.
func mergeStep(aFile, aName, bName string, w io.Writer, opt merge.Options) error {
	f, err := os.Open(bName)
	if err != nil {
		return fmt.Errorf("failed to open input file %q: %w", bName, oserr.Cause(err))
	}
	b, closeB, err := merge.ReadOnce(bName, f, opt.TempDir)
	if err != nil {
		f.Close()
		return err
	}
	defer closeB()
	return merge.Merge(merge.Input{Name: aName, Open: archiveOpener(aFile, aName)}, b, w, opt)
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
