package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"github.com/ibt-tools/ibt/internal/oserr"
)

// outputFlag is the -o flag every tool shares.
type outputFlag struct {
	Output string `short:"o" placeholder:"FILE" help:"Write to FILE instead of standard output (FILE appears only once the output is complete)."`
}

// openInput opens name for reading, "-" (or "") being standard input.
func (c *runContext) openInput(name string) (io.ReadCloser, error) {
	var in io.ReadCloser
	if name == "-" || name == "" {
		if c.env.IsTerminal(c.env.Stdin) {
			return nil, withHint(errors.New("refusing to read binary data from a terminal"),
				"redirect the input from a file with '< FILE', name the file, or pipe the previous tool into it")
		}
		in = io.NopCloser(c.env.Stdin)
		c.startBar(inputSize(c.env.Stdin), "reading")
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("failed to open input file %q: %w", name, oserr.Cause(err))
		}
		in = f
		c.startBar(inputSize(f), "reading")
	}
	return struct {
		io.Reader
		io.Closer
	}{&meteredReader{r: in, c: c}, in}, nil
}

// output is where a tool writes its stream: standard output, or a file that
// is written under a temporary name beside its destination and renamed into
// place by commit, so that a failed run never leaves a partial file behind.
// A destination that exists and is not a regular file (/dev/null, a named
// pipe) is written in place: renaming over it would replace a device with
// a file.
type output struct {
	*bufio.Writer
	name string   // destination path, "" for stdout
	tmp  *os.File // the file being written, when name != ""
	// direct is FILE itself when it is not a regular file (/dev/null, a
	// named pipe, a tape): written in place, never replaced.
	direct *os.File
	// private makes the file readable by its owner only: indexes and
	// diffs hold the secret seed of their block signatures.
	private bool
}

// openOutput prepares the output of a tool writing binary data. Binary data
// is never written to a terminal.
func (c *runContext) openOutput(o outputFlag) (*output, error) {
	if o.Output == "" || o.Output == "-" {
		if c.env.IsTerminal(c.env.Stdout) {
			return nil, withHint(errors.New("refusing to write binary data to a terminal"),
				"redirect the output to a file with '> FILE' or '-o FILE', or pipe it to the next tool")
		}
		return &output{Writer: bufio.NewWriterSize(&meteredWriter{w: c.env.Stdout, c: c}, 256<<10)}, nil
	}
	if fi, err := os.Stat(o.Output); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		f, err := os.OpenFile(o.Output, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("failed to open output file %q: %w", o.Output, oserr.Cause(err))
		}
		return &output{Writer: bufio.NewWriterSize(&meteredWriter{w: f, c: c}, 256<<10), name: o.Output, direct: f}, nil
	}
	dir, base := filepath.Split(o.Output)
	if dir == "" {
		dir = "."
	}
	tmp, err := createTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("failed to create output file %q: %w", o.Output, oserr.Cause(err))
	}
	return &output{Writer: bufio.NewWriterSize(&meteredWriter{w: tmp, c: c}, 256<<10), name: o.Output, tmp: tmp}, nil
}

// commit flushes the output and, for a file, moves it into place: the file
// is flushed to disk before the rename and its directory after it, so that
// after a power failure FILE is absent, the previous FILE, or complete.
func (o *output) commit() error {
	if err := o.Flush(); err != nil {
		o.abort()
		return fmt.Errorf("failed to write output: %w", err)
	}
	if o.direct != nil {
		err := o.direct.Close()
		o.direct = nil
		if err != nil {
			return fmt.Errorf("failed to write output file %q: %w", o.name, oserr.Cause(err))
		}
		return nil
	}
	if o.tmp == nil {
		return nil
	}
	mode := os.FileMode(0o644)
	if o.private {
		mode = 0o600
	}
	if err := o.tmp.Chmod(mode &^ umask()); err != nil {
		o.abort()
		return fmt.Errorf("failed to write output file %q: %w", o.name, err)
	}
	if err := o.tmp.Sync(); err != nil {
		o.abort()
		return fmt.Errorf("failed to flush output file %q to disk: %w", o.name, oserr.Cause(err))
	}
	tmp := o.tmp
	o.tmp = nil
	defer forgetTemp(tmp.Name())
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("failed to write output file %q: %w", o.name, err)
	}
	if err := os.Rename(tmp.Name(), o.name); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("failed to write output file %q: %w", o.name, oserr.Cause(err))
	}
	if err := syncDir(filepath.Dir(o.name)); err != nil {
		return fmt.Errorf("failed to flush the directory of output file %q to disk: %w", o.name, oserr.Cause(err))
	}
	return nil
}

// abort discards a file output; it is a no-op for stdout or once committed.
func (o *output) abort() {
	if o.direct != nil {
		o.direct.Close()
		o.direct = nil
	}
	if o.tmp != nil {
		o.tmp.Close()
		os.Remove(o.tmp.Name())
		forgetTemp(o.tmp.Name())
		o.tmp = nil
	}
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
