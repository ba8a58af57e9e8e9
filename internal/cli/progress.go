package cli

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// commonFlags are the flags every tool has.
type commonFlags struct {
	versionFlag
	Progress   bool `help:"Show a progress bar on standard error even when it is not a terminal."`
	NoProgress bool `help:"Never show a progress bar (the default when standard error is not a terminal)."`
	Verbose    bool `short:"v" help:"Print a one-line summary on standard error at the end: what was done, bytes in and out, time."`
}

func (f *commonFlags) common() *commonFlags { return f }

// meter counts the work of a run for its progress bar and its -v summary.
type meter struct {
	start   time.Time
	bar     *progressbar.ProgressBar // nil when no bar is shown
	in, out atomic.Int64             // bytes read from inputs, written to the output
	files   atomic.Int64             // files (or entries) done, for ibt-sign
}

// showProgress decides whether a bar is drawn: --progress and --no-progress
// win, otherwise only when standard error is a terminal.
func (c *runContext) showProgress() bool {
	switch {
	case c.flags == nil || c.flags.NoProgress:
		return false
	case c.flags.Progress:
		return true
	}
	return c.env.IsTerminal(c.env.Stderr)
}

// startBar draws a bar of total bytes (-1: unknown, a spinner) described by desc.
func (c *runContext) startBar(total int64, desc string) {
	if !c.showProgress() || c.meter.bar != nil {
		return
	}
	c.meter.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(c.env.Stderr),
		progressbar.OptionSetDescription(c.name+": "+desc),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetRenderBlankState(true),
	)
}

// addBytes records n bytes of work done (read input, or hashed content).
func (c *runContext) addBytes(n int64) {
	if c.meter.bar != nil {
		c.meter.bar.Add64(n)
	}
}

// finish clears the bar and prints the -v summary.
func (c *runContext) finish(err error) {
	if c.meter.bar != nil {
		c.meter.bar.Finish()
		c.meter.bar.Clear()
	}
	if err != nil || c.flags == nil || !c.flags.Verbose {
		return
	}
	s := fmt.Sprintf("%s: done in %s: read %s", c.name, time.Since(c.meter.start).Round(time.Millisecond), humanBytes(c.meter.in.Load()))
	if n := c.meter.out.Load(); n > 0 {
		s += ", wrote " + humanBytes(n)
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

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
