package archive

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"
)

// The read-ahead reader gives what NewReader gives, whole or cut anywhere
// or with a bit flipped: the same changes, contents and errors.
func TestReadAheadReadsTheSame(t *testing.T) {
	files := damageFiles()
	files = append(files, created("f-big", randBytes(7, 3*aheadChunkSize+123)))
	for _, codec := range []Codec{Gzip, LZ4, Zstd, None} {
		t.Run(string(codec), func(t *testing.T) {
			data := writeArchive(t, files, WriterOptions{Codec: codec})
			describe := func(open func(io.Reader) (*Reader, error), data []byte) string {
				res, r, err := readArchiveWith(open, data, nil)
				if r != nil {
					defer r.Close()
				}
				if res == nil {
					return fmt.Sprintf("error %v", err)
				}
				sums := map[string]string{}
				for p, b := range res.files {
					sums[p] = fmt.Sprintf("%x", sha256.Sum256(b))
				}
				return fmt.Sprintf("%d changes, files %v, error %v", len(res.changes), sums, err)
			}
			check := func(what string, data []byte) {
				want := describe(NewReader, data)
				if got := describe(NewReadAheadReader, data); got != want {
					t.Fatalf("%s: read ahead: %.300s\nwant: %.300s", what, got, want)
				}
			}
			check("whole", data)
			for cut := 0; cut < len(data); cut += max(1, len(data)/47) {
				check(fmt.Sprintf("cut at %d", cut), data[:cut])
			}
			// every cut that decodes to less than the first tar header
			for cut := 1; cut < min(len(data), 400); cut++ {
				check(fmt.Sprintf("cut at %d", cut), data[:cut])
			}
			for i := 0; i < len(data); i += max(1, len(data)/31) {
				d := bytes.Clone(data)
				d[i] ^= 0x10
				check(fmt.Sprintf("bit flipped at %d", i), d)
			}
		})
	}
}

// Close stops the decompression of a reader left half read.
func TestReadAheadCloseStops(t *testing.T) {
	data := writeArchive(t, []testFile{created("big", randBytes(8, 8*aheadChunkSize))}, WriterOptions{Codec: Gzip})
	before := runtime.NumGoroutine()
	for range 20 {
		r, err := NewReadAheadReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		if _, err := io.ReadAll(r.Content()); err == nil {
			t.Fatal("read on after Close without an error")
		}
	}
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left running, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
