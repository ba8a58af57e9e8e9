package archive

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// zstdInput is n bytes of half random, half repeated text, in pieces.
func zstdInput(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for b.Len() < n {
		if rng.IntN(2) == 0 {
			for range 512 {
				b.WriteByte(byte(rng.Uint32()))
			}
		} else {
			b.WriteString("row 12345, a value that repeats itself\n")
		}
	}
	return b.Bytes()[:n]
}

func compressFrames(t *testing.T, in []byte, frameSize, jobs, piece int) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(jobs), zstd.WithEncoderCRC(true), zstd.WithWindowSize(zstdFastWindow))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	z := newZstdFrames(&out, enc, frameSize, jobs)
	for p := in; len(p) > 0; {
		k := min(piece, len(p))
		if n, err := z.Write(p[:k]); n != k || err != nil {
			t.Fatalf("Write: %d of %d, %v", n, k, err)
		}
		p = p[k:]
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestZstdFrames: the input comes back whole, from frames that do not
// depend on how many are encoded at once or on how the input was cut.
func TestZstdFrames(t *testing.T) {
	for _, size := range []int{0, 1, 64 << 10, 1 << 20, 5<<20 + 3} {
		in := zstdInput(size)
		want := compressFrames(t, in, 1<<20, 1, 1<<20)
		for _, jobs := range []int{2, 4} {
			for _, piece := range []int{512, 100 << 10, 3 << 20} {
				if got := compressFrames(t, in, 1<<20, jobs, piece); !bytes.Equal(got, want) {
					t.Fatalf("%d bytes, %d jobs, written %d at a time: %d bytes of frames, %d with one job", size, jobs, piece, len(got), len(want))
				}
			}
		}
		dec, err := zstd.NewReader(bytes.NewReader(want))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(dec)
		dec.Close()
		if err != nil || !bytes.Equal(got, in) {
			t.Fatalf("%d bytes: decoded %d bytes, %v", size, len(got), err)
		}
		if frames := bytes.Count(want, []byte("\x28\xb5\x2f\xfd")); size > 1<<20 && frames < (size+1<<20-1)>>20 {
			t.Errorf("%d bytes in %d frames, want one a MiB", size, frames)
		}
	}
}

type failAfter struct{ left int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		return 0, errors.New("disk full")
	}
	f.left -= len(p)
	return len(p), nil
}

// TestZstdFramesWriteError: a failure of the output is returned, by Write
// or by Close, and again after.
func TestZstdFramesWriteError(t *testing.T) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(2))
	if err != nil {
		t.Fatal(err)
	}
	z := newZstdFrames(&failAfter{left: 100}, enc, 64<<10, 2)
	in := zstdInput(1 << 20)
	_, werr := z.Write(in)
	cerr := z.Close()
	if werr == nil && cerr == nil {
		t.Fatal("no error from a failing output")
	}
	if _, err := z.Write([]byte("x")); err == nil {
		t.Error("a Write after the failure succeeded")
	}
}

// TestZstdLevelsRead: at every level the frames of more than one frame's
// input are read back within the reader's window limit.
func TestZstdLevelsRead(t *testing.T) {
	in := zstdInput(zstdFrameSize + 5<<10)
	for _, level := range []int{1, 3, 7, 22} {
		var out bytes.Buffer
		z, err := Zstd.compressor(&out, level)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := z.Write(in); err != nil {
			t.Fatal(err)
		}
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := Zstd.decompressor(bufio.NewReader(&out))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, in) {
			t.Fatalf("level %d: read back %d of %d bytes: %v", level, len(got), len(in), err)
		}
	}
}
