package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A restore into a directory on a read-only filesystem says so, in the
// user's words, rather than with the system call that failed on the
// staging directory. Needs root, to mount a small read-only tmpfs.
func TestPatchOnReadOnlyFilesystem(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a filesystem")
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	idx := runTool(t, "ibt-sign", nil, src)
	arch := runTool(t, "ibt-pack", runTool(t, "ibt-delta", runTool(t, "ibt-diff", idx, "--full", "-")))

	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	if err := os.Mkdir(filepath.Join(mnt, "r"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v: %s", err, out)
	}
	for _, dir := range []string{filepath.Join(mnt, "r"), filepath.Join(mnt, "new")} {
		code, _, stderr := runToolCode(t, "ibt-patch", arch, dir)
		want := "ibt-patch: error: \"" + dir + "\" is on a read-only filesystem\nibt-patch: hint: "
		if code != ExitError || !strings.HasPrefix(stderr, want) {
			t.Errorf("ibt-patch %s: exit %d, stderr:\n%s\nwant exit 1 and %q", dir, code, stderr, want)
		}
	}
}
