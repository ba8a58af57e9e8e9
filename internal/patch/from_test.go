package patch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

// renameTrees returns a tree and its next version, in which dir/ moved to
// a/ (before it in path order), z.bin moved to zz/z.bin (after it), k.bin
// was copied and a new file was created twice.
func renameTrees() (tr, tr) {
	blob := func(c byte) string { return strings.Repeat(string(c), 5000) }
	old := tr{"dir": dir(), "dir/one": file(blob('1')), "dir/two": file(blob('2')), "k.bin": file(blob('k')),
		"z.bin": file(blob('z')), "small": file("tiny")}
	new := tr{"a": dir(), "a/one": file(blob('1')), "a/two": file(blob('2')), "k.bin": file(blob('k')),
		"kcopy": file(blob('k')), "n1": file(blob('n')), "n2": file(blob('n')), "zz": dir(), "zz/z.bin": file(blob('z')),
		"small2": file("tiny")}
	return old, new
}

// TestRenamesApply checks that renamed and copied files come from DIR, not
// from the archive, and that the archive is applied again as a no-op.
func TestRenamesApply(t *testing.T) {
	old, new := renameTrees()
	cs := changes(old, new)
	sources := map[string]string{}
	for _, c := range cs {
		if c.From != "" {
			sources[c.Path()] = c.From
		}
	}
	want := map[string]string{"a/one": "dir/one", "a/two": "dir/two", "kcopy": "k.bin", "n2": "n1", "zz/z.bin": "z.bin"}
	if len(sources) != len(want) {
		t.Fatalf("sources %v, want %v", sources, want)
	}
	a := writeArchive(t, cs, new, archive.Gzip)
	d := restored(t, old)
	sum := mustApply(t, d, a)
	if got, w := withoutRoot(listing(t, d)), treeListing(t, new); got != w {
		t.Fatalf("tree:\n%s\nwant:\n%s", got, w)
	}
	if sum.BytesWritten != 6*5000+4 {
		t.Errorf("staged %d bytes, want %d", sum.BytesWritten, 6*5000+4)
	}
	again := mustApply(t, d, a)
	if again.AlreadyApplied != len(cs) {
		t.Errorf("second run: %+v, want all %d changes already applied", again, len(cs))
	}
}

// TestRenameRefused checks that a source DIR does not hold, or one an
// archive does not keep, is refused with DIR untouched.
func TestRenameRefused(t *testing.T) {
	old, new := renameTrees()
	withChange := func(edit func(cs []*format.Change) []*format.Change) []byte {
		return writeArchive(t, edit(changes(old, new)), new, archive.Gzip)
	}
	at := func(cs []*format.Change, p string) *format.Change { return changeAt(t, cs, p) }
	t.Run("source changed in DIR", func(t *testing.T) {
		d := restored(t, old)
		if err := os.WriteFile(filepath.Join(d, "dir/one"), []byte(strings.Repeat("!", 5000)), 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, d, makeArchive(t, old, new), ErrWrongBase, "a/one")
	})
	t.Run("source missing from DIR", func(t *testing.T) {
		d := restored(t, old)
		if err := os.Remove(filepath.Join(d, "z.bin")); err != nil {
			t.Fatal(err)
		}
		err := refused(t, d, makeArchive(t, old, new), ErrWrongBase, "zz/z.bin")
		if !strings.Contains(err.Error(), `"z.bin", which is not a file in DIR`) {
			t.Errorf("error %q does not say what is wrong", err)
		}
	})
	t.Run("source created by the archive", func(t *testing.T) {
		a := withChange(func(cs []*format.Change) []*format.Change {
			at(cs, "n2").From, at(cs, "n2").FromNew = "n1", false
			return cs
		})
		refused(t, restored(t, old), a, ErrCorrupt, "n2")
	})
	t.Run("source of other content", func(t *testing.T) {
		a := withChange(func(cs []*format.Change) []*format.Change {
			at(cs, "n2").From, at(cs, "n2").FromNew = "k.bin", false
			return cs
		})
		refused(t, restored(t, old), a, ErrWrongBase, "n2")
		a = withChange(func(cs []*format.Change) []*format.Change {
			at(cs, "n2").From = "kcopy"
			at(cs, "n2").FromNew = true
			return cs
		})
		refused(t, restored(t, old), a, ErrCorrupt, "n2")
	})
	t.Run("source in the staging directory", func(t *testing.T) {
		a := withChange(func(cs []*format.Change) []*format.Change {
			at(cs, "n1").From = stagingName + "/x"
			return cs
		})
		refused(t, restored(t, old), a, ErrUnsafe, "n1")
	})
}

// changeAt is the change of cs at p.
func changeAt(t *testing.T, cs []*format.Change, p string) *format.Change {
	t.Helper()
	for _, c := range cs {
		if c.Path() == p {
			return c
		}
	}
	t.Fatalf("no change at %q", p)
	return nil
}

