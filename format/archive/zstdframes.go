package archive

import (
	"io"

	"github.com/klauspost/compress/zstd"
)

// zstdFrames compresses its input as a sequence of independent Zstandard
// frames of frameSize bytes of input each (the last one shorter), encoding
// up to jobs of them at once, each on a goroutine of its own, and writing
// them in order. One frame at a time leaves all but one core idle (the
// encoder finds the matches of a block on one goroutine); zstd -T0 splits
// its input the same way. A frame is encoded alone, so the archive is the
// same whatever the number of jobs. Close writes what is left, and an
// empty frame if nothing was written at all.
type zstdFrames struct {
	w         io.Writer
	enc       *zstd.Encoder // EncodeAll is safe on several goroutines
	frameSize int
	jobs      int
	buf       []byte       // the frame being filled
	pending   []*zstdFrame // encoding or encoded, in input order
	free      [][]byte     // input buffers to reuse
	out       [][]byte     // output buffers to reuse
	wrote     bool         // some frame was written
	err       error        // the first error of w; final
}

type zstdFrame struct {
	src, dst []byte
	done     chan struct{}
}

func newZstdFrames(w io.Writer, enc *zstd.Encoder, frameSize, jobs int) *zstdFrames {
	return &zstdFrames{w: w, enc: enc, frameSize: frameSize, jobs: max(1, jobs)}
}

func (z *zstdFrames) Write(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	n := 0
	for len(p) > 0 {
		if z.buf == nil {
			z.buf = z.take(&z.free, z.frameSize)
		}
		k := copy(z.buf[len(z.buf):z.frameSize], p)
		z.buf = z.buf[:len(z.buf)+k]
		p, n = p[k:], n+k
		if len(z.buf) == z.frameSize {
			if err := z.send(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// take returns an empty buffer from pool, or a new one of capacity size.
func (z *zstdFrames) take(pool *[][]byte, size int) []byte {
	if n := len(*pool); n > 0 {
		b := (*pool)[n-1]
		*pool = (*pool)[:n-1]
		return b[:0]
	}
	return make([]byte, 0, size)
}

// send starts encoding the frame being filled, first writing out the
// oldest frames while jobs are encoding.
func (z *zstdFrames) send() error {
	for len(z.pending) >= z.jobs {
		if err := z.writeOldest(); err != nil {
			return err
		}
	}
	f := &zstdFrame{src: z.buf, dst: z.take(&z.out, z.frameSize+z.frameSize>>7), done: make(chan struct{})}
	z.buf = nil
	z.pending = append(z.pending, f)
	go func() {
		f.dst = z.enc.EncodeAll(f.src, f.dst)
		close(f.done)
	}()
	return nil
}

// writeOldest waits for the oldest frame and writes it.
func (z *zstdFrames) writeOldest() error {
	f := z.pending[0]
	<-f.done
	z.pending = z.pending[1:]
	z.free = append(z.free, f.src)
	defer func() { z.out = append(z.out, f.dst) }()
	if z.err != nil {
		return z.err
	}
	if _, err := z.w.Write(f.dst); err != nil {
		z.err = err
		return err
	}
	z.wrote = true
	return nil
}

// Close encodes and writes what is left; it does not close w.
func (z *zstdFrames) Close() error {
	if len(z.buf) > 0 || !z.wrote && len(z.pending) == 0 {
		if z.buf == nil {
			z.buf = []byte{}
		}
		if err := z.send(); err != nil {
			z.drain()
			return err
		}
	}
	for len(z.pending) > 0 {
		if err := z.writeOldest(); err != nil {
			z.drain()
			return err
		}
	}
	return z.err
}

// drain waits for the frames still encoding, which then write nothing.
func (z *zstdFrames) drain() {
	for _, f := range z.pending {
		<-f.done
	}
	z.pending = nil
}
