package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestTerminalInputRefused: a tool that would read binary data from a
// terminal says so and how to give it, instead of waiting silently.
func TestTerminalInputRefused(t *testing.T) {
	stdin := &bytes.Buffer{}
	for _, args := range [][]string{
		{"ibt-patch", t.TempDir()},
		{"ibt-pack"},
		{"ibt-cat"},
		{"ibt-delta"},
		{"ibt-diff", "--full", "-"},
	} {
		var out, errb bytes.Buffer
		env := Env{Stdin: stdin, Stdout: &out, Stderr: &errb, IsTerminal: func(f any) bool { return f == stdin }}
		code := Main(args[0], args[1:], env)
		if code != ExitError {
			t.Errorf("%v: exit %d, want %d", args, code, ExitError)
		}
		want := args[0] + ": error: refusing to read binary data from a terminal\n" + args[0] + ": hint: redirect the input"
		if !strings.HasPrefix(errb.String(), want) {
			t.Errorf("%v: stderr %q, want it to begin %q", args, errb.String(), want)
		}
	}
}

func TestQuietSilencesWarnings(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		var errb bytes.Buffer
		c := &runContext{name: "ibt-patch", env: Env{Stderr: &errb}, flags: &commonFlags{Quiet: quiet}}
		c.warnf("owners are not restored")
		if got := errb.String(); (got == "") != quiet {
			t.Errorf("-q=%v: stderr %q", quiet, got)
		}
	}
}
