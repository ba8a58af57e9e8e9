// Package kongdoc writes the shell completion scripts and the man page of a
// command from its kong model, the one that parses its command line, so
// that they cannot drift from it.
package kongdoc

import (
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/alecthomas/kong"
)

// Shells lists the shells WriteCompletion writes a script for.
var Shells = []string{"bash", "zsh", "fish"}

// argKind is what a flag's value or an argument is, for completion.
type argKind int

const (
	argNone argKind = iota // a boolean flag
	argWord                // a value completion cannot guess: a pattern, a number
	argFile                // a file name (or '-')
	argDir                 // a directory name
	argEnum                // one of Value.Enum
)

// completionKind tells files and directories from other values by the placeholder
// the help prints: DIR is a directory, PATTERN and N are not names, and
// any other string (FILE, ARCHIVE, OLD.idx, DIFF) is a file.
func completionKind(v *kong.Value, placeholder string) argKind {
	switch {
	case v.IsBool() || v.IsCounter():
		return argNone
	case v.Enum != "":
		return argEnum
	}
	if placeholder == "" {
		placeholder = strings.ToUpper(v.Name)
	}
	switch placeholder {
	case "DIR":
		return argDir
	case "PATTERN", "N", "LEVEL", "SHELL":
		return argWord
	}
	if v.Target.Kind() == reflect.String || v.IsSlice() {
		return argFile
	}
	return argWord
}

// flagInfo is a flag as the generators see it.
type flagInfo struct {
	long, short, negated string // "--output", "-o", "--no-lz4"
	placeholder          string
	help                 string
	kind                 argKind
	enum                 []string
	repeat               bool
}

func flagsOf(app *kong.Application) []flagInfo {
	var out []flagInfo
	for _, group := range app.AllFlags(true) {
		for _, f := range group {
			fi := flagInfo{long: "--" + f.Name, placeholder: f.FormatPlaceHolder(), help: f.Help, repeat: f.IsSlice()}
			if f.Short != 0 {
				fi.short = "-" + string(f.Short)
			}
			switch f.Tag.Negatable {
			case "":
			case "_":
				fi.negated = "--no-" + f.Name
			default:
				fi.negated = "--" + f.Tag.Negatable
			}
			fi.kind = completionKind(f.Value, f.PlaceHolder)
			if fi.kind == argNone {
				fi.placeholder = ""
			}
			if f.Name == "completion" {
				fi.kind, fi.enum = argEnum, Shells
			}
			if f.Enum != "" {
				for e := range strings.SplitSeq(f.Enum, ",") {
					fi.enum = append(fi.enum, strings.TrimSpace(e))
				}
			}
			out = append(out, fi)
		}
	}
	return out
}

// positionalKind is what the tool's arguments complete to: directories
// when its first argument is one, else files.
func positionalKind(app *kong.Application) argKind {
	for _, p := range app.Positional {
		return completionKind(p, p.Tag.PlaceHolder)
	}
	return argNone
}

// WriteCompletion writes the completion script of the tool app for shell.
func WriteCompletion(w io.Writer, app *kong.Application, shell string) error {
	var s string
	switch shell {
	case "bash":
		s = bashCompletion(app)
	case "zsh":
		s = zshCompletion(app)
	case "fish":
		s = fishCompletion(app)
	default:
		return fmt.Errorf("--completion: no script for shell %q (%s are known)", shell, strings.Join(Shells, ", "))
	}
	_, err := io.WriteString(w, s)
	return err
}

