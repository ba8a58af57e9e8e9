package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// TestGNUTar checks that GNU tar lists an archive cleanly and extracts the
// created files byte for byte, without a warning.
func TestGNUTar(t *testing.T) {
	tarBin, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("no tar on PATH")
	}
	if out, _ := exec.Command(tarBin, "--version").Output(); !bytes.Contains(out, []byte("GNU tar")) {
		t.Skip("tar is not GNU tar")
	}
	content := randBytes(7, 3<<20)
	files := []testFile{
		created("dir/big", content),
		created("dir/small", []byte("small\n")),
		updated("dir/updated", []byte("old content"), []DeltaOp{cp(0, 3), lit([]byte(" new"))}),
		change(format.OpDelete, entry("gone", format.TypeFile, 1), nil),
	}
	for _, tc := range []struct {
		codec Codec
		flag  string
	}{{Gzip, "-z"}, {None, ""}} {
		t.Run(string(tc.codec), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "a.tar")
			if err := os.WriteFile(path, writeArchive(t, files, WriterOptions{Codec: tc.codec}), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-t", "-f", path}
			if tc.flag != "" {
				args = append(args, tc.flag)
			}
			var stderr bytes.Buffer
			cmd := exec.Command(tarBin, args...)
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("tar -t: %v: %s", err, stderr.String())
			}
			if got, want := strings.Fields(string(out)), []string{
				// The big file's content is streamed: its batch ends with it.
				headerName, batchName(1), dataName(files[0].c),
				batchName(2), dataName(files[1].c), dataName(files[2].c), trailerName,
			}; strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("tar -t lists %q, want %q", got, want)
			}
			dest := filepath.Join(dir, "x")
			if err := os.Mkdir(dest, 0o755); err != nil {
				t.Fatal(err)
			}
			args = append([]string{"-x", "-C", dest}, args[1:]...)
			cmd = exec.Command(tarBin, args...)
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Fatalf("tar -x: %v: %s", err, stderr.String())
			}
			for _, f := range files[:2] {
				sum := sha256.Sum256([]byte(f.c.Path()))
				got, err := os.ReadFile(filepath.Join(dest, "created", hex.EncodeToString(sum[:])))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, f.content) {
					t.Errorf("extracted content of %q differs", f.c.Path())
				}
			}
		})
	}
}
