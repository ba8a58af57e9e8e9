package cli

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"
)

// notRun are the README's example lines no readme_*.txtar script runs,
// each with the reason.
var notRun = map[string]string{
	"./scripts/demo.sh":                    "builds the tools and runs the pipeline itself; not a use of the tools",
	"go test ./...":                        "what .ci/run runs",
	"CGO_ENABLED=0 go install ./cmd/...":   "installs into GOPATH; .ci/run builds the same packages for every target, static",
	"source <(ibt-sign --completion bash)": "changes the shell; TestCompletionScripts checks the scripts",
	"ibt-sign --completion fish > ~/.config/fish/completions/ibt-sign.fish": "writes into HOME; TestCompletionScripts checks the scripts",
	"ibt-sign --completion zsh > ~/.zfunc/_ibt-sign":                        "writes into HOME; TestCompletionScripts checks the scripts",
	"bench/compare.sh --quick":                                              "needs rdiff, rsync, xdelta3 and zstd; run on demand",
	"bench/durable.sh":                                                      "needs rdiff and a minute of disk time; run on demand",
	"go test -fuzz FuzzSignDeltaPatch ./internal/rsync":                     "runs until stopped; the seed corpora run under go test",
}

// TestReadmeExamplesRun keeps the README's examples from rotting: every
// line of every code block in README.md must appear, as written, in a
// testdata/scripts/readme_*.txtar script (as a command or in a file the
// script runs, not in a comment), or be listed in notRun.
func TestReadmeExamplesRun(t *testing.T) {
	lines, err := readmeExampleLines("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := filepath.Glob("../../testdata/scripts/readme_*.txtar")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no readme_*.txtar scripts: %v", err)
	}
	var run strings.Builder
	for _, name := range scripts {
		a, err := txtar.ParseFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.SplitSeq(string(a.Comment), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") {
				run.WriteString(l + "\n")
			}
		}
		for _, f := range a.Files {
			run.Write(f.Data)
		}
	}
	for _, l := range lines {
		if _, ok := notRun[l.text]; !ok && !strings.Contains(run.String(), l.text) {
			t.Errorf("README.md:%d: %q is run by no testdata/scripts/readme_*.txtar: add it to one, as written", l.n, l.text)
		}
	}
	for text := range notRun {
		if !containsLine(lines, text) {
			t.Errorf("notRun lists %q, which README.md no longer holds", text)
		}
	}
}

type readmeLine struct {
	n    int
	text string
}

func containsLine(lines []readmeLine, text string) bool {
	for _, l := range lines {
		if l.text == text {
			return true
		}
	}
	return false
}

// trailingComment is a shell or make comment after a command.
var trailingComment = regexp.MustCompile(`\s+#\s.*$`)

// readmeExampleLines returns the lines of the fenced and indented code
// blocks of a Markdown file, trimmed, without trailing comments, and
// without the "..." lines that stand for time passing.
func readmeExampleLines(name string) ([]readmeLine, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		lines      []readmeLine
		fenced     bool
		prevBlank  = true
		inIndented bool
		sc         = bufio.NewScanner(f)
		n          int
	)
	for sc.Scan() {
		n++
		raw := sc.Text()
		switch {
		case strings.HasPrefix(raw, "```"):
			fenced = !fenced
			prevBlank = false
			continue
		case !fenced && strings.HasPrefix(raw, "    ") && (prevBlank || inIndented):
			inIndented = true
		case !fenced:
			inIndented = false
			prevBlank = strings.TrimSpace(raw) == ""
			continue
		}
		text := strings.TrimSpace(trailingComment.ReplaceAllString(raw, ""))
		if text == "" || strings.HasPrefix(text, "...") {
			continue
		}
		lines = append(lines, readmeLine{n, text})
	}
	return lines, sc.Err()
}

// ciJob is the testscript command "cijob FILE JOB": it prints the script
// items of JOB in the CI file FILE, one shell line each, as a GitLab-style
// runner runs them. It reads the small part of YAML such a recipe uses (a
// block sequence of plain scalars, folded across lines) and fails on the
// rest, so a recipe it cannot read is not silently misread.
func ciJob(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cijob FILE JOB")
	}
	items, err := jobScript(ts.ReadFile(args[0]), args[1])
	if err != nil {
		ts.Fatalf("cijob: %s: %v", args[0], err)
	}
	for _, it := range items {
		ts.Stdout().Write([]byte(it + "\n"))
	}
}

// jobScript returns the items of JOB's script: sequence.
func jobScript(yaml, job string) ([]string, error) {
	var (
		items    []string
		state    int // 0: looking for JOB, 1: for script:, 2: in the sequence
		dash     int // indent of the sequence's "- "
		jobInd   int
		scriptRe = regexp.MustCompile(`^(\s*)script:\s*$`)
	)
	for l := range strings.SplitSeq(yaml, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ind := len(l) - len(strings.TrimLeft(l, " "))
		body := l[ind:]
		switch state {
		case 0:
			if body == job+":" {
				state, jobInd = 1, ind
			}
		case 1:
			if ind <= jobInd {
				return nil, errNoScript(job)
			}
			if scriptRe.MatchString(l) {
				state, dash = 2, -1
			}
		case 2:
			switch {
			case strings.HasPrefix(body, "- ") && (dash < 0 || ind == dash):
				dash = ind
				item := strings.TrimSpace(body[2:])
				if err := plainScalar(item); err != nil {
					return nil, err
				}
				items = append(items, item)
			case dash >= 0 && ind > dash:
				if strings.HasPrefix(body, "#") || strings.Contains(body, ": ") || strings.Contains(body, " #") {
					return nil, errUnreadable(body)
				}
				items[len(items)-1] += " " + strings.TrimSpace(body)
			default:
				return items, nil
			}
		}
	}
	if state < 2 {
		return nil, errNoScript(job)
	}
	return items, nil
}

// plainScalar checks that item is a plain YAML scalar that means what it
// says: not quoted, not a block scalar, no key and no comment in it.
func plainScalar(item string) error {
	if item == "" || strings.ContainsAny(item[:1], `'"|>&*!%@{[`+"`") ||
		strings.Contains(item, ": ") || strings.Contains(item, " #") || strings.HasSuffix(item, ":") {
		return errUnreadable(item)
	}
	return nil
}

func errNoScript(job string) error {
	return fmt.Errorf("no job %q with a script: sequence", job)
}

func errUnreadable(s string) error {
	return fmt.Errorf("cannot read %q: only plain scalars are understood here", s)
}

func TestJobScript(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // nil: an error
	}{
		{"items", "a:\n  script:\n    - x\n    - y z\nb:\n  script:\n    - w\n", []string{"x", "y z"}},
		{"folded", "a:\n  script:\n    - x\n        | y\n    - z\n", []string{"x | y", "z"}},
		{"other keys", "a:\n  image: i\n  script:\n    - x\n  after: 1\n", []string{"x"}},
		{"no job", "b:\n  script:\n    - x\n", nil},
		{"no script", "a:\n  image: i\nb:\n  script:\n    - x\n", nil},
		{"quoted", "a:\n  script:\n    - 'x'\n", nil},
		{"block scalar", "a:\n  script:\n    - |\n      x\n", nil},
		{"a key, not a line", "a:\n  script:\n    - echo: x\n", nil},
		{"a comment", "a:\n  script:\n    - x # y\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jobScript(tt.yaml, "a")
			if tt.want == nil {
				if err == nil {
					t.Fatalf("jobScript() = %q, want an error", got)
				}
				return
			}
			if err != nil || strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("jobScript() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
