package patch

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ibt-tools/ibt/internal/rsync"
	"github.com/ibt-tools/ibt/internal/streamtest"
)

func TestHashWriterMatchesFileHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 3*chunkSize+12345)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	for _, size := range []int{0, 1, 2047, 2048, 2049, 100_000, chunkSize - 1, chunkSize, chunkSize + 1, len(big)} {
		for _, split := range []int{1 << 30, 1000, 65536} {
			if size > 200_000 && split == 1000 {
				continue
			}
			data := big[:size]
			want := rsync.NewFileHash(int64(size))
			want.Write(data)
			var out bytes.Buffer
			h := newHashWriter(&out, int64(size))
			for rest := data; len(rest) > 0; {
				k := min(split, len(rest))
				if _, err := h.Write(rest[:k]); err != nil {
					t.Fatal(err)
				}
				rest = rest[k:]
			}
			got, err := h.Sum()
			h.close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Sum()) {
				t.Errorf("size %d in writes of %d: hash %x, want %x", size, split, got, want.Sum())
			}
			if !bytes.Equal(out.Bytes(), data) {
				t.Errorf("size %d in writes of %d: wrote %d bytes that differ from the content", size, split, out.Len())
			}
		}
	}
}

// chunkFailWriter fails every write after its first ok bytes, and counts
// the writes it is given after a failure, and after closed is set.
type chunkFailWriter struct {
	ok                  int
	failed, afterFailed int
	closed              atomic.Bool
	afterClose          atomic.Int32
	delay               time.Duration
}

var errDiskFull = errors.New("no space left on device")

func (w *chunkFailWriter) Write(p []byte) (int, error) {
	time.Sleep(w.delay)
	if w.closed.Load() {
		w.afterClose.Add(1)
	}
	if w.failed > 0 {
		w.afterFailed++
	}
	if len(p) > w.ok {
		w.failed++
		return 0, errDiskFull
	}
	w.ok -= len(p)
	return len(p), nil
}

// TestHashWriterWriteError fails the write of a chunk while later ones are
// being filled: the error comes back as a *writeError, from a later Write
// or from Sum, and nothing more is written after it.
func TestHashWriterWriteError(t *testing.T) {
	size := 6*chunkSize + 100
	w := &chunkFailWriter{ok: chunkSize + chunkSize/2}
	h := newHashWriter(w, int64(size))
	data := make([]byte, 65536)
	var err error
	for n := 0; n < size && err == nil; n += len(data) {
		_, err = h.Write(data[:min(len(data), size-n)])
	}
	if err == nil {
		_, err = h.Sum()
	}
	h.close()
	var we *writeError
	if !errors.As(err, &we) || !errors.Is(err, errDiskFull) {
		t.Fatalf("error %v, want a writeError of %v", err, errDiskFull)
	}
	if w.afterFailed != 0 {
		t.Errorf("%d writes after the failed one", w.afterFailed)
	}
}

// TestHashWriterCloseWaitsForWrites leaves a file unfinished, as a damaged
// archive does: once close returns, its file may be closed, so no write
// may come after.
func TestHashWriterCloseWaitsForWrites(t *testing.T) {
	w := &chunkFailWriter{ok: 1 << 40, delay: 5 * time.Millisecond}
	h := newHashWriter(w, 10*chunkSize)
	if _, err := h.Write(make([]byte, 3*chunkSize+1)); err != nil {
		t.Fatal(err)
	}
	h.close()
	w.closed.Store(true)
	time.Sleep(30 * time.Millisecond)
	if n := w.afterClose.Load(); n != 0 {
		t.Errorf("%d writes after close returned", n)
	}
}

func BenchmarkHashWriter(b *testing.B) {
	data := make([]byte, 64<<20)
	b.SetBytes(int64(len(data)))
	c := streamtest.CPUTime()
	for b.Loop() {
		h := newHashWriter(io.Discard, int64(len(data)))
		h.Write(data)
		h.Sum()
		h.close()
	}
	streamtest.ReportCPU(b, c, int64(len(data)))
}

func BenchmarkHashReaderAt(b *testing.B) {
	data := make([]byte, 64<<20)
	b.SetBytes(int64(len(data)))
	c := streamtest.CPUTime()
	for b.Loop() {
		if _, err := hashReaderAt(bytes.NewReader(data), int64(len(data)), nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	streamtest.ReportCPU(b, c, int64(len(data)))
}
