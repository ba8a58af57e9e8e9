package archive

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestGoldenArchivesRead reads every archive in testdata, each written by
// an earlier version (internal/patch's TestGoldenArchives makes them and
// checks what they restore): today's reader must still read every change
// and all its data, and verify the trailer.
func TestGoldenArchivesRead(t *testing.T) {
	files, err := filepath.Glob("testdata/*.tar*")
	if err != nil || len(files) < 3 {
		t.Fatalf("%d golden archives, want 3 at least: %v", len(files), err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			changes, content := 0, int64(0)
			for {
				c, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				changes++
				if c.HasData() {
					n, err := io.Copy(io.Discard, r.Content())
					if err != nil {
						t.Fatal(err)
					}
					content += n
				}
			}
			if changes != 9 || content != 1551 {
				t.Errorf("%d changes and %d bytes of content, want 9 and 1551", changes, content)
			}
		})
	}
}
