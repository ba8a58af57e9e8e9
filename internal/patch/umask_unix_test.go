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
