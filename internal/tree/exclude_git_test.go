package tree

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// gitUniverse is the tree every differential case is walked over: names
// that the patterns below are meant to catch or to miss, including names
// with the characters patterns treat specially, a symlink to a directory
// (which git, like the walk, takes for a file) and names that differ only
// in case.
var gitUniverse = []string{
	"ab.dat", "1a.dat", "9.dat", "x.dat", ".dat", "a.DAT", "zz.dat",
	"Foo", "foo.txt", "foo/bar", "foo/bar.txt", "foo/baz/bar", "foo/baz/qux.txt",
	"FOO/x", "foobar", "fooxbar",
	"a/foo/bar", "a/b/foo", "a/b/file", "a/x/b/file", "a/b/c/d.txt", "ab/file", "abc/x",
	"doc/frotz/a", "x/doc/frotz/b",
	"build/out.o", "src/build/out.o", "src/main.c", "src/lib/util.c",
	"deep/a/b/c/d/e.txt",
	"#hash", "!bang", "bang", "sp ace", "trail ", " lead", "*star", "q?", "br[ack]", `back\slash`, "]x", "-x",
	"link -> foo",
}

// gitPatterns are single patterns, each tried on its own in a root ignore
// file against every path of gitUniverse.
var gitPatterns = []string{
	// character classes: negation with ! and ^, ranges, odd brackets
	"[!0-9]*.dat", "[^0-9]*.dat", "[0-9]*.dat", "[!a-z].dat", "[a-c]*", "[!a-c]*", "[^a-c]*",
	"[]]*", "[!]]*", "[]x]*", "[a-]*", "[-a]*", "[!-]*", "[z-a]*", "[a-c-z]*", `[\]]*`, `[\!]*`, `[!\!]*`,
	"[[:digit:]]*", "[[:alpha:]]*.dat", "[[:upper:]]*", "[![:lower:]]*", "[[:space:]]*", "[[:punct:]]*",
	"[[:alnum:]][[:alnum:]].dat", "[[:xdigit:]]*", "[[:bogus:]]*", "[[:digit]*", "[[:]*", "[abc", "a[", "*[", "[*]*",
	"fo[o]", "fo[o]/", "f[/]oo", "foo[/]bar", "a[!b]/file", "?[!/]?.dat",
	// * and ? within one component
	"*.dat", "?.dat", "??.dat", "*", "*.*", ".*", "foo*", "*bar", "foo*bar", "foo?bar", "f*r", "a/*/file", "*/bar", "foo/*", "*/*", "*/*/*",
	"a*/file", "a?/file", "foo/b*", "f?o/bar",
	// ** in every position
	"**", "**/", "/**", "**/**", "***", "**/bar", "**/foo/bar", "**/b/*", "**/file", "/**/file", "foo/**", "foo/**/", "a/**",
	"a/**/file", "a/**/b/file", "a/**/**/file", "**/a/**", "**/*.txt", "foo**", "**foo", "f**o", "foo**/bar", "a**/file",
	"**bar", "**/foo", "a/b**/file", "ab**", "**.dat", "deep/**/e.txt", "deep/**/c/**/e.txt", `**\/bar`, "**/d/",
	// anchoring and directories
	"/foo", "/foo/", "foo/", "foo", "foo/bar", "/foo/bar", "a/foo", "foo/bar/", "doc/frotz", "doc/frotz/", "/doc/frotz",
	"frotz/", "frotz", "build/", "/build", "build", "src/build/", "/src/build", "b/", "/a/b/", "a/b", "bar/", "bar",
	"link/", "link", "/link", "foo.txt/", "*/", "/*", "/*/", "*/*/", "a/", "/a",
	// comments, escapes, spaces
	"#hash", `\#hash`, "!bang", `\!bang`, "sp ace", "trail ", `trail\ `, `trail\ \ `, "*.dat   ", `*.dat\ `, " lead",
	`\ lead`, `sp\ ace`, `\*star`, `\*`, `q\?`, `\q\?`, `back\\slash`, `br\[ack]`, "br[[]ack]", `\foo`, `fo\o/`,
	"", "   ", "/", "!", "#", `\`, `foo\`, "!/", "//foo", "foo//bar", "./foo", "foo/./bar", "\tfoo",
	// case
	"Foo", "FOO/", "*.DAT", "foo/BAR", "[A-Z]*",
}

// gitNegations are pairs of lines that exclude and re-include, tried in both
// orders: git cannot re-include a path whose directory is excluded.
var gitNegations = [][2]string{
	{"*.dat", "!ab.dat"}, {"*.dat", "![0-9]*"}, {"*.dat", "![!0-9]*"}, {"foo/", "!foo/bar"}, {"foo", "!foo/bar.txt"},
	{"foo/*", "!foo/bar"}, {"foo/**", "!foo/bar"}, {"foo/**", "!foo/baz/"}, {"foo/*", "!foo/baz/"}, {"foo/*", "!foo/baz/bar"},
	{"a/", "!a/b/file"}, {"/a/*", "!/a/b"}, {"*", "!*/"}, {"*", "!*.dat"}, {"**/file", "!/a/b/file"}, {"*", "!a/"},
	{"/*", "!/a"}, {"*/", "!foo/"}, {"**", "!**/"}, {"doc/", "!doc/frotz/"}, {"*.txt", "!a/**"}, {"bang", `\!bang`},
	{"!bang", "bang"}, {"*.dat", "!*.dat"}, {"build/", "!src/build/"}, {"*", "!**/*.c"}, {"src/**", "!src/lib/"},
	{"src/**/*", "!*.c"},
}

// gitCase is a tree's ignore files and user patterns, compared with git over
// gitUniverse.
type gitCase struct {
	name  string
	files map[string]string // ignore files: directory ("" for the root) to content
	user  []string          // patterns with precedence over every ignore file
	paths []string          // extra files
}

// gitNested are cases with ignore files below the root, each anchored to its
// own directory, and user patterns over them.
var gitNested = []gitCase{
	{name: "nested anchored", files: map[string]string{"foo": "/bar\n", "a": "/b/\n"}},
	{name: "nested middle slash", files: map[string]string{"a": "b/file\nx/*\n"}},
	{name: "nested basename", files: map[string]string{"a": "file\n"}},
	{name: "nested star-star", files: map[string]string{"a": "**/file\n/**/d.txt\n"}},
	{name: "nested does not reach up", files: map[string]string{"foo": "/foo.txt\n../ab.dat\n"}},
	{name: "nested negation of root", files: map[string]string{"": "*.txt\nfile\n", "a/b": "!file\n!/c/d.txt\n"}},
	{name: "nested negation under excluded dir", files: map[string]string{"": "a/b/\n", "a/b": "!file\n", "a": "!b/file\n"}},
	{name: "nested dir re-included by its parent", files: map[string]string{"": "b/\n", "a": "!b/\n"}},
	{name: "nested deeper wins", files: map[string]string{"": "!*.o\n", "src": "*.o\n", "src/build": "!out.o\n"}},
	{name: "nested class", files: map[string]string{"foo": "[!b]*\n", "a/b": "[^f]*\n"}},
	{name: "nested ignore file ignores itself", files: map[string]string{"a": ".ibtignore\nfile\n"}},
	{name: "nested crlf and comments", files: map[string]string{"a": "# comment\r\nfile\r\n\r\n   \r\n\\#x\r\n"}},
	{name: "nested trailing spaces", files: map[string]string{"": "trail \\ \nsp ace  \n", "a": "file   \n"}},
	{name: "nested no final newline", files: map[string]string{"": "*.dat\n!ab.dat", "a": "file"}},
	{name: "nested bom", files: map[string]string{"": "\ufefffoo.txt\n"}},
	{name: "user over nested", files: map[string]string{"a/b": "!file\n"}, user: []string{"file"}},
	{name: "user negation over nested", files: map[string]string{"": "*.dat\n", "foo": "*\n"}, user: []string{"!ab.dat", "!bar"}},
	{name: "user anchored", files: map[string]string{"a": "!/b/\n"}, user: []string{"/a/b", "/x/"}},
	{name: "user class", user: []string{"[!0-9]*.dat"}},
	{name: "user class caret", user: []string{"[^0-9]*.dat", "!z*"}},
	{name: "user star-star", user: []string{"**/b/**", "!**/file"}},
	{name: "user dir only", files: map[string]string{"src": "!build/\n"}, user: []string{"build/", "foo/"}},
}

// gitUserPatterns are tried as user patterns too, as git's --exclude: each
// such case costs a run of git, while the ignore file cases share one.
var gitUserPatterns = []string{
	"[!0-9]*.dat", "[^0-9]*.dat", "[!a-c]*", "[]]*", "[[:digit:]]*", "a[!b]/file", "*.dat", "?.dat", "*/bar", "foo/*",
	"**", "/**", "**/bar", "foo/**", "foo/**/", "a/**/file", "a**/file", "foo**/bar", "**/a/**", "/foo", "foo/",
	"foo/bar", "doc/frotz/", "link/", "*/", "//foo", "foo//bar", `\#hash`, `\!bang`, `trail\ `, `\*star`, "Foo", "FOO/",
}

