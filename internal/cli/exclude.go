package cli

import (
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/ibt-tools/ibt/internal/index"
	"github.com/ibt-tools/ibt/internal/oserr"
)

// vcsPatterns are the version-control directories --exclude-vcs leaves out.
var vcsPatterns = []string{".git", ".hg", ".svn"}

// excludeFlags choose what ibt-sign leaves out of an index.
type excludeFlags struct {
	Exclude     []string `placeholder:"PATTERN" sep:"none" help:"Leave out paths matching PATTERN, in .gitignore syntax ('*.tmp', 'build/', '/top-only', '!keep.tmp'); repeatable."`
	ExcludeFrom []string `placeholder:"FILE" sep:"none" help:"Read exclusion patterns from FILE ('-' for standard input), one a line, as in a .gitignore; repeatable."`
	ExcludeVCS  bool     `name:"exclude-vcs" help:"Leave out .git, .hg and .svn."`
}

// excludesStdin reports whether the patterns are read from standard input.
func (f *excludeFlags) excludesStdin() bool {
	return slices.Contains(f.ExcludeFrom, "-")
}

// patterns returns the exclusion patterns in the order they apply:
// --exclude-vcs first, then each --exclude-from file, then each --exclude,
// so a later pattern overrides an earlier one, and all of them override the
// tree's .ibtignore files. --exclude-from - reads stdin. Blank lines and
// comments are left out: this is what the index's header records.
func (f *excludeFlags) patterns(stdin io.Reader) ([]string, error) {
	var patterns []string
	if f.ExcludeVCS {
		patterns = append(patterns, vcsPatterns...)
	}
	if n := countOf(f.ExcludeFrom, "-"); n > 1 {
		return nil, usagef("--exclude-from - reads standard input, which can be read once; got it %d times", n)
	}
	for _, name := range f.ExcludeFrom {
		lines, err := readPatternFile(name, stdin)
		if err != nil {
			return nil, fmt.Errorf("failed to read exclusion patterns from %s: %w", quoteInput(name), err)
		}
		patterns = append(patterns, lines...)
	}
	for _, p := range f.Exclude {
		if p == "" {
			return nil, usagef("--exclude takes a pattern; got an empty one")
		}
		patterns = append(patterns, p)
	}
	return patterns, nil
}

// readPatternFile reads the patterns of the pattern file name, "-" being
// stdin.
func readPatternFile(name string, stdin io.Reader) ([]string, error) {
	if name == "-" {
		return index.ReadPatterns(stdin)
	}
	file, err := os.Open(name)
	if err != nil {
		return nil, oserr.Cause(err)
	}
	defer file.Close()
	return index.ReadPatterns(file)
}

// quoteInput names an input in a message: quoted, or "standard input".
func quoteInput(name string) string {
	if name == "-" {
		return "standard input"
	}
	return fmt.Sprintf("%q", name)
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}
