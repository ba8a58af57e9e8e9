//go:build unix

package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A second ibt-patch on a DIR that another one is patching stops at once
// with exit code 3, changing nothing; run again once the first is done, it
// succeeds.
func TestPatchBusyWhileAnotherHoldsTheLock(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	os.Mkdir(src, 0o755)
	for i := range 20 {
		os.WriteFile(filepath.Join(src, fmt.Sprintf("f%02d", i)), bytes.Repeat([]byte(fmt.Sprint(i)), 5000), 0o644)
	}
	idx := runTool(t, "ibt-sign", nil, src)
	arch := runTool(t, "ibt-pack", runTool(t, "ibt-delta", runTool(t, "ibt-diff", idx, "--full", "-"), "-C", src), "--codec", "none")
	dir := filepath.Join(t.TempDir(), "restore")

	first := toolCommand(t, "ibt-patch", dir)
	in, err := first.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var firstErr bytes.Buffer
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	in.Write(arch[:len(arch)/2]) // the first waits for the rest, holding the lock
	waitLocked(t, filepath.Join(dir, ".ibt-patch", "lock"))

	start := time.Now()
	code, _, stderr := runToolCode(t, "ibt-patch", arch, dir)
	if code != ExitBusy || !strings.Contains(stderr, "is busy: another ibt-patch holds its lock") {
		t.Fatalf("second run: exit %d, want %d:\n%s", code, ExitBusy, stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the second run took %v to give up", d)
	}

	in.Write(arch[len(arch)/2:])
	in.Close()
	if err := first.Wait(); err != nil {
		t.Fatalf("first run: %v\n%s", err, &firstErr)
	}
	if code, _, stderr := runToolCode(t, "ibt-patch", arch, dir); code != 0 {
		t.Fatalf("second run, retried: exit %d\n%s", code, stderr)
	}
}

// waitLocked waits until another process holds the flock of name.
func waitLocked(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if f, err := os.Open(name); err == nil {
			err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
			f.Close() // lets go of the lock if we got it
			if errors.Is(err, unix.EWOULDBLOCK) {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("nobody locked %s", name)
}
