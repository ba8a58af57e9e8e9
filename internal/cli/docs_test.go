package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/ibt-tools/ibt/internal/kongdoc"
)

// TestCompletionScripts checks that every tool's completion script offers
// every flag of its model, and that the shells that are installed accept it.
func TestCompletionScripts(t *testing.T) {
	for _, tool := range Tools() {
		app, err := Model(tool)
		if err != nil {
			t.Fatal(err)
		}
		for _, shell := range kongdoc.Shells {
			var b strings.Builder
			if err := kongdoc.WriteCompletion(&b, app, shell); err != nil {
				t.Fatalf("%s %s: %v", tool, shell, err)
			}
			script := b.String()
			for _, long := range longFlags(app) {
				name := long
				if shell == "fish" {
					name = "-l " + strings.TrimPrefix(long, "--")
				}
				if !strings.Contains(script, name) {
					t.Errorf("the %s completion of %s does not offer %s", shell, tool, long)
				}
			}
			checkSyntax(t, shell, tool, script)
		}
	}
}

// longFlags lists the long names of the flags of app: "--output".
func longFlags(app *kong.Application) []string {
	var names []string
	for _, group := range app.AllFlags(true) {
		for _, f := range group {
			names = append(names, "--"+f.Name)
		}
	}
	return names
}

// checkSyntax runs the shell's own syntax check on script, where the shell
// is installed.
func checkSyntax(t *testing.T, shell, tool, script string) {
	path, err := exec.LookPath(shell)
	if err != nil {
		return
	}
	f := filepath.Join(t.TempDir(), tool+"."+shell)
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	check := "-n"
	if shell == "fish" {
		check = "--no-execute"
	}
	if out, err := exec.Command(path, check, f).CombinedOutput(); err != nil {
		t.Errorf("%s %s rejects the completion of %s: %v\n%s", shell, check, tool, err, out)
	}
}

func TestBashCompletionOfSign(t *testing.T) {
	app, err := Model("ibt-sign")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := kongdoc.WriteCompletion(&b, app, "bash"); err != nil {
		t.Fatal(err)
	}
	script := b.String()
	for _, want := range []string{
		"--output|-o|--prev|--exclude-from) COMPREPLY=($(compgen -f", // flags that take files
		"COMPREPLY=($(compgen -d -- \"$cur\"))\n}",                   // its argument is a directory
		"--no-lz4", "--skip-changed", "--exclude-vcs", "--checksum -c", "--version", "--completion",
		"complete -o filenames -F _ibt_sign ibt-sign",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("the bash completion of ibt-sign lacks %q:\n%s", want, script)
		}
	}
}

func TestManPages(t *testing.T) {
	for _, tool := range Tools() {
		var b strings.Builder
		if err := WriteMan(&b, tool); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		for _, sec := range []string{".TH " + strings.ToUpper(tool) + " 1", ".SH NAME\n", ".SH SYNOPSIS\n", ".SH DESCRIPTION\n", ".SH OPTIONS\n", ".SH EXIT STATUS\n", ".SH SEE ALSO\n"} {
			if !strings.Contains(page, sec) {
				t.Errorf("the man page of %s lacks %q", tool, sec)
			}
		}
		app, err := Model(tool)
		if err != nil {
			t.Fatal(err)
		}
		for _, long := range longFlags(app) {
			if !strings.Contains(page, `\fB`+strings.ReplaceAll(long, "-", `\-`)+`\fR`) {
				t.Errorf("the man page of %s does not document %s", tool, long)
			}
		}
		for l := range strings.SplitSeq(page, "\n") {
			if strings.HasPrefix(l, "'") || (strings.HasPrefix(l, ".") && !strings.HasPrefix(l, ".SH") && !strings.HasPrefix(l, ".TH") &&
				!strings.HasPrefix(l, ".TP") && !strings.HasPrefix(l, ".PP") && !strings.HasPrefix(l, ".B ") && !strings.HasPrefix(l, ".nf") &&
				!strings.HasPrefix(l, ".fi") && !strings.HasPrefix(l, ".RS") && !strings.HasPrefix(l, ".RE")) {
				t.Errorf("the man page of %s has a text line roff takes for a request: %q", tool, l)
			}
		}
	}
}
