package index_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/cli"
	"github.com/ibt-tools/ibt/internal/index"
	"github.com/ibt-tools/ibt/internal/streamtest"
)

// writeWhileRead makes the next reading of each of paths by ibt-sign find
// the file written to meanwhile, as a program writing it would.
func writeWhileRead(t *testing.T, dir string, paths ...string) {
	t.Helper()
	var mu sync.Mutex
	left := map[string]bool{}
	for _, p := range paths {
		left[p] = true
	}
	index.SetTestHookReading(func(p string) {
		mu.Lock()
		defer mu.Unlock()
		if !left[p] {
			return
		}
		delete(left, p)
		f, err := os.OpenFile(filepath.Join(dir, p), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if _, err := f.WriteString("more, written while ibt-sign read it\n"); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(func() { index.SetTestHookReading(nil) })
}

// runTool runs one tool in process and returns its standard output.
func runTool(t *testing.T, name string, stdin []byte, args ...string) []byte {
	t.Helper()
	code, out, stderr := runToolCode(t, name, stdin, args...)
	if code != cli.ExitOK {
		t.Fatalf("%s %v: exit %d: %s", name, args, code, stderr)
	}
	return out
}

// runToolCode runs one tool in process and returns its exit code, standard
// output and standard error.
func runToolCode(t *testing.T, name string, stdin []byte, args ...string) (int, []byte, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := cli.Env{Stdin: bytes.NewReader(stdin), Stdout: &out, Stderr: &errb, IsTerminal: func(any) bool { return false }}
	code := cli.Main(name, args, env)
	return code, out.Bytes(), errb.String()
}

// skipTree is a tree being backed up and a directory restored from its
// backups.
type skipTree struct {
	t                  *testing.T
	root, src, restore string
}

func newSkipTree(t *testing.T) *skipTree {
	root := t.TempDir()
	s := &skipTree{t: t, root: root, src: filepath.Join(root, "src"), restore: filepath.Join(root, "restore")}
	if err := os.Mkdir(s.src, 0o755); err != nil {
		t.Fatal(err)
	}
	s.write("f", "version one of f\n")
	s.write("g", "version one of g\n")
	return s
}

func (s *skipTree) write(p, content string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.src, p), []byte(content), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// sign runs ibt-sign with args on the tree, writes the index to name and
// returns the warnings.
func (s *skipTree) sign(name string, args ...string) string {
	s.t.Helper()
	code, idx, stderr := runToolCode(s.t, "ibt-sign", nil, append(args, s.src)...)
	if code != cli.ExitOK {
		s.t.Fatalf("ibt-sign %v: exit %d: %s", args, code, stderr)
	}
	if err := os.WriteFile(filepath.Join(s.root, name), idx, 0o600); err != nil {
		s.t.Fatal(err)
	}
	return stderr
}

func (s *skipTree) remove(p string) {
	s.t.Helper()
	if err := os.RemoveAll(filepath.Join(s.src, p)); err != nil {
		s.t.Fatal(err)
	}
}

// wantSameTree checks that the restore holds what the tree does: the same
// paths, types, file contents and symlink targets.
func (s *skipTree) wantSameTree() {
	s.t.Helper()
	src, restore := treeOf(s.t, s.src), treeOf(s.t, s.restore)
	for p, v := range src {
		if restore[p] != v {
			s.t.Errorf("restored %s: %q, want %q", p, restore[p], v)
		}
	}
	for p, v := range restore {
		if _, ok := src[p]; !ok {
			s.t.Errorf("restored %s: %q, which the tree does not have", p, v)
		}
	}
}

// treeOf maps each path under dir (but ibt-patch's own) to its type and
// its content or target.
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case rel == ".ibt-patch":
			return filepath.SkipDir
		case d.IsDir():
			m[rel] = "dir"
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			m[rel] = "symlink " + target
			return err
		default:
			b, err := os.ReadFile(path)
			m[rel] = "file " + string(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (s *skipTree) idx(name string) string { return filepath.Join(s.root, name) }

// backup runs ibt-diff with args, then ibt-delta and ibt-pack, and applies
// the archive to the restore directory; it returns ibt-diff's warnings.
func (s *skipTree) backup(args ...string) string {
	s.t.Helper()
	code, diff, stderr := runToolCode(s.t, "ibt-diff", nil, args...)
	if code != cli.ExitOK {
		s.t.Fatalf("ibt-diff %v: exit %d: %s", args, code, stderr)
	}
	arch := runTool(s.t, "ibt-pack", runTool(s.t, "ibt-delta", diff))
	if code, _, errs := runToolCode(s.t, "ibt-patch", arch, s.restore); code != cli.ExitOK {
		s.t.Fatalf("ibt-patch of the backup of ibt-diff %v: exit %d: %s", args, code, errs)
	}
	return stderr
}

// restored returns the content of p in the restore directory, or "" with
// ok false if it is not there.
func (s *skipTree) restored(p string) (content string, ok bool) {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.restore, p))
	if os.IsNotExist(err) {
		return "", false
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b), true
}

func (s *skipTree) wantRestored(p, want string) {
	s.t.Helper()
	if got, ok := s.restored(p); !ok || got != want {
		s.t.Errorf("restored %s: %q (there: %v), want %q", p, got, ok, want)
	}
}

func (s *skipTree) current(p string) string {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.src, p))
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

func wantWarning(t *testing.T, stderr string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(stderr, p) {
			t.Errorf("warnings do not say %q:\n%s", p, stderr)
		}
	}
}