func bashCompletion(app *kong.Application) string {
	fn := "_" + strings.ReplaceAll(app.Name, "-", "_")
	var words []string
	cases := map[argKind][]string{}
	var enums []string
	for _, f := range flagsOf(app) {
		names := []string{f.long}
		words = append(words, f.long)
		if f.negated != "" {
			words = append(words, f.negated)
		}
		if f.short != "" {
			words = append(words, f.short)
			names = append(names, f.short)
		}
		if f.kind == argEnum {
			enums = append(enums, fmt.Sprintf("\t%s) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n", strings.Join(names, "|"), strings.Join(f.enum, " ")))
		} else if f.kind != argNone {
			cases[f.kind] = append(cases[f.kind], names...)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# bash completion for %s; made by '%s --completion bash'\n", app.Name, app.Name)
	fmt.Fprintf(&b, "%s() {\n", fn)
	b.WriteString("\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n")
	b.WriteString("\t# --flag=value arrives as three words: --flag, = and value\n")
	b.WriteString("\tif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi\n")
	b.WriteString("\tif [[ $cur == = ]]; then cur=; fi\n")
	b.WriteString("\tcase $prev in\n")
	if n := cases[argFile]; len(n) > 0 {
		fmt.Fprintf(&b, "\t%s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", strings.Join(n, "|"))
	}
	if n := cases[argDir]; len(n) > 0 {
		fmt.Fprintf(&b, "\t%s) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n", strings.Join(n, "|"))
	}
	for _, e := range enums {
		b.WriteString(e)
	}
	if n := cases[argWord]; len(n) > 0 {
		fmt.Fprintf(&b, "\t%s) COMPREPLY=(); return ;;\n", strings.Join(n, "|"))
	}
	b.WriteString("\tesac\n")
	fmt.Fprintf(&b, "\tif [[ $cur == -* ]]; then\n\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\"))\n\t\treturn\n\tfi\n", strings.Join(words, " "))
	switch positionalKind(app) {
	case argDir:
		b.WriteString("\tCOMPREPLY=($(compgen -d -- \"$cur\"))\n")
	case argFile:
		b.WriteString("\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n")
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "complete -o filenames -F %s %s\n", fn, app.Name)
	return b.String()
}

// firstSentence is a flag's help cut for a completion menu.
func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(strings.Join(strings.Fields(s), " "), ".")
}

func zshCompletion(app *kong.Application) string {
	esc := strings.NewReplacer(`\`, `\\`, `'`, `'\''`, `[`, `\[`, `]`, `\]`, `:`, `\:`)
	action := func(k argKind, enum []string) string {
		switch k {
		case argFile:
			return "_files"
		case argDir:
			return "_files -/"
		case argEnum:
			return "(" + strings.Join(enum, " ") + ")"
		}
		return " "
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#compdef %s\n# zsh completion for %s; made by '%s --completion zsh'\n", app.Name, app.Name, app.Name)
	b.WriteString("_arguments -s -S \\\n")
	for _, f := range flagsOf(app) {
		desc := "[" + esc.Replace(firstSentence(f.help)) + "]"
		val := ""
		eq := ""
		if f.kind != argNone {
			eq = "="
			val = ":" + esc.Replace(f.placeholder) + ":" + action(f.kind, f.enum)
		}
		rep := ""
		if f.repeat {
			rep = "*"
		}
		switch {
		case f.short != "":
			fmt.Fprintf(&b, "  '(%s %s)'%s{%s,%s%s}'%s%s' \\\n", f.short, f.long, rep, f.short, f.long, eq, desc, val)
		default:
			fmt.Fprintf(&b, "  '%s%s%s%s%s' \\\n", rep, f.long, eq, desc, val)
		}
		if f.negated != "" {
			fmt.Fprintf(&b, "  '%s[%s]' \\\n", f.negated, esc.Replace("Not "+f.long))
		}
	}
	for i, p := range app.Positional {
		opt := ""
		if !p.Required {
			opt = ":"
		}
		name := p.Tag.PlaceHolder
		if name == "" {
			name = p.Name
		}
		fmt.Fprintf(&b, "  '%d:%s%s:%s' \\\n", i+1, opt, esc.Replace(strings.ToLower(name)), action(completionKind(p, p.Tag.PlaceHolder), nil))
	}
	s := strings.TrimSuffix(b.String(), " \\\n") + "\n"
	return s
}

func fishCompletion(app *kong.Application) string {
	q := func(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'" }
	var b strings.Builder
	fmt.Fprintf(&b, "# fish completion for %s; made by '%s --completion fish'\n", app.Name, app.Name)
	c := "complete -c " + app.Name
	switch positionalKind(app) {
	case argDir:
		fmt.Fprintf(&b, "%s -f -a '(__fish_complete_directories)'\n", c)
	case argNone:
		fmt.Fprintf(&b, "%s -f\n", c)
	}
	for _, f := range flagsOf(app) {
		line := c
		if f.short != "" {
			line += " -s " + strings.TrimPrefix(f.short, "-")
		}
		line += " -l " + strings.TrimPrefix(f.long, "--")
		switch f.kind {
		case argFile:
			line += " -r -F"
		case argDir:
			line += " -x -a '(__fish_complete_directories)'"
		case argEnum:
			line += " -x -a " + q(strings.Join(f.enum, " "))
		case argWord:
			line += " -x"
		}
		line += " -d " + q(firstSentence(f.help))
		b.WriteString(line + "\n")
		if f.negated != "" {
			fmt.Fprintf(&b, "%s -l %s -d %s\n", c, strings.TrimPrefix(f.negated, "--"), q("Not "+f.long))
		}
	}
	return b.String()
}

// Page is what a man page says besides the model: the command's name and
// the line that describes it, the software and version it belongs to and
// the manual's title for its header ("ibt 1.2", "ibt manual"), and the
// other commands it refers to.
type Page struct {
	Name, Summary  string
	Source, Manual string
	SeeAlso        []string
}

// WriteMan writes the man page (roff, section 1) of the command app. Its
// help is the description, up to an "Example:" line and the examples.
func WriteMan(w io.Writer, app *kong.Application, pg Page) error {
	name := pg.Name
	roff := strings.NewReplacer(`\`, `\e`, `-`, `\-`)
	line := func(s string) string { // a text line: no leading dot or quote
		s = roff.Replace(s)
		if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
			s = `\&` + s
		}
		return s
	}
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %s 1 \"\" \"%s\" \"%s\"\n", strings.ToUpper(name), roff.Replace(pg.Source), roff.Replace(pg.Manual))
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", roff.Replace(name), line(pg.Summary))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.B %s\n[\\fIOPTIONS\\fR]", roff.Replace(name))
	for _, p := range app.Positional {
		n := p.Tag.PlaceHolder
		if n == "" {
			n = strings.ToUpper(p.Name)
		}
		if p.Required {
			fmt.Fprintf(&b, " \\fI%s\\fR", roff.Replace(n))
		} else {
			fmt.Fprintf(&b, " [\\fI%s\\fR]", roff.Replace(n))
		}
	}
	b.WriteString("\n.SH DESCRIPTION\n")
	desc, example, _ := strings.Cut(app.Help, "\nExample:\n")
	for i, para := range strings.Split(strings.TrimSpace(desc), "\n\n") {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		b.WriteString(line(strings.Join(strings.Fields(para), " ")) + "\n")
	}
	if len(app.Positional) > 0 {
		b.WriteString(".SH ARGUMENTS\n")
		for _, p := range app.Positional {
			n := p.Tag.PlaceHolder
			if n == "" {
				n = strings.ToUpper(p.Name)
			}
			fmt.Fprintf(&b, ".TP\n\\fI%s\\fR\n%s\n", roff.Replace(n), line(p.Help))
		}
	}
	b.WriteString(".SH OPTIONS\n")
	for _, f := range flagsOf(app) {
		var names []string
		if f.short != "" {
			names = append(names, `\fB`+roff.Replace(f.short)+`\fR`)
		}
		long := `\fB` + roff.Replace(f.long) + `\fR`
		if f.placeholder != "" {
			long += `=\fI` + roff.Replace(f.placeholder) + `\fR`
		}
		names = append(names, long)
		if f.negated != "" {
			names = append(names, `\fB`+roff.Replace(f.negated)+`\fR`)
		}
		fmt.Fprintf(&b, ".TP\n%s\n%s\n", strings.Join(names, ", "), line(f.help))
	}
	if example = strings.TrimSpace(example); example != "" {
		b.WriteString(".SH EXAMPLES\n.nf\n.RS\n")
		for l := range strings.SplitSeq(example, "\n") {
			b.WriteString(line(strings.TrimSpace(l)) + "\n")
		}
		b.WriteString(".RE\n.fi\n")
	}
	b.WriteString(".SH EXIT STATUS\n.TP\n0\nsuccess\n.TP\n1\nthe work failed: bad input, an I/O error, a verification failure\n.TP\n2\na usage error: an unknown flag, a missing argument\n")
	var others []string
	for _, t := range pg.SeeAlso {
		others = append(others, `\fB`+roff.Replace(t)+`\fR(1)`)
	}
	fmt.Fprintf(&b, ".SH SEE ALSO\n%s\n", strings.Join(others, ", "))
	_, err := io.WriteString(w, b.String())
	return err
}
