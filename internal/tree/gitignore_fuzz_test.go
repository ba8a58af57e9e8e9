package tree

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ignoreSeed is a line of an ignore file and a path in its directory, a
// directory when dir is set.
type ignoreSeed struct {
	line, path string
	dir        bool
}

// ignoreSeeds are FuzzIgnorePattern's seed corpus, which
// TestIgnoreSeedsAgreeWithGit checks against git: the corners of git's
// wildmatch and of dir.c's parsing.
var ignoreSeeds = []ignoreSeed{
	{"[!0-9]*.dat", "ab.dat", false}, {"[!0-9]*.dat", "1a.dat", false}, {"[^0-9]*.dat", "9.dat", false},
	{"foo/**/bar", "foo/bar", false}, {"foo/**/bar", "foo/a/b/bar", false}, {"foo/**", "foo", true},
	{"**/foo", "a/b/foo", true}, {"/**/foo", "foo", false}, {"a**/b", "a/x/b", false}, {"a**/b", "ab", false},
	{"*/\\**", "x/*y", false}, {"\\**", "*y", false}, {"**\\/b", "a/b", false}, {"***/x", "a/x", false},
	{"[[:alpha:]][[:digit:]][[:upper:]]", "a1B", false}, {"[[:space:]]x", "\tx", false}, {"[[:space:]]x", "\vx", false},
	{"[[:cntrl:]]x", "\x7fx", false}, {"[[:punct:]]", "_", false}, {"[[:graph:]]", "~", false}, {"[[:print:]]x", " x", false},
	{"[[:blank:]]x", "\tx", false}, {"[[:xdigit:]]", "F", false}, {"[[:lower:]]", "é", false}, {"?", "é", false}, {"??", "é", false},
	{"[[:bogus:]]", "b", false}, {"[[:alpha:]", "a", false}, {"[[:]x", ":x", false}, {"[:]", ":", false}, {"[[:", "[", false},
	{"[]]", "]", false}, {"[!]]", "a", false}, {"[]-a]", "^", false}, {"[a-]", "-", false}, {"x[--0]", "x.", false},
	{"[\\-a]", "b", false}, {"[a-\\z]", "q", false}, {"[z-a]", "z", false}, {"[\\]", "\\", false}, {"[\\", "x", false},
	{"\\", "x", false}, {"x\\", "x", false}, {"x\\\\", "x\\", false}, {"\\x", "x", false}, {"a\\/b", "a/b", false},
	{"\\ ", " ", false}, {"x \\ ", "x  ", false}, {"x \\  ", "x  ", false}, {"x  ", "x", false}, {" x", " x", false},
	{"\\#x", "#x", false}, {"#x", "#x", false}, {"\\!x", "!x", false}, {"!x", "x", false}, {"!", "x", false},
	{"/", "x", true}, {"//", "x", true}, {"x//", "x", true}, {"/x/", "x", true}, {"x/", "x", false}, {"*/", "x", true},
	{"x/*", "x/y", true}, {"x/*/", "x/y", false}, {"*x*", "a/bxc", false}, {"a/*x*", "a/bxc", false}, {"a/b*", "a/b/c", false},
	{"a?b", "a/b", false}, {"a[/]b", "a/b", false}, {"a*b", "a/b", false}, {"a/**/b/**/c", "a/b/c", false},
	{"**/**", "a/b", false}, {"**/", "a", false}, {"/**", "a/b", false}, {"a/**/", "a/b/c", true}, {"*.txt\r", "a.txt", false},
	{"x\x00y", "x", false}, {"x\x00y", "xy", false}, {"Foo", "foo", false}, {"[A-Z]oo", "foo", false}, {"f*", "F", false},
	{"*[", "x[", false}, {"x[", "x[", false}, {"[x", "[x", false}, {"a[b-]", "a-", false}, {"*?*?*", "ab", false},
	{"*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
}

// FuzzIgnorePattern matches lines of an ignore file against paths: no
// input may panic, and a line that escapes every byte of a path matches
// that path. With IBT_FUZZ_GIT=1 every input is also compared with git
// (slowly: a run of git each).
func FuzzIgnorePattern(f *testing.F) {
	for _, s := range ignoreSeeds {
		f.Add(s.line, s.path, s.dir)
	}
	var g *gitOracle
	if os.Getenv("IBT_FUZZ_GIT") != "" {
		git, err := exec.LookPath("git")
		if err != nil {
			f.Fatal("IBT_FUZZ_GIT is set, but git is not installed")
		}
		g = newGitOracle(f, git)
	}
	f.Fuzz(func(t *testing.T, line, path string, dir bool) {
		name := path[strings.LastIndexByte(path, '/')+1:]
		for _, base := range []string{"", "a/", path + "/"} {
			if p, ok := parseIgnoreLine(line, base); ok {
				p.match(path, name, dir)
				p.match(base+path, name, dir)
			}
		}
		wildmatch(line, path, true)
		wildmatch(line, path, false)
		if path != "" && !strings.ContainsRune(path, 0) {
			var esc strings.Builder
			for i := 0; i < len(path); i++ {
				if path[i] != '/' {
					esc.WriteByte('\\')
				}
				esc.WriteByte(path[i])
			}
			for _, pathname := range []bool{true, false} {
				if !wildmatch(esc.String(), path, pathname) {
					t.Errorf("%q does not match %q (pathname %v)", esc.String(), path, pathname)
				}
			}
		}
		if g == nil || !gitPath(path) || strings.ContainsAny(line, "\n\x00") {
			return
		}
		s := ignoreSeed{line, path, dir}
		d := t.TempDir()
		all := s.build(t, d)
		compareWithGit(t, d, all, nil, g.kept(t, d, nil), fmt.Sprintf("line %q", line))
	})
}

// TestIgnoreSeedsAgreeWithGit compares the fuzz seeds with git, in a tree
// each and a run of git for all.
func TestIgnoreSeedsAgreeWithGit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	g := newGitOracle(t, git)
	batch := fastTempDir(t)
	files := make([][]string, len(ignoreSeeds))
	for i, s := range ignoreSeeds {
		if !gitPath(s.path) {
			t.Fatalf("seed %q: git cannot hold %q", s.line, s.path)
		}
		files[i] = s.build(t, filepath.Join(batch, fmt.Sprint(i)))
	}
	kept := g.kept(t, batch, nil)
	for i, s := range ignoreSeeds {
		gitKeeps := map[string]bool{}
		for p := range kept {
			if rest, ok := strings.CutPrefix(p, fmt.Sprint(i)+"/"); ok {
				gitKeeps[rest] = true
			}
		}
		compareWithGit(t, filepath.Join(batch, fmt.Sprint(i)), files[i], nil, gitKeeps, fmt.Sprintf("line %q, path %q", s.line, s.path))
	}
}

// build makes the seed's tree at dir: its path, a directory holding a file
// "f" if it is one, and a .ibtignore holding its line. It returns the files
// made.
func (s ignoreSeed) build(t *testing.T, dir string) []string {
	p := s.path
	if s.dir {
		p += "/f"
	}
	build(t, dir, p)
	if err := os.WriteFile(filepath.Join(dir, ".ibtignore"), []byte(s.line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{p, ".ibtignore"}
}

// gitPath reports whether path can be made in a tree that git lists as
// the walk does.
func gitPath(path string) bool {
	if path == "" || len(path) > 200 || strings.ContainsRune(path, 0) {
		return false
	}
	for c := range strings.SplitSeq(path, "/") {
		switch c {
		case "", ".", "..", ".git", ".ibtignore", StagingName:
			return false
		}
	}
	return true
}
