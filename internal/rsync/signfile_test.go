package rsync

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/streamtest"
)

// bigData is shared by the segment tests: random content a little over
// three sign segments and two delta segments long.
var bigData = randBytes(60, 3*signSegment+5000)

func TestSignFileEqualsSign(t *testing.T) {
	sizes := []int{0, 1, 2048, 5000, signSegment - 1, signSegment, signSegment + 1,
		2*signSegment - 4096, 2*signSegment + 4097, 3*signSegment + 5000}
	for _, size := range sizes {
		data := bigData[:size]
		wantHash, wantSig, err := Sign(bytes.NewReader(data), int64(size), testKey)
		if err != nil {
			t.Fatalf("Sign(%d bytes): %v", size, err)
		}
		for _, workers := range []int{0, 1, 2, 3, 8} {
			t.Run(fmt.Sprintf("%d bytes/%d workers", size, workers), func(t *testing.T) {
				hash, sig, err := SignFile(bytes.NewReader(data), int64(size), workers, testKey)
				if err != nil {
					t.Fatalf("SignFile: %v", err)
				}
				if !bytes.Equal(hash, wantHash) {
					t.Errorf("hash = %x, want Sign's %x", hash, wantHash)
				}
				if !bytes.Equal(sig, wantSig) {
					t.Errorf("signature of %d bytes differs from Sign's %d bytes", len(sig), len(wantSig))
				}
			})
		}
	}
}

func TestSignFileSizeChanged(t *testing.T) {
	data := bigData[:2*signSegment+100]
	tests := []struct {
		name string
		data []byte
		size int64
	}{
		{"shorter in the last segment", data[:len(data)-1], int64(len(data))},
		{"shorter by a segment", data[:signSegment+10], int64(len(data))},
		{"longer", data, int64(len(data)) - 1},
		{"longer by a segment", data, signSegment + 50},
	}
	for _, tt := range tests {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/%d workers", tt.name, workers), func(t *testing.T) {
				if _, _, err := SignFile(bytes.NewReader(tt.data), tt.size, workers, testKey); !errors.Is(err, ErrSizeChanged) {
					t.Fatalf("SignFile = %v, want ErrSizeChanged", err)
				}
			})
		}
	}
}

// errReaderAt fails every read at or after off.
type errReaderAt struct {
	data []byte
	off  int64
	err  error
}

func (r *errReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.off {
		return 0, r.err
	}
	return bytes.NewReader(r.data).ReadAt(p, off)
}

func TestSignFileReadError(t *testing.T) {
	bad := errors.New("disk on fire")
	r := &errReaderAt{data: bigData, off: signSegment + 3, err: bad}
	for _, workers := range []int{1, 2, 4} {
		_, _, err := SignFile(r, int64(len(bigData)), workers, testKey)
		if !errors.Is(err, bad) || errors.Is(err, ErrSizeChanged) {
			t.Errorf("SignFile with %d workers = %v, want the read error", workers, err)
		}
	}
	if _, _, err := SignFile(bytes.NewReader(nil), -1, 2, testKey); err == nil {
		t.Error("SignFile with size -1 succeeded")
	}
}

func BenchmarkSignFile(b *testing.B) {
	old := benchData().old
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(int64(len(old)))
			c := streamtest.CPUTime()
			for b.Loop() {
				if _, _, err := SignFile(bytes.NewReader(old), int64(len(old)), workers, testKey); err != nil {
					b.Fatal(err)
				}
			}
			streamtest.ReportCPU(b, c, int64(len(old)))
		})
	}
}

var _ io.ReaderAt = (*errReaderAt)(nil)

// TestBlockSizeDividesSegment checks that wherever SignFile cuts a file into
// segments, the block size divides them, so that a segment holds whole
// blocks.
func TestBlockSizeDividesSegment(t *testing.T) {
	for e := 0; e < 63; e++ {
		for _, size := range []int64{1<<e - 1, 1 << e, 1<<e + 1} {
			if bs := format.BlockSize(size); size > signSegment && signSegment%bs != 0 {
				t.Fatalf("BlockSize(%d) = %d does not divide the %d-byte segments of SignFile", size, bs, signSegment)
			}
		}
	}
}
