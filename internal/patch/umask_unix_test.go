//go:build unix

package patch

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
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
			fi, err := os.Lstat(filepath.Join(d, p))
			if err != nil {
				t.Fatal(err)
			}
			got := uint32(fi.Mode().Perm())
			if fi.Mode()&os.ModeSetuid != 0 {
				got |= 0o4000
			}
			if got != m {
				t.Errorf("umask %03o: %s has mode %o, want %o", mask, p, got, m)
			}
		}
	}
}

// A directory made in staging is made with its own mode where the umask
// leaves it whole and it lets its owner make entries (see makesDir), and
// is chmodded otherwise: every mode comes out as recorded, setgid and
// sticky bits included, under any umask, and in a DIR whose setgid bit
// the staging directory and every directory made in it take.
func TestRestoredDirectoryModes(t *testing.T) {
	modes := map[string]uint32{"a": 0o755, "a/b": 0o700, "a/b/c": 0o750, "d": 0o555, "d/e": 0o2755,
		"d/e/f": 0o1777, "g": 0o711, "g/h": 0o500, "g/h/i": 0o777, "j": 0o2770}
	want := tr{}
	for p, m := range modes {
		want[p] = dir().withMode(m)
		want[p+"/x"] = file(p + "\n")
	}
	arch := makeArchive(t, tr{}, want)
	for _, setgid := range []bool{false, true} {
		for _, mask := range []int{0o022, 0o077, 0o277, 0} {
			parent := t.TempDir()
			if setgid {
				if err := os.Chmod(parent, 0o755|os.ModeSetgid); err != nil {
					t.Fatal(err)
				}
			}
			d := filepath.Join(parent, "dir")
			old := syscall.Umask(mask)
			_, err := apply(d, arch)
			syscall.Umask(old)
			if err != nil {
				t.Fatalf("umask %03o, setgid parent %v: %v", mask, setgid, err)
			}
			for p, m := range modes {
				fi, err := os.Lstat(filepath.Join(d, p))
				if err != nil {
					t.Fatal(err)
				}
				got := uint32(fi.Mode().Perm())
				if fi.Mode()&os.ModeSetgid != 0 {
					got |= 0o2000
				}
				if fi.Mode()&os.ModeSticky != 0 {
					got |= 0o1000
				}
				if got != m {
					t.Errorf("umask %03o, setgid parent %v: %s has mode %o, want %o", mask, setgid, p, got, m)
				}
			}
		}
	}
}
