package cli

import (
	"fmt"
	"io"

	"github.com/alecthomas/kong"

	"github.com/ibt-tools/ibt/internal/kongdoc"
)

// The completion scripts and man pages are made by internal/kongdoc from
// each tool's kong model, the one that parses its command line, so they
// cannot drift from it.

// completionFlag is the --completion flag every tool has.
type completionFlag struct {
	Completion completionShell `placeholder:"SHELL" help:"Print a completion script for SHELL (bash, zsh or fish) and exit."`
}

// completionShell is the value of --completion: like --help, it prints and
// exits before the arguments are checked.
type completionShell string

// BeforeReset is kong's hook, run on a flag given on the command line once
// the command line is traced.
func (completionShell) BeforeReset(app *kong.Kong, ctx *kong.Context, trace *kong.Path) error {
	shell := fmt.Sprint(ctx.FlagValue(trace.Flag))
	if err := kongdoc.WriteCompletion(app.Stdout, app.Model, shell); err != nil {
		return err
	}
	app.Exit(ExitOK)
	return nil
}

// Model is the kong model of the tool called name.
func Model(name string) (*kong.Application, error) {
	t, ok := tools[name]
	if !ok {
		return nil, fmt.Errorf("unknown tool %q", name)
	}
	p, err := newParser(name, t.cmd(), Env{Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		return nil, err
	}
	return p.Model, nil
}

// WriteMan writes the man page (roff, section 1) of the tool called name.
func WriteMan(w io.Writer, name string) error {
	app, err := Model(name)
	if err != nil {
		return err
	}
	pg := kongdoc.Page{Name: name, Summary: tools[name].summary, Source: "ibt " + Version, Manual: "ibt manual"}
	for _, t := range Tools() {
		if t != name {
			pg.SeeAlso = append(pg.SeeAlso, t)
		}
	}
	return kongdoc.WriteMan(w, app, pg)
}
