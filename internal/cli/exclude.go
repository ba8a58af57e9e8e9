package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
)

// ignoreFileName is the name of the ignore files ibt-sign reads in every
// directory of the tree, .gitignore's counterpart.
const ignoreFileName = format.IgnoreFile

// vcsPatterns are the version-control directories --exclude-vcs leaves out.
var vcsPatterns = []string{".git", ".hg", ".svn"}

// excludeFlags choose what ibt-sign leaves out of an index.
type excludeFlags struct {
	Exclude     []string `placeholder:"PATTERN" sep:"none" help:"Leave out paths matching PATTERN, in .gitignore syntax ('*.tmp', 'build/', '/top-only', '!keep.tmp'); repeatable."`
	ExcludeFrom []string `placeholder:"FILE" sep:"none" help:"Read exclusion patterns from FILE, one a line, as in a .gitignore; repeatable."`
	ExcludeVCS  bool     `name:"exclude-vcs" help:"Leave out .git, .hg and .svn."`
}

// excluder builds the Excluder for the tree at root: --exclude-vcs first,
// then each --exclude-from file, then each --exclude, so a later pattern
// overrides an earlier one, and all of them override the tree's .ibtignore
// files.
func (f *excludeFlags) excluder(root *os.Root) (*tree.Excluder, []string, error) {
	patterns, err := f.patterns()
	if err != nil {
		return nil, nil, err
	}
	return tree.NewExcluder(root, patterns, ignoreFileName), patterns, nil
}

// patterns returns the exclusion patterns in the order excluder applies
// them, without blank lines and comments: what the index's header records.
func (f *excludeFlags) patterns() ([]string, error) {
	var patterns []string
	if f.ExcludeVCS {
		patterns = append(patterns, vcsPatterns...)
	}
	for _, name := range f.ExcludeFrom {
		file, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("failed to read exclusion patterns from %q: %w", name, unwrapPathError(err))
		}
		lines, err := tree.ParsePatternFile(file)
		file.Close()
		if err != nil {
			return nil, fmt.Errorf("failed to read exclusion patterns from %q: %w", name, err)
		}
		for _, l := range lines {
			if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "#") {
				patterns = append(patterns, l)
			}
		}
	}
	for _, p := range f.Exclude {
		if p == "" {
			return nil, usagef("--exclude takes a pattern; got an empty one")
		}
		patterns = append(patterns, p)
	}
	return patterns, nil
}