// TestSkipChangedKeepsPrevious: a file that changes while ibt-sign
// --skip-changed --prev reads it keeps its previous entry, so that the
// incremental leaves the old version in the restore (it used to delete
// it), the restore verifies, and the next backup takes the new content.
func TestSkipChangedKeepsPrevious(t *testing.T) {
	s := newSkipTree(t)
	s.sign("1.idx")
	s.backup("--full", s.idx("1.idx"))

	s.write("f", "version two of f, being written\n")
	s.write("g", "version two of g\n")
	writeWhileRead(t, s.src, "f")
	warn := s.sign("2.idx", "--skip-changed", "--prev", s.idx("1.idx"))
	wantWarning(t, warn, `"f" changed while it was being read`, "kept its entry from", "old version")
	s.backup(s.idx("1.idx"), s.idx("2.idx"))
	s.wantRestored("f", "version one of f\n")
	s.wantRestored("g", "version two of g\n")

	index.SetTestHookReading(nil)
	s.sign("3.idx", "--prev", s.idx("2.idx"))
	s.backup(s.idx("2.idx"), s.idx("3.idx"))
	s.wantRestored("f", s.current("f"))
	s.wantRestored("g", "version two of g\n")
}

// TestSkipChangedWithoutPrevious: without --prev the file is marked
// skipped, and ibt-diff leaves the old version in place, with a warning.
// Such an index is the old index of the next diff, which writes the file
// whole over whatever the restore holds there: the older version, or
// nothing for a file that was new.
func TestSkipChangedWithoutPrevious(t *testing.T) {
	s := newSkipTree(t)
	s.sign("1.idx")
	s.backup("--full", s.idx("1.idx"))
	s.wantSameTree()

	s.write("f", "version two of f, being written\n")
	s.write("g", "version two of g\n")
	s.write("h", "a new file, being written\n")
	writeWhileRead(t, s.src, "f", "h")
	warn := s.sign("2.idx", "--skip-changed")
	wantWarning(t, warn, `"f" changed while it was being read`, `"h" changed while it was being read`, "recorded as skipped")
	warn = s.backup(s.idx("1.idx"), s.idx("2.idx"))
	wantWarning(t, warn, `"f" changed while ibt-sign read it: left as`, `"h" changed while ibt-sign read it and`)
	s.wantRestored("f", "version one of f\n")
	s.wantRestored("g", "version two of g\n")
	if _, ok := s.restored("h"); ok {
		t.Error("h, which no index holds, is restored")
	}

	index.SetTestHookReading(nil)
	s.write("f", "version three of f\n")
	s.sign("3.idx")
	s.backup(s.idx("2.idx"), s.idx("3.idx"))
	s.wantRestored("f", "version three of f\n")
	s.wantRestored("h", "a new file, being written\nmore, written while ibt-sign read it\n")
	s.wantSameTree()
}

