package tree

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// maxIgnoreFile bounds an ignore file read from the tree, which anyone able
// to write below the root controls.
const maxIgnoreFile = 1 << 20

// Excluder decides which paths a walk skips, with .gitignore semantics: a
// list of patterns given by the user, and ignore files found in the tree,
// each applying to its own directory and below. Its Exclude method is
// meant for Options.Exclude; it follows the walk, so the ignore file of a
// directory is read when the walk enters it and forgotten when it leaves,
// and only the files on the current path are held.
//
// Priority follows git: the user's patterns first, then the ignore files
// from the deepest directory up; within a list the last matching pattern
// wins, and a pattern starting with '!' re-includes what an earlier one
// excluded. A directory excluded is not entered, so nothing below it can be
// re-included.
type Excluder struct {
	root   *os.Root
	name   string              // the ignore files' name; "" reads none
	user   []gitignore.Pattern // the user's patterns
	frames []ignoreFrame       // the directories on the current path, outermost first
	err    error
	parts  []string
}

// ignoreFrame is one directory on the walk's current path with the patterns
// of its ignore file.
type ignoreFrame struct {
	dir      string // relative path, "" for the root
	patterns []gitignore.Pattern
}

// NewExcluder returns an Excluder for the tree at root. patterns are lines
// of a .gitignore (blank lines and lines starting with '#' are skipped);
// ignoreFile is the name of the ignore files read in every directory, ""
// for none.
func NewExcluder(root *os.Root, patterns []string, ignoreFile string) *Excluder {
	return &Excluder{root: root, name: ignoreFile, user: parsePatterns(patterns, nil)}
}

// ParsePatternFile reads the lines of a .gitignore-style file.
func ParsePatternFile(r io.Reader) ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxIgnoreFile)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// parsePatterns compiles the pattern lines of an ignore file in the
// directory whose path components are domain.
func parsePatterns(lines []string, domain []string) []gitignore.Pattern {
	var ps []gitignore.Pattern
	for _, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(l, domain))
	}
	return ps
}

// Err returns the first error met reading an ignore file. The walk cannot
// be stopped from Exclude, so the caller checks Err as it goes and after
// the walk.
func (x *Excluder) Err() error { return x.err }

// Exclude reports whether the entry at rel (slash-separated, relative to the
// root) is excluded. Calls must come in the order of a Walk.
func (x *Excluder) Exclude(rel string, isDir bool) bool {
	dir := ""
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		dir = rel[:i]
	}
	x.enter(dir)
	x.parts = append(x.parts[:0], strings.Split(rel, "/")...)
	if m := match(x.user, x.parts, isDir); m != gitignore.NoMatch {
		return m == gitignore.Exclude
	}
	for i := len(x.frames) - 1; i >= 0; i-- {
		if m := match(x.frames[i].patterns, x.parts, isDir); m != gitignore.NoMatch {
			return m == gitignore.Exclude
		}
	}
	return false
}

// match returns the result of the last pattern of ps that matches.
func match(ps []gitignore.Pattern, parts []string, isDir bool) gitignore.MatchResult {
	for i := len(ps) - 1; i >= 0; i-- {
		if m := ps[i].Match(parts, isDir); m != gitignore.NoMatch {
			return m
		}
	}
	return gitignore.NoMatch
}

// enter makes dir the innermost frame: it leaves the directories the walk
// has left and reads the ignore files of those it has entered.
func (x *Excluder) enter(dir string) {
	for len(x.frames) > 0 && !within(dir, x.frames[len(x.frames)-1].dir) {
		x.frames = x.frames[:len(x.frames)-1]
	}
	if len(x.frames) == 0 {
		x.frames = append(x.frames, x.load(""))
	}
	for top := x.frames[len(x.frames)-1].dir; top != dir; top = x.frames[len(x.frames)-1].dir {
		start := 0
		if top != "" {
			start = len(top) + 1
		}
		next := dir
		if i := strings.IndexByte(dir[start:], '/'); i >= 0 {
			next = dir[:start+i]
		}
		x.frames = append(x.frames, x.load(next))
	}
}

// within reports whether dir is ancestor or dir itself.
func within(dir, ancestor string) bool {
	return ancestor == "" || dir == ancestor || strings.HasPrefix(dir, ancestor+"/")
}

// load reads the ignore file of dir. A missing file, or one that is not a
// regular file (a symlink is not followed, as git does not), has no
// patterns.
func (x *Excluder) load(dir string) ignoreFrame {
	fr := ignoreFrame{dir: dir}
	if x.name == "" {
		return fr
	}
	rel := x.name
	var domain []string
	if dir != "" {
		rel = dir + "/" + x.name
		domain = strings.Split(dir, "/")
	}
	f, _, err := OpenFile(x.root, rel)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNotRegular) {
		return fr
	}
	if err != nil {
		x.fail(rel, err)
		return fr
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxIgnoreFile+1))
	if err == nil && len(data) > maxIgnoreFile {
		err = fmt.Errorf("larger than %d bytes", maxIgnoreFile)
	}
	if err != nil {
		x.fail(rel, err)
		return fr
	}
	fr.patterns = parsePatterns(strings.Split(string(data), "\n"), domain)
	return fr
}

func (x *Excluder) fail(rel string, err error) {
	if x.err == nil {
		x.err = fmt.Errorf("read ignore file %q: %w", rel, err)
	}
}
