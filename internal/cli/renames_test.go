package cli

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runTool runs one tool in process and returns its standard output.
func runTool(t *testing.T, name string, stdin []byte, args ...string) []byte {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdin: bytes.NewReader(stdin), Stdout: &out, Stderr: &errb, IsTerminal: func(any) bool { return false }}
	if code := Main(name, args, env); code != ExitOK {
		t.Fatalf("%s %v: exit %d: %s", name, args, code, errb.String())
	}
	return out.Bytes()
}

// TestRenamedDirectoryCostsLittle renames a directory of 100 MiB (to a
// name before it, and copies a file) and checks that the incremental
// archive stays under 1% of it and restores the new tree.
func TestRenamedDirectoryCostsLittle(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200 MiB")
	}
	const files, size = 100, 1 << 20
	root := t.TempDir()
	src := filepath.Join(root, "src")
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, size)
	for i := range files {
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		p := filepath.Join(src, "photos", fmt.Sprintf("%03d.raw", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v1 := runTool(t, "ibt-sign", nil, src)
	restore := filepath.Join(root, "restore")
	if err := os.CopyFS(restore, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(src, "photos"), filepath.Join(src, "album")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "zcopy.raw"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	v2 := runTool(t, "ibt-sign", nil, src)
	v1Name := filepath.Join(root, "v1.idx")
	if err := os.WriteFile(v1Name, v1, 0o644); err != nil {
		t.Fatal(err)
	}
	diff := runTool(t, "ibt-diff", v2, v1Name, "-")
	arch := runTool(t, "ibt-pack", runTool(t, "ibt-delta", diff))
	if limit := files * size / 100; len(arch) >= limit {
		t.Errorf("archive of %d bytes, want under 1%% of %d MiB (%d)", len(arch), files*size>>20, limit)
	}
	summary := string(runTool(t, "ibt-cat", arch, "--summary"))
	if !strings.Contains(summary, fmt.Sprintf("renamed    %d ", files+1)) {
		t.Errorf("summary does not count %d renamed files:\n%s", files+1, summary)
	}
	runTool(t, "ibt-patch", arch, restore)
	for _, p := range []string{"album/042.raw", "zcopy.raw"} {
		want, err := os.ReadFile(filepath.Join(src, p))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(restore, p))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: restored content differs (%v)", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(restore, "photos")); !os.IsNotExist(err) {
		t.Errorf("the old directory is still there: %v", err)
	}
	t.Logf("archive %d bytes for a %d MiB rename:\n%s", len(arch), files*size>>20, summary)
}