// skippedThen signs a tree whose f (which the restore has) and h (which
// it does not) change while read, backs it up, changes the tree with
// change, and backs up the third index: its diff clears or overwrites
// whatever the restore holds at f and h.
func skippedThen(t *testing.T, change func(s *skipTree)) *skipTree {
	s := newSkipTree(t)
	s.sign("1.idx")
	s.backup("--full", s.idx("1.idx"))
	s.write("h", "a new file, being written\n")
	writeWhileRead(t, s.src, "f", "h")
	s.sign("2.idx", "--skip-changed")
	s.backup(s.idx("1.idx"), s.idx("2.idx"))
	index.SetTestHookReading(nil)
	change(s)
	s.sign("3.idx")
	s.backup(s.idx("2.idx"), s.idx("3.idx"))
	s.wantSameTree()
	return s
}

// TestSkipChangedThenDeleted: a skipped file deleted by the next backup is
// gone from the restore, whichever version it held.
func TestSkipChangedThenDeleted(t *testing.T) {
	skippedThen(t, func(s *skipTree) {
		s.remove("f")
		s.remove("h")
	})
}

// TestSkipChangedThenTypeChanged: a skipped file that becomes a directory
// or a symlink is replaced, whichever version the restore held.
func TestSkipChangedThenTypeChanged(t *testing.T) {
	skippedThen(t, func(s *skipTree) {
		s.remove("f")
		if err := os.Mkdir(filepath.Join(s.src, "f"), 0o755); err != nil {
			t.Fatal(err)
		}
		s.write("f/inside", "a file in the directory f became\n")
		s.remove("h")
		if err := os.Symlink("g", filepath.Join(s.src, "h")); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSkipChangedWrongBase: what a skipped file stands for in the restore
// is a regular file or nothing; a directory there is refused, and the
// restore left as it was.
func TestSkipChangedWrongBase(t *testing.T) {
	s := newSkipTree(t)
	s.sign("1.idx")
	s.backup("--full", s.idx("1.idx"))
	writeWhileRead(t, s.src, "f")
	s.sign("2.idx", "--skip-changed")
	s.backup(s.idx("1.idx"), s.idx("2.idx"))
	index.SetTestHookReading(nil)
	s.write("f", "version three of f\n")
	s.sign("3.idx")

	if err := os.Remove(filepath.Join(s.restore, "f")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(s.restore, "f"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, diff, _ := runToolCode(t, "ibt-diff", nil, s.idx("2.idx"), s.idx("3.idx"))
	arch := runTool(t, "ibt-pack", runTool(t, "ibt-delta", diff))
	code, _, stderr := runToolCode(t, "ibt-patch", arch, s.restore)
	if code != cli.ExitError || !strings.Contains(stderr, "is a directory") || !strings.Contains(stderr, "only a regular file or nothing") {
		t.Errorf("ibt-patch over a directory where a skipped file was: exit %d: %s", code, stderr)
	}
	if fi, err := os.Lstat(filepath.Join(s.restore, "f")); err != nil || !fi.IsDir() {
		t.Errorf("the refused archive changed f: %v", err)
	}
}

// TestSkipChangedTwice: a file skipped by two indexes in a row (a log
// always being written) is left alone by their diff, whatever version the
// restore holds, and the chain goes on: the restore keeps the version the
// last backup that read it had, until one reads it again.
func TestSkipChangedTwice(t *testing.T) {
	s := newSkipTree(t)
	s.sign("1.idx")
	s.backup("--full", s.idx("1.idx"))
	writeWhileRead(t, s.src, "f")
	s.sign("2.idx", "--skip-changed")
	s.backup(s.idx("1.idx"), s.idx("2.idx"))
	writeWhileRead(t, s.src, "f")
	s.write("g", "version two of g\n")
	s.sign("3.idx", "--skip-changed")

	code, diff, stderr := runToolCode(t, "ibt-diff", nil, s.idx("2.idx"), s.idx("3.idx"))
	if code != cli.ExitOK {
		t.Fatalf("ibt-diff of two indexes that both have f skipped: exit %d: %s", code, stderr)
	}
	wantWarning(t, stderr, `"f" changed while ibt-sign read it`)
	recs, _ := streamtest.Records(t, diff)
	left := false
	for _, r := range recs {
		if c, ok := r.(*format.Change); ok && c.Path() == "f" {
			left = c.Op == format.OpMeta && c.Old.Skipped && c.New.Skipped
			if !left {
				t.Errorf("the diff changes f, which both indexes have skipped: %+v", c)
			}
		}
	}
	if !left {
		t.Error("the diff does not say to leave f alone")
	}
	s.backup(s.idx("2.idx"), s.idx("3.idx"))
	s.wantRestored("f", "version one of f\n")
	s.wantRestored("g", "version two of g\n")

	// read again at last: the restore gets its whole new content
	s.sign("4.idx")
	s.backup(s.idx("3.idx"), s.idx("4.idx"))
	s.wantRestored("f", s.current("f"))
}

// TestSkipChangedNewPathWithPrevious: a new file being written has no
// previous entry either; the incremental does not create it.
func TestSkipChangedNewPathWithPrevious(t *testing.T) {
	s := newSkipTree(t)
	s.sign("1.idx")
	s.backup("--full", s.idx("1.idx"))

	s.write("h", "a new file, being written\n")
	writeWhileRead(t, s.src, "h")
	warn := s.sign("2.idx", "--skip-changed", "--prev", s.idx("1.idx"))
	wantWarning(t, warn, `"h" changed while it was being read`, "has no entry for it: recorded as skipped")
	s.backup(s.idx("1.idx"), s.idx("2.idx"))
	if _, ok := s.restored("h"); ok {
		t.Error("h is restored")
	}
	s.wantRestored("f", "version one of f\n")
}

// TestSkipChangedFull: a full backup cannot hold a skipped file; it says
// so, leaves it out, and the restore of the rest verifies.
func TestSkipChangedFull(t *testing.T) {
	s := newSkipTree(t)
	writeWhileRead(t, s.src, "f")
	s.sign("1.idx", "--skip-changed")
	warn := s.backup("--full", s.idx("1.idx"))
	wantWarning(t, warn, `"f" changed while ibt-sign read it and no version of it was read`, "leaves it out")
	if _, ok := s.restored("f"); ok {
		t.Error("f is restored")
	}
	s.wantRestored("g", "version one of g\n")
}

// TestSkipChangedHardLink: further links of a file that changed while it
// was read follow it: kept from --prev with it.
func TestSkipChangedHardLink(t *testing.T) {
	s := newSkipTree(t)
	if err := os.Link(filepath.Join(s.src, "f"), filepath.Join(s.src, "f2")); err != nil {
		t.Skip(err)
	}
	s.sign("1.idx")
	s.backup("--full", s.idx("1.idx"))
	s.write("f", "version two of f, being written\n")
	writeWhileRead(t, s.src, "f")
	s.sign("2.idx", "--skip-changed", "--prev", s.idx("1.idx"))
	s.backup(s.idx("1.idx"), s.idx("2.idx"))
	s.wantRestored("f", "version one of f\n")
	s.wantRestored("f2", "version one of f\n")

	// and without --prev, both are left as they were
	writeWhileRead(t, s.src, "f")
	s.sign("3.idx", "--skip-changed")
	s.backup(s.idx("2.idx"), s.idx("3.idx"))
	s.wantRestored("f", "version one of f\n")
	s.wantRestored("f2", "version one of f\n")
}

// TestSkipChangedChecksum: --checksum reads every file and draws a new
// seed, yet a file that changes while read still keeps its --prev entry,
// without the signature keyed by the old seed.
func TestSkipChangedChecksum(t *testing.T) {
	s := newSkipTree(t)
	s.write("f", strings.Repeat("version one of f\n", 2000)) // big enough to be signed
	s.sign("1.idx")
	s.backup("--full", s.idx("1.idx"))
	writeWhileRead(t, s.src, "f")
	warn := s.sign("2.idx", "--skip-changed", "--checksum", "--prev", s.idx("1.idx"))
	wantWarning(t, warn, `"f" changed while it was being read`, "kept its entry from")
	s.backup(s.idx("1.idx"), s.idx("2.idx"))
	s.wantRestored("f", strings.Repeat("version one of f\n", 2000))
	index.SetTestHookReading(nil)
	s.sign("3.idx", "--prev", s.idx("2.idx"))
	s.backup(s.idx("2.idx"), s.idx("3.idx"))
	s.wantRestored("f", s.current("f"))
}
