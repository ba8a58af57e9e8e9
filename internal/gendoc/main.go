// Command gendoc writes the man pages and shell completion scripts of the
// ibt tools, made from the same kong models that parse their command lines,
// for the release archives:
//
//	go run ./internal/gendoc DIR
//
// writes DIR/man/ibt-X.1 and DIR/completions/ibt-X.{bash,zsh,fish}. It is
// not installed with the tools.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ibt-tools/ibt/internal/cli"
	"github.com/ibt-tools/ibt/internal/kongdoc"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./internal/gendoc DIR")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "gendoc: error: %v\n", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	for _, sub := range []string{"man", "completions"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	for _, tool := range cli.Tools() {
		var b bytes.Buffer
		if err := cli.WriteMan(&b, tool); err != nil {
			return fmt.Errorf("man page of %s: %w", tool, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "man", tool+".1"), b.Bytes(), 0o644); err != nil {
			return err
		}
		app, err := cli.Model(tool)
		if err != nil {
			return err
		}
		for _, shell := range kongdoc.Shells {
			b.Reset()
			if err := kongdoc.WriteCompletion(&b, app, shell); err != nil {
				return fmt.Errorf("%s completion of %s: %w", shell, tool, err)
			}
			if err := os.WriteFile(filepath.Join(dir, "completions", tool+"."+shell), b.Bytes(), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
