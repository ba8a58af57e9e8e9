package tree

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// maxIgnoreFile bounds an ignore file read from the tree, which anyone able
// to write below the root controls.
const maxIgnoreFile = 1 << 20

// Excluder decides which paths a walk skips, with .gitignore semantics: a
// list of patterns given by the user, and ignore files found in the tree,
// each applying to its own directory and below. It is meant for
// Options.Ignore: it follows the walk, reading the ignore file of a
// directory through the walk's own handle of it when the walk has listed it
// (see listed), and forgetting it when the walk leaves; only the patterns
// of the directories on the current path are held. Given as Options.Exclude
// instead, its Exclude method applies the user's patterns alone.
//
// Priority follows git: the user's patterns first, then the ignore files
// from the deepest directory up; within a list the last matching pattern
// wins, and a pattern starting with '!' re-includes what an earlier one
// excluded. A directory excluded is not entered, so nothing below it can be
// re-included. The user's patterns rank as git's --exclude patterns do,
// but are read as lines of a file (comments and trailing spaces dropped).
// Patterns match exactly as git's (gitignore.go).
type Excluder struct {
	root   *os.Root
	name   string          // the ignore files' name; "" reads none
	user   []ignorePattern // the user's patterns
	frames []ignoreFrame   // the directories on the current path, outermost first
	err    error
}

// ignoreFrame is one directory on the walk's current path with the patterns
// of its ignore file.
type ignoreFrame struct {
	dir      string // relative path, "" for the root
	patterns []ignorePattern
}

// NewExcluder returns an Excluder for the tree at root. patterns are lines
// of a .gitignore (blank lines and lines starting with '#' are skipped);
// ignoreFile is the name of the ignore files read in every directory, ""
// for none.
func NewExcluder(root *os.Root, patterns []string, ignoreFile string) *Excluder {
	return &Excluder{root: root, name: ignoreFile, user: parsePatterns(patterns, "")}
}

// utf8BOM, at the start of an ignore file, is skipped as git skips it.
const utf8BOM = "\ufeff"

// ParsePatternFile reads the lines of a .gitignore-style file.
func ParsePatternFile(r io.Reader) ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, maxIgnoreFile)
	for sc.Scan() {
		l := sc.Text()
		if len(lines) == 0 {
			l = strings.TrimPrefix(l, utf8BOM)
		}
		lines = append(lines, l)
	}
	return lines, sc.Err()
}

// IsPattern reports whether line of a .gitignore is a pattern: neither
// blank (spaces aside) nor a comment.
func IsPattern(line string) bool {
	_, ok := parseIgnoreLine(line, "")
	return ok
}

// parsePatterns compiles the pattern lines of an ignore file in the
// directory base ("" for the root, else with a trailing '/').
func parsePatterns(lines []string, base string) []ignorePattern {
	var ps []ignorePattern
	for _, l := range lines {
		if p, ok := parseIgnoreLine(l, base); ok {
			ps = append(ps, p)
		}
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
	x.leave(dir)
	name := rel[strings.LastIndexByte(rel, '/')+1:]
	if p := lastMatch(x.user, rel, name, isDir); p != nil {
		return !p.negative
	}
	for i := len(x.frames) - 1; i >= 0; i-- {
		if p := lastMatch(x.frames[i].patterns, rel, name, isDir); p != nil {
			return !p.negative
		}
	}
	return false
}

// lastMatch returns the last pattern of ps that matches, or nil.
func lastMatch(ps []ignorePattern, rel, name string, isDir bool) *ignorePattern {
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].match(rel, name, isDir) {
			return &ps[i]
		}
	}
	return nil
}

// leave drops the frames of the directories the walk has left for dir.
func (x *Excluder) leave(dir string) {
	for len(x.frames) > 0 && !within(dir, x.frames[len(x.frames)-1].dir) {
		x.frames = x.frames[:len(x.frames)-1]
	}
}

// within reports whether dir is ancestor or dir itself.
func within(dir, ancestor string) bool {
	return ancestor == "" || dir == ancestor || strings.HasPrefix(dir, ancestor+"/")
}

// listed is told by a Walk with Options.Ignore of every directory it has
// listed, before any entry of it is given to Exclude: dir is its relative
// path, d the walk's own handle of it and l its listing. The directory's
// ignore file is read through d, and only where l has one: no directory is
// opened twice, and none without an ignore file is looked into. A file
// that is not a regular file (a symlink is not followed, as git does not)
// has no patterns.
func (x *Excluder) listed(dir string, d dirHandle, l *listing) {
	x.leave(dir)
	fr := ignoreFrame{dir: dir}
	if x.name != "" && l.has(x.name) {
		fr.patterns = x.load(dir, d)
	}
	x.frames = append(x.frames, fr)
}

// load reads the patterns of the ignore file of the directory dir, d.
func (x *Excluder) load(dir string, d dirHandle) []ignorePattern {
	rel, base := x.name, ""
	if dir != "" {
		base = dir + "/"
		rel = base + x.name
	}
	f, err := x.openIgnore(d, rel)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNotRegular) {
		return nil
	}
	if err != nil {
		x.fail(rel, err)
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxIgnoreFile+1))
	if err == nil && len(data) > maxIgnoreFile {
		err = fmt.Errorf("larger than %d bytes", maxIgnoreFile)
	}
	if err != nil {
		x.fail(rel, err)
		return nil
	}
	return parsePatterns(strings.Split(strings.TrimPrefix(string(data), utf8BOM), "\n"), base)
}

func (x *Excluder) fail(rel string, err error) {
	if x.err == nil {
		x.err = fmt.Errorf("read ignore file %q: %w", rel, err)
	}
}
