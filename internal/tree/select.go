package tree

import "strings"

// Selector picks paths by .gitignore patterns, the other way round from an
// Excluder: what the patterns match is selected, and what they match as a
// directory is selected with everything beneath it, as an excluded
// directory is left out with everything beneath it. The patterns read as
// ibt-sign's --exclude patterns read (gitignore.go), relative to the root;
// a '!' pattern takes back what an earlier one selects, but not beneath a
// directory already selected, as git cannot re-include a file beneath an
// excluded directory. No ignore files are read.
type Selector struct {
	patterns []ignorePattern
}

// NewSelector returns a Selector of the lines patterns (blank lines and
// lines starting with '#' are skipped).
func NewSelector(patterns []string) *Selector {
	return &Selector{patterns: parsePatterns(patterns, "")}
}

// Selects reports whether the entry at rel (slash-separated, relative to
// the root) is selected: a directory above it, or rel itself, is matched
// last by a pattern that is not negated.
func (s *Selector) Selects(rel string, isDir bool) bool {
	for i := 0; ; {
		j := strings.IndexByte(rel[i:], '/')
		if j < 0 {
			return s.matches(rel, rel[i:], isDir)
		}
		if s.matches(rel[:i+j], rel[i:i+j], true) {
			return true
		}
		i += j + 1
	}
}

// matches reports whether the last pattern matching p, whose last
// component is name, selects it.
func (s *Selector) matches(p, name string, isDir bool) bool {
	m := lastMatch(s.patterns, p, name, isDir)
	return m != nil && !m.negative
}
