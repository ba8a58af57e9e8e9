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
// created files byte for byte, without a warning, in every codec it reads
// (tar -z, tar --zstd, the plain tar).
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
	}{{Gzip, "-z"}, {Zstd, "--zstd"}, {None, ""}} {
		t.Run(string(tc.codec), func(t *testing.T) {
			if tc.codec == Zstd {
				// GNU tar runs the zstd command to decompress
				if _, err := exec.LookPath("zstd"); err != nil {
					t.Skip("no zstd on PATH: tar --zstd cannot run")
				}
			}
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

// TestZstdCommand checks the zstd codec against the zstd command both ways:
// the command decodes an archive, verifying its checksum, to the tar stream
// the reader decodes; and an archive recompressed by the command, at the
// levels whose windows ibt accepts, reads as written.
func TestZstdCommand(t *testing.T) {
	zstdBin, err := exec.LookPath("zstd")
	if err != nil {
		t.Skip("no zstd on PATH")
	}
	files := []testFile{
		created("dir/big", randBytes(8, 3<<20)),
		created("dir/text", bytes.Repeat([]byte("a line of text\n"), 1<<16)),
		updated("dir/updated", []byte("old content"), []DeltaOp{cp(0, 3), lit([]byte(" new"))}),
	}
	plain := writeArchive(t, files, WriterOptions{Codec: None})
	run := func(stdin []byte, args ...string) []byte {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(zstdBin, args...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("zstd %s: %v: %s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.Bytes()
	}
	for _, level := range []int{0, 1, 22} {
		z := writeArchive(t, files, WriterOptions{Codec: Zstd, Level: level})
		if got, want := run(z, "-d", "-q", "-c"), decompressed(t, z); want == nil || !bytes.Equal(got, want) {
			t.Errorf("level %d: zstd -d and the archive reader decode different tar streams", level)
		}
	}
	for _, args := range [][]string{{"-1"}, {"-19"}, {"-3", "-T2"}} {
		z := run(plain, append(args, "-q", "-c")...)
		if _, _, err := readArchive(z, nil); err != nil {
			t.Errorf("recompressed with zstd %s: %v", strings.Join(args, " "), err)
		}
	}
}
