package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ibt-tools/ibt/internal/progress"
)

// commonFlags are the flags every tool has.
type commonFlags struct {
	versionFlag
	completionFlag
	Progress   bool `help:"Show a progress bar on standard error even when it is not a terminal, or standard output is a pipe."`
	NoProgress bool `help:"Never show a progress bar (the default when standard error is not a terminal, or standard output is a pipe)."`
	Verbose    bool `short:"v" help:"Print a one-line summary on standard error at the end: what was done, bytes in and out, time."`
	Quiet      bool `short:"q" help:"Print no warnings: only errors."`
	JSON       bool `name:"json" help:"Print the -v summary as a JSON line (and ibt-patch --dry-run's list, ibt-merge -n's links, ibt-cat --summary's counts)."`
}

func (f *commonFlags) common() *commonFlags { return f }

// meter counts the work of a run for its progress bar and its -v summary.
type meter struct {
	start   time.Time
	bar     *progress.Bar // nil when no bar is shown
	in, out atomic.Int64  // bytes read from inputs, written to the output
	files   atomic.Int64  // files (or entries) done, for ibt-sign
	// finishing is set as a bar of known total reaches it: the tool may
	// still have work to do (ibt-patch commits and verifies), so the bar
	// stays, saying so, until finish clears it.
	finishing atomic.Bool
}

// showProgress decides whether a bar is drawn: --progress and --no-progress
// win; otherwise only when standard error is a terminal and standard output
// is not a pipe. The tools of a pipeline share one terminal line, where
// their bars overwrite each other, flicker and leave fragments; so only the
// last ibt of a pipeline draws (none when it pipes into another program),
// and its bar moves at the whole pipeline's pace.
func (c *runContext) showProgress() bool {
	switch {
	case c.flags == nil || c.flags.NoProgress:
		return false
	case c.flags.Progress:
		return true
	}
	return c.env.IsTerminal(c.env.Stderr) && !isPipe(c.env.Stdout)
}

// isPipe reports whether w is a pipe, as standard output is in the middle
// of a pipeline.
func isPipe(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&fs.ModeNamedPipe != 0
}

// startBar draws a bar of total bytes (-1: unknown, a spinner) described by desc.
func (c *runContext) startBar(total int64, desc string) {
	if !c.showProgress() || c.meter.bar != nil {
		return
	}
	// Redraw in one write, the line erased after it, where the terminal
	// takes escape codes: Windows consoles may not, nor a log file that
	// --progress writes to.
	ansi := runtime.GOOS != "windows" && c.env.IsTerminal(c.env.Stderr)
	c.meter.bar = progress.NewBar(c.env.Stderr, total, c.name+": "+desc, ansi)
}

// addBytes records n bytes of work done (read input, or hashed content).
func (c *runContext) addBytes(n int64) {
	b := c.meter.bar
	if b == nil {
		return
	}
	if b.Total() > 0 && b.Done()+n >= b.Total() && c.meter.finishing.CompareAndSwap(false, true) {
		b.Describe(c.name + ": finishing")
	}
	b.Add(n)
}

// finish clears the bar and prints the -v summary.
func (c *runContext) finish(err error) {
	if c.meter.bar != nil {
		c.meter.bar.Clear()
	}
	if err != nil || c.flags == nil || !c.flags.Verbose {
		return
	}
	elapsed := time.Since(c.meter.start)
	if c.flags.JSON {
		m := map[string]any{"tool": c.name, "seconds": elapsed.Seconds(), "read_bytes": c.meter.in.Load(), "written_bytes": c.meter.out.Load()}
		if c.summary != "" {
			m["summary"] = c.summary
		}
		for k, v := range c.stats {
			m[k] = v
		}
		json.NewEncoder(c.env.Stderr).Encode(m)
		return
	}
	s := fmt.Sprintf("%s: done in %s: read %s", c.name, elapsed.Round(time.Millisecond), progress.HumanBytes(c.meter.in.Load()))
	if n := c.meter.out.Load(); n > 0 {
		s += ", wrote " + progress.HumanBytes(n)
	}
	if c.summary != "" {
		s += ", " + c.summary
	}
	fmt.Fprintln(c.env.Stderr, s)
}

// meteredReader counts what a tool reads from its input and moves the bar.
type meteredReader struct {
	r io.Reader
	c *runContext
}

func (m *meteredReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.c.meter.in.Add(int64(n))
	m.c.addBytes(int64(n))
	return n, err
}

// meteredWriter counts what a tool writes.
type meteredWriter struct {
	w io.Writer
	c *runContext
}

func (m *meteredWriter) Write(p []byte) (int, error) {
	n, err := m.w.Write(p)
	m.c.meter.out.Add(int64(n))
	return n, err
}

// inputSize is the size of an input that is a regular file, else -1.
func inputSize(r io.Reader) int64 {
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	}
	return -1
}
