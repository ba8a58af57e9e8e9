//go:build unix

package patch

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

// A staged file is created with its own mode only where the umask leaves
// that mode whole (see freshFile): under a umask that takes bits a mode
// has, it is still chmodded to the recorded mode.
func TestRestoredModesUnderAnyUmask(t *testing.T) {
	want := tr{"d": dir()}
	modes := map[string]uint32{"d/a": 0o600, "d/b": 0o644, "d/c": 0o755, "d/e": 0o400, "d/f": 0o4755, "d/g": 0o777, "top": 0o640}
	for p, m := range modes {
		want[p] = file(p + "\n").withMode(m)
	}
	arch := makeArchive(t, tr{}, want)
	for _, mask := range []int{0o022, 0o277, 0o077, 0} {
		old := syscall.Umask(mask)
		d := filepath.Join(t.TempDir(), "dir")
		_, err := apply(d, arch)
		syscall.Umask(old)
		if err != nil {
			t.Fatalf("umask %03o: %v", mask, err)
		}
		for p, m := range modes {
			if got, _ := unixMode(t, filepath.Join(d, p)); got != m {
				t.Errorf("umask %03o: %s has mode %o, want %o", mask, p, got, m)
			}
		}
	}
}

// A directory made in staging is made with its own mode where the umask
// leaves it whole, it lets its owner make entries and nobody else write
// (see makesDir), and is chmodded otherwise: every mode comes out as
// recorded, setgid and sticky bits included, under any umask, in a DIR
// whose setgid bit the staging directory and every directory made in it
// take, and with owners other than the probe's (as root).
func TestRestoredDirectoryModes(t *testing.T) {
	modes := map[string]uint32{"a": 0o755, "a/b": 0o700, "a/b/c": 0o750, "d": 0o555, "d/e": 0o2755,
		"d/e/f": 0o1777, "g": 0o711, "g/h": 0o500, "g/h/i": 0o777, "j": 0o2770, "k": 0o775, "k/l": 0o770}
	want := tr{}
	for p, m := range modes {
		want[p] = dir().withMode(m)
		want[p+"/x"] = file(p + "\n")
	}
	owned := changes(tr{}, want)
	for _, c := range owned {
		c.New.UID, c.New.GID = 1234, 5678
	}
	archives := map[string][]byte{"own": makeArchive(t, tr{}, want)}
	if os.Geteuid() == 0 {
		archives["1234:5678"] = writeArchive(t, owned, want, archive.Gzip)
	}
	for owner, arch := range archives {
		for _, setgid := range []bool{false, true} {
			for _, mask := range []int{0o022, 0o077, 0o002, 0} {
				parent := t.TempDir()
				t.Cleanup(func() {
					filepath.WalkDir(parent, func(p string, _ fs.DirEntry, _ error) error { return os.Chmod(p, 0o700) })
				})
				if setgid {
					if err := os.Chmod(parent, 0o755|os.ModeSetgid); err != nil {
						t.Fatal(err)
					}
				}
				d := filepath.Join(parent, "dir")
				old := syscall.Umask(mask)
				_, err := apply(d, arch)
				syscall.Umask(old)
				where := fmt.Sprintf("owner %s, umask %03o, setgid parent %v", owner, mask, setgid)
				if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				for p, m := range modes {
					got, st := unixMode(t, filepath.Join(d, p))
					if got != m {
						t.Errorf("%s: %s has mode %o, want %o", where, p, got, m)
					}
					if owner != "own" && (st.Uid != 1234 || st.Gid != 5678) {
						t.Errorf("%s: %s has owner %d:%d", where, p, st.Uid, st.Gid)
					}
				}
			}
		}
	}
}

// A directory others may write in is not given that mode before the
// commit is done below it: until then another user could put a symlink
// where the commit still works.
func TestRestoredDirectoryNotOpenEarly(t *testing.T) {
	want := tr{"w": dir().withMode(0o777), "w/s": dir().withMode(0o755).withTime(baseTime + 7), "w/s/x": file("x\n"), "w/y": file("y\n")}
	arch := makeArchive(t, tr{}, want)
	d := filepath.Join(t.TempDir(), "dir")
	steps := 0
	faults.commitStep = func() {
		steps++
		w, err := os.Lstat(filepath.Join(d, "w"))
		if err != nil {
			return
		}
		s, err := os.Lstat(filepath.Join(d, "w/s"))
		if err == nil && s.ModTime().UnixNano() != baseTime+7 && w.Mode().Perm()&0o022 != 0 {
			t.Errorf("w is %v while the commit still works in it", w.Mode())
		}
	}
	defer func() { faults.commitStep = nil }()
	old := syscall.Umask(0)
	_, err := apply(d, arch)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	if steps == 0 {
		t.Fatal("no commit step seen")
	}
}

// checkDir trusts the probe for directories only once a directory made
// in staging was seen to take its owner and the mode it was made with.
func TestCheckDir(t *testing.T) {
	root, err := os.OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	for _, tc := range []struct {
		made, perm uint32
		want       dirCheck
	}{{0o755, 0o755, dirsAsProbed}, {0o777, 0o777, dirsDiffer}, {0o700, 0o750, dirsDiffer}} {
		name := fmt.Sprintf("d%o-%o", tc.made, tc.perm)
		if err := root.Mkdir(name, fs.FileMode(tc.made)); err != nil {
			t.Fatal(err)
		}
		a := &applier{root: root, fresh: &freshFile{uid: uint32(os.Geteuid()), gid: uint32(os.Getegid()), ok: true}}
		a.checkDir(name, tc.perm)
		a.checkDir(name, 0o1) // only the first directory is looked at
		if a.fresh.dirs != tc.want {
			t.Errorf("made %o, checked as %o: %v, want %v", tc.made, tc.perm, a.fresh.dirs, tc.want)
		}
		if tc.want == dirsDiffer && (a.fresh.makesDir(&format.Entry{Mode: 0o755}) || a.fresh.ownsDir(&format.Entry{UID: a.fresh.uid, GID: a.fresh.gid})) {
			t.Errorf("made %o, checked as %o: the probe is still trusted", tc.made, tc.perm)
		}
	}
}

// unixMode returns the permission, setuid, setgid and sticky bits of the
// entry at p, and its stat.
func unixMode(t *testing.T, p string) (uint32, *syscall.Stat_t) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return uint32(st.Mode) & 0o7777, st
}

// The metadata of a directory goes to no symlink put in its place: the
// chmod that fchmodat2 refuses for it is not retried through the root,
// which would follow it.
func TestDirMetaRefusesSymlink(t *testing.T) {
	d := t.TempDir()
	if err := os.Mkdir(filepath.Join(d, "t"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("t", filepath.Join(d, "l")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(d)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	fds := newDirFds(root)
	defer fds.close()
	for _, noChmodat := range []bool{false, true} {
		fds.noChmodat = noChmodat
		if err := fds.dirMeta("l", &format.Entry{Type: format.TypeDir, Mode: 0o700, MTime: baseTime}, false, true); err == nil {
			t.Errorf("noChmodat %v: the metadata of a directory went to a symlink", noChmodat)
		}
		if got, _ := unixMode(t, filepath.Join(d, "t")); got != 0o755 {
			t.Errorf("noChmodat %v: the symlink's target has mode %o", noChmodat, got)
		}
	}
}
