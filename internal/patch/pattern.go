package patch

import "github.com/ibt-tools/ibt/internal/tree"

// IsPattern reports whether s can be one of Options.Only: a line of a
// .gitignore that is a pattern, neither blank (spaces aside) nor a comment.
func IsPattern(s string) bool { return tree.IsPattern(s) }
