package readahead

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
	"time"
)

// What is read through a Reader is what the stream holds, then its error,
// whatever the sizes of the reads on either side.
func TestReadsTheStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20+123)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		r    func() io.Reader
		err  error
	}{
		{"whole", func() io.Reader { return bytes.NewReader(data) }, nil},
		{"one byte at a time", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data[:5000])) }, nil},
		{"failing", func() io.Reader { return io.MultiReader(bytes.NewReader(data[:70000]), iotest.ErrReader(boom)) }, boom},
		{"cut short", func() io.Reader {
			return io.MultiReader(bytes.NewReader(data[:100]), iotest.ErrReader(io.ErrUnexpectedEOF))
		}, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, wantErr := io.ReadAll(tc.r())
			a := New(tc.r(), 3, 4096)
			defer a.Close()
			got, err := io.ReadAll(a)
			if !bytes.Equal(got, want) || !errors.Is(err, wantErr) || !errors.Is(err, tc.err) {
				t.Fatalf("read %d bytes, error %v; want %d bytes, error %v", len(got), err, len(want), wantErr)
			}
		})
	}
}

// Close stops the goroutine, waiting for it: the stream may then be read
// by the caller, from where the goroutine left it.
func TestCloseWaits(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100000)
	src := bytes.NewReader(data)
	a := New(src, 2, 1000)
	b := make([]byte, 10)
	if _, err := io.ReadFull(a, b); err != nil {
		t.Fatal(err)
	}
	a.Close()
	a.Close()
	left := src.Len()
	if _, err := a.Read(b); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	if src.Len() != left {
		t.Fatal("the stream was read after Close returned")
	}
	if left == 0 || left > len(data)-1000 {
		t.Fatalf("%d of %d bytes left: not read ahead", left, len(data))
	}
}

// The first chunk is handed on once firstChunk bytes are read, not a
// whole chunk: the reader of an archive starts while the rest of the
// first chunk is still being decompressed.
func TestFirstChunkEarly(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	go pw.Write(make([]byte, firstChunk)) // and no more until the end of the test
	a := New(pr, 2, 1<<20)
	defer func() { pw.Close(); a.Close() }()
	got := make(chan int, 1)
	go func() {
		n, _ := io.ReadFull(a, make([]byte, firstChunk))
		got <- n
	}()
	select {
	case n := <-got:
		if n != firstChunk {
			t.Fatalf("read %d bytes, want %d", n, firstChunk)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first chunk was not handed on before the stream gave a whole chunk")
	}
}
