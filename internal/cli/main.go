// Package cli holds the ibt commands: one file a command, each parsing its
// flags with kong and doing its work on the readers and writers of an Env,
// so that tests and the tiny mains in cmd/ run exactly the same code.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/ibt-tools/ibt/internal/hint"
	"github.com/ibt-tools/ibt/internal/oserr"
	"github.com/ibt-tools/ibt/internal/patch"
)

// Exit codes shared by every tool.
const (
	ExitOK    = 0
	ExitError = 1 // the work failed: bad input, I/O error, verification failure
	ExitUsage = 2 // the command line was wrong
	ExitBusy  = 3 // ibt-patch: another ibt-patch holds DIR's lock; try again later
)

// Env is what a command may touch of the process: its standard streams, the
// environment, and whether a stream is a terminal.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// IsTerminal reports whether w is an interactive terminal.
	IsTerminal func(w any) bool
}

// OSEnv is the Env of the running process.
func OSEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, IsTerminal: isTerminal}
}

// command is implemented by every tool's flag struct.
type command interface {
	run(*runContext) error
}

// runContext carries what a command's run needs besides its flags.
type runContext struct {
	name    string
	env     Env
	flags   *commonFlags
	meter   meter
	summary string         // what the tool did, for the -v line
	stats   map[string]any // the same as numbers, for -v --json, where the tool gives them
}

// warnf prints a warning on stderr, unless -q.
func (c *runContext) warnf(format string, args ...any) {
	if c.flags != nil && c.flags.Quiet {
		return
	}
	fmt.Fprintf(c.env.Stderr, "%s: warning: %s\n", c.name, fmt.Sprintf(format, args...))
}

// tool is one of the tools Main runs: a constructor of its flag struct,
// its description, and the line that names it in its man page.
type tool struct {
	name    string
	cmd     func() command
	help    string
	summary string
}

// toolList is every tool, in the order the documentation lists them.
var toolList = []tool{
	{"ibt-sign", func() command { return &signCmd{} }, signHelp, "index a directory tree for an incremental backup"},
	{"ibt-diff", func() command { return &diffCmd{} }, diffHelp, "compare two indexes of a tree"},
	{"ibt-delta", func() command { return &deltaCmd{} }, deltaHelp, "make the rsync deltas of a diff"},
	{"ibt-pack", func() command { return &packCmd{} }, packHelp, "pack a delta into a backup archive"},
	{"ibt-patch", func() command { return &patchCmd{} }, patchHelp, "apply a backup archive to a directory, verified"},
	{"ibt-cat", func() command { return &catCmd{} }, catHelp, "print an ibt stream or archive as JSON lines"},
	{"ibt-merge", func() command { return &mergeCmd{} }, mergeHelp, "fold consecutive backup archives into one"},
}

// tools finds a tool by name.
var tools = func() map[string]tool {
	m := map[string]tool{}
	for _, t := range toolList {
		m[t.name] = t
	}
	return m
}()

// Tools lists the names of the tools Main runs.
func Tools() []string {
	names := make([]string, len(toolList))
	for i, t := range toolList {
		names[i] = t.name
	}
	return names
}

// exitRequest is how kong's Exit (after --help or --version) unwinds to Main.
type exitRequest int

// newParser is the kong model of the tool called name, whose flags are cmd:
// what parses its command line, and what its completion scripts and man
// page are made from.
func newParser(name string, cmd command, env Env) (*kong.Kong, error) {
	return kong.New(cmd,
		kong.Name(name),
		kong.Description(tools[name].help),
		kong.Writers(env.Stdout, env.Stderr),
		kong.Exit(func(c int) { panic(exitRequest(c)) }),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
		kong.Vars{"version": versionText(name, debug.ReadBuildInfo)},
	)
}

// Main runs the tool called name with args and returns its exit code.
func Main(name string, args []string, env Env) (code int) {
	t, ok := tools[name]
	if !ok {
		fmt.Fprintf(env.Stderr, "ibt: error: unknown tool %q\n", name)
		return ExitUsage
	}
	if env.IsTerminal == nil {
		env.IsTerminal = func(any) bool { return false }
	}
	cmd := t.cmd()
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			code = int(e)
		}
	}()
	parser, err := newParser(name, cmd, env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: error: %v\n", name, err)
		return ExitError
	}
	if _, err := parser.Parse(args); err != nil {
		fmt.Fprintf(env.Stderr, "%s: error: %v\n", name, err)
		fmt.Fprintf(env.Stderr, "%s: hint: run '%s --help' for usage\n", name, name)
		return ExitUsage
	}
	rc := &runContext{name: name, env: env, meter: meter{start: time.Now()}}
	if f, ok := cmd.(interface{ common() *commonFlags }); ok {
		rc.flags = f.common()
	}
	err = cmd.run(rc)
	rc.finish(err)
	if err != nil {
		printError(env.Stderr, name, err)
		var u usageError
		if errors.As(err, &u) {
			return ExitUsage
		}
		if errors.Is(err, patch.ErrLocked) {
			return ExitBusy
		}
		return ExitError
	}
	return ExitOK
}

// printError prints err in the tools' shape: "NAME: error: what: why", then
// any hints carried by the error chain.
func printError(w io.Writer, name string, err error) {
	fmt.Fprintf(w, "%s: error: %s\n", name, strings.TrimSpace(oserr.Text(err)))
	for _, h := range hints(err) {
		fmt.Fprintf(w, "%s: hint: %s\n", name, h)
	}
}

// withHint returns err carrying hint, printed after the error.
func withHint(err error, h string) error { return hint.With(err, h) }

// hints collects the fixes known along err's chain: any error in it with a
// Hint method, ours or another package's.
func hints(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		for err != nil {
			if h, ok := err.(interface{ Hint() string }); ok && h.Hint() != "" {
				out = append(out, h.Hint())
			}
			if m, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range m.Unwrap() {
					walk(e)
				}
				return
			}
			err = errors.Unwrap(err)
		}
	}
	walk(err)
	return out
}

// usageError is a command line that parsed but makes no sense (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// quotePath prints a path for people: as is when it is plain, quoted
// (losslessly, with Go escapes) when it holds spaces, control characters or
// bytes that are not UTF-8.
func quotePath(p string) string {
	if p == "" || strings.ContainsAny(p, " \t\"'\\") || strconv.Quote(p) != `"`+p+`"` {
		return strconv.Quote(p)
	}
	return p
}

// versionFlag is the --version flag every tool shares.
type versionFlag struct {
	Version kong.VersionFlag `help:"Print the version (with the stream format's) and exit."`
}