// TestExcluderAgreesWithGit walks trees with ignore files and user patterns
// and compares what is left with what git leaves untracked and unignored
// (git ls-files --others, with the ignore files as per-directory files and
// the user patterns as --exclude, which git ranks above them as the
// Excluder does). It is skipped where git is not installed.
func TestExcluderAgreesWithGit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	var cases []gitCase
	for _, p := range gitPatterns {
		cases = append(cases, gitCase{name: "file " + p, files: map[string]string{"": p + "\n"}})
	}
	for _, p := range gitUserPatterns {
		cases = append(cases, gitCase{name: "user " + p, user: []string{p}})
	}
	for _, n := range gitNegations {
		cases = append(cases, gitCase{name: "file " + n[0] + " then " + n[1], files: map[string]string{"": n[0] + "\n" + n[1] + "\n"}},
			gitCase{name: "file " + n[1] + " then " + n[0], files: map[string]string{"": n[1] + "\n" + n[0] + "\n"}},
			gitCase{name: "user " + n[0] + " then " + n[1], user: []string{n[0], n[1]}},
			// the root file excludes, a file below re-includes
			gitCase{name: "nested " + n[0] + " under " + n[1], files: map[string]string{"": n[0] + "\n", "a": n[1] + "\n", "foo": n[1] + "\n"}})
	}
	cases = append(cases, gitNested...)

	g := newGitOracle(t, git)
	// The cases without user patterns share a tree and a run of git: each
	// is a directory of its own, whose ignore file anchors its patterns
	// there as a root's would.
	batch := fastTempDir(t)
	var batched []int
	for i, c := range cases {
		if len(c.user) == 0 {
			c.build(t, filepath.Join(batch, fmt.Sprint(i)))
			batched = append(batched, i)
		}
	}
	kept := g.kept(t, batch, nil)
	var pairs, disagreements int
	for _, i := range batched {
		c := cases[i]
		t.Run(c.name, func(t *testing.T) {
			gitKeeps := map[string]bool{}
			for p := range kept {
				if rest, ok := strings.CutPrefix(p, fmt.Sprint(i)+"/"); ok {
					gitKeeps[rest] = true
				}
			}
			n, d := c.compare(t, filepath.Join(batch, fmt.Sprint(i)), gitKeeps)
			pairs += n
			disagreements += d
		})
	}
	// The cases with user patterns take a run of git each; those without
	// ignore files share a tree, which nothing writes to.
	shared := fastTempDir(t)
	build(t, shared, gitUniverse...)
	var mu sync.Mutex
	t.Run("user", func(t *testing.T) {
		for _, c := range cases {
			if len(c.user) == 0 {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				dir := shared
				if len(c.files) > 0 || len(c.paths) > 0 {
					dir = fastTempDir(t)
					c.build(t, dir)
				}
				n, d := c.compare(t, dir, g.kept(t, dir, c.user))
				mu.Lock()
				pairs += n
				disagreements += d
				mu.Unlock()
			})
		}
	})
	t.Logf("%d cases, %d pattern/path pairs, %d disagreements", len(cases), pairs, disagreements)
}