// TestRenameDryRun checks that a dry run reads the sources.
func TestRenameDryRun(t *testing.T) {
	old, new := renameTrees()
	a := makeArchive(t, old, new)
	d := restored(t, old)
	if _, err := Apply(d, bytes.NewReader(a), Options{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "k.bin"), []byte(strings.Repeat("?", 5000)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Apply(d, bytes.NewReader(a), Options{DryRun: true})
	if err == nil || !strings.Contains(err.Error(), `"k.bin", which does not hold it`) {
		t.Fatalf("dry run with a changed source: %v", err)
	}
}

// fromDeltaTrees returns a tree and its next version, in which a.bin was
// renamed to b.bin and then edited, and z.bin copied to c.bin and edited,
// as ibt-merge writes a rename or copy and a later update: a delta against
// the source (Change.FromSize). The archive's ops are given.
func fromDeltaTrees(t *testing.T) (old, new tr, mk func(new tr, edit func(cs []*format.Change) []*format.Change) []byte) {
	a := strings.Repeat("a", 4000) + strings.Repeat("b", 4000)
	z := strings.Repeat("z", 6000)
	old = tr{"a.bin": file(a), "z.bin": file(z), "keep": file("k")}
	new = tr{"b.bin": file(a[:6000] + "tail!"), "c.bin": file("Q" + z), "z.bin": file(z), "keep": file("k")}
	mk = func(new tr, edit func(cs []*format.Change) []*format.Change) []byte {
		t.Helper()
		cs := changes(old, new)
		for _, c := range cs {
			switch c.Path() {
			case "b.bin":
				c.From, c.FromSize = "a.bin", 8000
			case "c.bin":
				c.From, c.FromSize = "z.bin", 6000
			}
		}
		if edit != nil {
			cs = edit(cs)
		}
		var buf bytes.Buffer
		w, err := archive.NewWriter(&buf, format.Header{Kind: format.KindDelta, Version: format.Version, Hash: format.HashAlgorithm, Tool: "test"}, archive.WriterOptions{Codec: archive.Gzip})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if err := w.AddChange(c); err != nil {
				t.Fatal(err)
			}
			switch {
			case c.Path() == "b.bin" && c.FromSize > 0:
				err = errors.Join(w.WriteCopy(0, 6000), w.WriteLiteral([]byte("tail!")))
			case c.Path() == "c.bin" && c.FromSize > 0:
				err = errors.Join(w.WriteLiteral([]byte("Q")), w.WriteCopy(0, 6000))
			case c.HasData() && c.Op != format.OpUpdate:
				err = w.WriteContent([]byte(new[c.Path()].data))
			case c.HasData():
				err = w.WriteLiteral([]byte(new[c.Path()].data))
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(format.Trailer{TreeHash: treeHash(new)}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	return old, new, mk
}

// TestDeltaFromSource checks that a change with a FromSize is its delta
// applied to its source, read from DIR, in a run, a dry run and a second
// run; and that a source DIR does not hold as the delta's base, or one the
// archive does not keep, is refused with DIR untouched.
func TestDeltaFromSource(t *testing.T) {
	old, new, makeA := fromDeltaTrees(t)
	a := makeA(new, nil)
	d := restored(t, old)
	if _, err := Apply(d, bytes.NewReader(a), Options{DryRun: true}); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	sum := mustApply(t, d, a)
	if got, w := withoutRoot(listing(t, d)), treeListing(t, new); got != w {
		t.Fatalf("tree:\n%s\nwant:\n%s", got, w)
	}
	if sum.BytesWritten != 6005+6001 {
		t.Errorf("staged %d bytes, want %d", sum.BytesWritten, 6005+6001)
	}
	if again := mustApply(t, d, a); again.AlreadyApplied != len(changes(old, new)) {
		t.Errorf("second run: %+v, want every change already applied", again)
	}

	t.Run("source of another size", func(t *testing.T) {
		d := restored(t, old)
		if err := os.WriteFile(filepath.Join(d, "z.bin"), []byte("short"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := refused(t, d, a, ErrWrongBase, "c.bin")
		if !strings.Contains(err.Error(), `a delta against "z.bin", which is not the file of 6000 bytes`) {
			t.Errorf("error %q does not say what is wrong", err)
		}
	})
	t.Run("source of other content", func(t *testing.T) {
		d := restored(t, old)
		if err := os.WriteFile(filepath.Join(d, "z.bin"), []byte(strings.Repeat("y", 6000)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Apply(d, bytes.NewReader(a), Options{DryRun: true}); !errors.Is(err, ErrWrongBase) {
			t.Errorf("dry run: %v, want %v", err, ErrWrongBase)
		}
		err := refused(t, d, a, ErrWrongBase, "c.bin")
		if !strings.Contains(err.Error(), `"z.bin", which does not hold the content it was made against`) {
			t.Errorf("error %q does not say what is wrong", err)
		}
	})
	t.Run("source missing", func(t *testing.T) {
		d := restored(t, old)
		if err := os.Remove(filepath.Join(d, "z.bin")); err != nil {
			t.Fatal(err)
		}
		refused(t, d, a, ErrWrongBase, "c.bin")
	})
	t.Run("source size on a copy of the new tree", func(t *testing.T) {
		c := &format.Change{Op: format.OpCreate, New: fileEntry("c", "x"), From: "b", FromNew: true, FromSize: 1}
		if err := format.CheckChange(c); err == nil {
			t.Errorf("a source size with a source of the new tree passed the check")
		}
	})
}

// TestDeltaFromSourceKilledThenRerun kills ibt-patch at every step of the
// commit of an archive with deltas against sources it deletes or keeps,
// and checks that every file is its old or new version and that a rerun
// finishes: the sources stay until the files made from them are in place.
func TestDeltaFromSourceKilledThenRerun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	old, new, makeA := fromDeltaTrees(t)
	killedAtEveryCommitStep(t, old, new, makeA(new, nil))
}

// TestRewrittenSourceKept checks sources that the archive also rewrites
// (as ibt-merge writes a copy of a file the next archive edits): a source
// before the copy in path order and updated, one after it and replaced by
// a directory, and a delta against an updated source. Each applies, again
// as a no-op, and killed at every step of its commit, a rerun finishes
// from the old version kept under the workspace.
func TestRewrittenSourceKept(t *testing.T) {
	t.Parallel()
	old, new := renameTrees()
	at := func(cs []*format.Change, p string) *format.Change { return changeAt(t, cs, p) }
	t.Run("updated, before", func(t *testing.T) {
		new := new.clone()
		new["k.bin"] = file(strings.Repeat("K", 5000))
		cs := changes(old, new)
		at(cs, "kcopy").From = "k.bin"
		appliedAndResumed(t, old, new, writeArchive(t, cs, new, archive.Gzip))
	})
	t.Run("replaced by a directory, after", func(t *testing.T) {
		new := new.clone()
		new["zz"] = file("not a directory")
		delete(new, "zz/z.bin")
		new["z.bin"] = dir()
		new["a/z"] = old["z.bin"]
		cs := changes(old, new)
		if c := at(cs, "a/z"); c.From != "" {
			t.Fatalf("a replaced file is a source: %+v", c)
		}
		at(cs, "a/z").From = "z.bin"
		appliedAndResumed(t, old, new, writeArchive(t, cs, new, archive.Gzip))
	})
	t.Run("a delta against an updated source", func(t *testing.T) {
		old, new, makeA := fromDeltaTrees(t)
		new = new.clone()
		new["z.bin"] = file(strings.Repeat("Z", 6000))
		new["c.bin"] = file("Q" + old["z.bin"].data)
		appliedAndResumed(t, old, new, makeA(new, nil))
	})
}

// appliedAndResumed applies a to old, checks the tree is new and a second
// run a no-op, and kills it at every commit step (see
// killedAtEveryCommitStep), unless the tests are short.
func appliedAndResumed(t *testing.T, old, new tr, a []byte) {
	t.Helper()
	d := restored(t, old)
	mustApply(t, d, a)
	if got, w := withoutRoot(listing(t, d)), treeListing(t, new); got != w {
		t.Fatalf("tree:\n%s\nwant:\n%s", got, w)
	}
	if again := mustApply(t, d, a); again.AlreadyApplied == 0 || again.BytesWritten != 0 {
		t.Errorf("second run: %+v, want every change already applied", again)
	}
	if _, err := os.Lstat(filepath.Join(d, stagingName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the workspace is left in DIR: %v", err)
	}
	if !testing.Short() {
		killedAtEveryCommitStep(t, old, new, a)
	}
}

// killedAtEveryCommitStep kills ibt-patch of the archive a at each step of
// its commit into a restore of old, and checks that every file is its old
// or new version and that a rerun finishes with the tree new.
func killedAtEveryCommitStep(t *testing.T, old, new tr, a []byte) {
	t.Helper()
	arch := filepath.Join(t.TempDir(), "archive.tar.gz")
	if err := os.WriteFile(arch, a, 0o644); err != nil {
		t.Fatal(err)
	}
	want := treeListing(t, new)
	d := restored(t, old)
	_, out := runHelper(t, d, arch, countEnv+"=1")
	total, _ := strconv.Atoi(out)
	if got := withoutRoot(listing(t, d)); got != want || total < 2 {
		t.Fatalf("uninterrupted run: %d steps, tree:\n%s", total, got)
	}
	for k := 1; k <= total; k++ {
		at := []string{fmt.Sprintf("%s=%d", crashCommitEnv, k)}
		d := restored(t, old)
		if killed, _ := runHelper(t, d, arch, at...); !killed {
			t.Fatalf("%v: not killed", at)
		}
		checkOldOrNew(t, d, old, new, at)
		if killed, _ := runHelper(t, d, arch); killed {
			t.Fatalf("%v: rerun killed", at)
		}
		if got := withoutRoot(listing(t, d)); got != want {
			t.Fatalf("%v: tree after the rerun differs:\n got:\n%s\nwant:\n%s", at, got, want)
		}
	}
	t.Logf("killed at each of %d commit steps; every rerun finished", total)
}
