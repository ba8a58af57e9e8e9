//go:build unix

package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// toolCommand returns a command running the tool name: the test binary,
// called by that name, is the tool (testscript.Main in TestMain).
func toolCommand(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	return exec.Command(bin, args...)
}

// An interrupted tool removes the temporary file of its -o output and
// exits as a shell reports that signal.
func TestInterruptRemovesTemporaryOutput(t *testing.T) {
	src := t.TempDir()
	for i := range 50 {
		os.WriteFile(filepath.Join(src, fmt.Sprintf("f%02d", i)), bytes.Repeat([]byte{byte(i)}, 3000), 0o644)
	}
	var idx, stderr bytes.Buffer
	if code := Main("ibt-sign", []string{"--no-lz4", src}, Env{Stdout: &idx, Stderr: &stderr}); code != 0 {
		t.Fatalf("ibt-sign: %d\n%s", code, &stderr)
	}
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			out := t.TempDir()
			cmd := toolCommand(t, "ibt-diff", "--full", "-", "-o", filepath.Join(out, "full.diff"))
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			// all but the trailer: the tool waits for the rest
			in.Write(idx.Bytes()[:idx.Len()-8])
			deadline := time.Now().Add(10 * time.Second)
			for {
				tmps, _ := filepath.Glob(filepath.Join(out, ".full.diff.tmp-*"))
				if len(tmps) == 1 {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatal("no temporary output file appeared")
				}
				time.Sleep(5 * time.Millisecond)
			}
			cmd.Process.Signal(tc.sig)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Fatalf("exit: %v, want code %d", err, tc.code)
			}
			if names, _ := os.ReadDir(out); len(names) != 0 {
				t.Fatalf("left behind: %v", names)
			}
		})
	}
}
