package kongdoc

import (
	"io"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

type toyCmd struct {
	Dir     string   `arg:"" placeholder:"DIR" help:"The directory."`
	Output  string   `short:"o" placeholder:"FILE" help:"Write to FILE."`
	Exclude []string `placeholder:"PATTERN" help:"Leave out PATTERN."`
	Level   string   `enum:"fast,best" default:"fast" help:"How hard to try."`
	LZ4     bool     `name:"lz4" negatable:"" default:"true" help:"Frame in lz4."`
}

func toyModel(t *testing.T) *kong.Application {
	t.Helper()
	var cmd toyCmd
	p, err := kong.New(&cmd, kong.Name("toy-tool"), kong.Description("Do toy things.\n\n.A line with a dot.\n\nExample:\n  toy-tool -o x dir"),
		kong.Writers(io.Discard, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	return p.Model
}

func TestCompletionKinds(t *testing.T) {
	app := toyModel(t)
	kinds := map[string]argKind{}
	for _, f := range flagsOf(app) {
		kinds[f.long] = f.kind
	}
	want := map[string]argKind{"--output": argFile, "--exclude": argWord, "--level": argEnum, "--lz4": argNone}
	for flag, k := range want {
		if kinds[flag] != k {
			t.Errorf("%s completes as %d, want %d", flag, kinds[flag], k)
		}
	}
	if k := positionalKind(app); k != argDir {
		t.Errorf("the argument completes as %d, want a directory", k)
	}
}

func TestWriteCompletion(t *testing.T) {
	app := toyModel(t)
	for _, shell := range Shells {
		var b strings.Builder
		if err := WriteCompletion(&b, app, shell); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"output", "exclude", "no-lz4", "toy-tool"} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("the %s script lacks %q:\n%s", shell, want, b.String())
			}
		}
	}
	if err := WriteCompletion(io.Discard, app, "csh"); err == nil {
		t.Error("a script for csh")
	}
}

func TestWriteMan(t *testing.T) {
	var b strings.Builder
	pg := Page{Name: "toy-tool", Summary: "do toy things", Source: "toy 1.0", Manual: "toy manual", SeeAlso: []string{"other-tool"}}
	if err := WriteMan(&b, toyModel(t), pg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		".TH TOY-TOOL 1 \"\" \"toy 1.0\" \"toy manual\"\n",
		".SH NAME\ntoy\\-tool \\- do toy things\n",
		"\\&.A line with a dot.\n", // not a roff request
		"\\fB\\-o\\fR, \\fB\\-\\-output\\fR=\\fIFILE\\fR\n",
		".SH EXAMPLES\n.nf\n.RS\ntoy\\-tool \\-o x dir\n",
		".SH SEE ALSO\n\\fBother\\-tool\\fR(1)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the man page lacks %q:\n%s", want, b.String())
		}
	}
}
