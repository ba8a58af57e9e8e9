package cli

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ibt-tools/ibt/internal/powerloss"
)

// TestPowerLossOutputFile runs every tool that writes -o FILE on the
// power-loss filesystem and cuts the power after each of its operations:
// FILE must then be absent, the previous FILE, or complete, never empty or
// torn.
func TestPowerLossOutputFile(t *testing.T) {
	if why := powerloss.Available(); why != "" {
		t.Skipf("no power-loss filesystem: %s", why)
	}
	src := filepath.Join(t.TempDir(), "src")
	os.Mkdir(src, 0o755)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 30 {
		b := make([]byte, 1000+rng.IntN(20000))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		os.WriteFile(filepath.Join(src, fmt.Sprintf("f%02d", i)), b, 0o644)
	}
	in := t.TempDir()
	idx := filepath.Join(in, "full.idx")
	os.WriteFile(idx, runTool(t, "ibt-sign", nil, src), 0o600)
	diff := filepath.Join(in, "full.diff")
	os.WriteFile(diff, runTool(t, "ibt-diff", nil, "--full", idx), 0o600)
	delta := filepath.Join(in, "full.delta")
	os.WriteFile(delta, runTool(t, "ibt-delta", nil, "-C", src, diff), 0o600)

	for _, tc := range []struct {
		tool string
		args []string
	}{
		{"ibt-sign", []string{src}},
		{"ibt-diff", []string{"--full", idx}},
		{"ibt-delta", []string{"-C", src, diff}},
		{"ibt-pack", []string{delta}},
	} {
		for _, previous := range []bool{false, true} {
			name := tc.tool + "/new"
			if previous {
				name = tc.tool + "/replace"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				powerLossOutput(t, tc.tool, tc.args, previous)
			})
		}
	}
}

const previousOutput = "the previous output\n"

func powerLossOutput(t *testing.T, tool string, args []string, previous bool) {
	fresh := func() string {
		b := t.TempDir()
		os.Mkdir(filepath.Join(b, "out"), 0o755)
		if previous {
			os.WriteFile(filepath.Join(b, "out", "FILE"), []byte(previousOutput), 0o644)
		}
		return b
	}
	run := func(p *powerloss.FS, mnt string) {
		cmd := toolCommand(t, tool, append(args, "-o", filepath.Join(mnt, "out", "FILE"))...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p.OnCrash(func() { cmd.Process.Kill() })
		if err := cmd.Wait(); err != nil && !p.Crashed() {
			t.Fatalf("%s: %v\n%s", tool, err, &stderr)
		}
	}

	b, mnt := fresh(), t.TempDir()
	p, err := powerloss.Mount(b, mnt, powerloss.Options{})
	if err != nil {
		t.Skipf("no power-loss filesystem: mount: %v", err)
	}
	run(p, mnt)
	total, flushes := p.Ops()
	p.Unmount()
	complete, err := os.Stat(filepath.Join(b, "out", "FILE"))
	if err != nil || !readable(t, filepath.Join(b, "out", "FILE")) {
		t.Fatalf("the clean run wrote no complete FILE: %v", err)
	}

	points := 0
	for k := 0; k <= total; k++ {
		for _, survive := range []int{0, 1 << 20} {
			at := fmt.Sprintf("cut after operation %d of %d (keeping %d unflushed name changes)", k, total, survive)
			b := fresh()
			p, err := powerloss.Mount(b, mnt, powerloss.Options{Crash: true, CrashAfter: k})
			if err != nil {
				t.Fatal(err)
			}
			run(p, mnt)
			if _, err := p.Cut(survive); err != nil {
				t.Fatalf("%s: %v", at, err)
			}
			points++
			out := filepath.Join(b, "out", "FILE")
			fi, err := os.Stat(out)
			switch {
			case err != nil && !previous:
				// absent
			case err != nil:
				t.Fatalf("%s: the previous FILE is gone: %v", at, err)
			case previous && fi.Size() == int64(len(previousOutput)) && mustRead(t, out) == previousOutput:
				// the previous FILE
			case fi.Mode() != complete.Mode() || !readable(t, out):
				t.Fatalf("%s: FILE is neither absent, the previous one nor complete: %v, %d bytes", at, fi.Mode(), fi.Size())
			}
		}
	}
	t.Logf("%d crash points (%d operations, %d flushes)", points, total, len(flushes))
}

func mustRead(t *testing.T, name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readable reports whether ibt-cat reads the stream or archive in name
// from its header to its trailer.
func readable(t *testing.T, name string) bool {
	var stderr strings.Builder
	code := Main("ibt-cat", []string{name}, Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr})
	return code == ExitOK
}