// build makes the case's tree at dir: gitUniverse and its ignore files.
func (c *gitCase) build(t *testing.T, dir string) {
	build(t, dir, append(slices.Clone(gitUniverse), c.paths...)...)
	for d, content := range c.files {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(d), ".ibtignore"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// compare walks the case's tree at dir with an Excluder and reports every
// file (or symlink) it keeps where git does not, or the other way round. It
// returns the number of paths compared and of disagreements.
func (c *gitCase) compare(t *testing.T, dir string, gitKeeps map[string]bool) (pairs, disagreements int) {
	var all []string
	for _, p := range append(slices.Clone(gitUniverse), c.paths...) {
		p, _, _ = strings.Cut(p, " -> ")
		all = append(all, p)
	}
	for d := range c.files {
		all = append(all, strings.TrimPrefix(d+"/.ibtignore", "/"))
	}
	return compareWithGit(t, dir, all, c.user, gitKeeps, fmt.Sprintf("ignore files %q, user patterns %q", c.files, c.user))
}

// compareWithGit walks the tree at dir, whose files (and symlinks) are
// all, with an Excluder for the user patterns user and .ibtignore files,
// and reports every file it keeps where git does not, or the other way
// round, under the title what. It returns the number of paths compared and
// of disagreements.
func compareWithGit(t *testing.T, dir string, all, user []string, gitKeeps map[string]bool, what string) (pairs, disagreements int) {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	x := NewExcluder(root, user, ".ibtignore")
	weKeep := map[string]bool{}
	err = Walk(dir, Options{Ignore: x}, func(n *Node) error {
		if n.Type != TypeDir {
			weKeep[n.Path] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if x.Err() != nil {
		t.Fatal(x.Err())
	}
	var diffs []string
	for _, p := range slices.Sorted(slices.Values(all)) {
		pairs++
		if gitKeeps[p] != weKeep[p] {
			diffs = append(diffs, fmt.Sprintf("%q: git %s, Excluder %s", p, verdict(gitKeeps[p]), verdict(weKeep[p])))
		}
	}
	for p := range gitKeeps {
		if !slices.Contains(all, p) {
			t.Errorf("git lists %q, which the test did not make", p)
		}
	}
	if len(diffs) > 0 {
		t.Errorf("%s:\n%s", what, strings.Join(diffs, "\n"))
	}
	return pairs, len(diffs)
}

// gitOracle runs git, away from the user's and the system's configuration,
// with a repository of its own whose work tree is given at every run.
type gitOracle struct {
	git, dir string
	env      []string
}

func newGitOracle(t testing.TB, git string) *gitOracle {
	home := t.TempDir()
	g := &gitOracle{git: git, dir: filepath.Join(home, "repo.git"),
		env: append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "HOME="+home, "XDG_CONFIG_HOME="+home)}
	cmd := exec.Command(git, "init", "--bare", "-q", g.dir)
	cmd.Env = g.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	return g
}

// kept returns the files (and symlinks) below dir that git neither tracks
// nor ignores, relative to dir, with .ibtignore as the per-directory ignore
// files and user as --exclude patterns.
func (g *gitOracle) kept(t *testing.T, dir string, user []string) map[string]bool {
	args := []string{"-c", "core.ignorecase=false", "--git-dir=" + g.dir, "--work-tree=" + dir,
		"ls-files", "-z", "--others", "--exclude-per-directory=.ibtignore"}
	for _, p := range user {
		args = append(args, "--exclude="+p)
	}
	cmd := exec.Command(g.git, args...)
	cmd.Dir = dir
	cmd.Env = g.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v\n%s", err, stderr.Bytes())
	}
	kept := map[string]bool{}
	for p := range strings.SplitSeq(string(out), "\x00") {
		if p != "" {
			kept[p] = true
		}
	}
	return kept
}

// fastTempDir is t.TempDir, in memory where the system has a tmpfs at
// /dev/shm: the test makes some 15,000 files, which a disk takes seconds
// to create and remove.
func fastTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/dev/shm", "ibt-exclude-test-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func verdict(kept bool) string {
	if kept {
		return "keeps"
	}
	return "excludes"
}
