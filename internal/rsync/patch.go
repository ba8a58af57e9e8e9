package rsync

import (
	"errors"
	"fmt"
	"io"
)

// ErrInvalidOp reports an operation a Patcher refuses: an unknown kind, a
// copy outside the base, or output beyond its limit.
var ErrInvalidOp = errors.New("invalid delta operation")

// patchChunk bounds the buffer a Patcher copies through.
const patchChunk = 1 << 20

// BufferWriter is an output with a buffer of its own, which a Patcher reads
// copies straight into instead of passing them through a buffer of its own.
type BufferWriter interface {
	io.Writer
	// Buffer returns free space for what comes next, at least one byte; an
	// error is one writing out what the buffer held.
	Buffer() ([]byte, error)
	// Commit adds the first n bytes of the last Buffer to the output.
	Commit(n int)
}

// RangeCopier is an output that takes a copy from the base itself, by its
// position, instead of being given the bytes: a file that starts as a clone
// of the base already holds a copy from the same offset, and the kernel can
// copy (or share) the others. The Patcher still checks every copy against
// the base's bounds and the output's limit first.
type RangeCopier interface {
	io.Writer
	// CopyRange appends length bytes of the base, from offset off.
	CopyRange(off, length int64) error
}

// Patcher applies operations to rebuild a file: copies read from the base,
// literals are written through. It never reads outside the base nor writes
// more than its limit, whatever the operations say.
type Patcher struct {
	base     io.ReaderAt
	baseSize int64
	out      io.Writer
	maxOut   int64
	written  int64
	buf      []byte
}

// NewPatcher returns a Patcher copying from base, of baseSize bytes, and
// writing to out at most maxOut bytes.
func NewPatcher(base io.ReaderAt, baseSize int64, out io.Writer, maxOut int64) *Patcher {
	return &Patcher{base: base, baseSize: baseSize, out: out, maxOut: maxOut}
}

// Written returns the number of bytes written so far.
func (p *Patcher) Written() int64 { return p.written }

// Apply applies one operation. It returns an error wrapping ErrInvalidOp for
// an operation it refuses, before writing anything of it.
func (p *Patcher) Apply(op Op) error {
	switch op.Kind {
	case OpLiteral:
		if int64(len(op.Data)) > p.maxOut-p.written {
			return fmt.Errorf("patch: literal of %d bytes after %d exceeds the output limit %d: %w", len(op.Data), p.written, p.maxOut, ErrInvalidOp)
		}
		n, err := p.out.Write(op.Data)
		p.written += int64(n)
		if err != nil {
			return fmt.Errorf("patch: write: %w", err)
		}
		return nil
	case OpCopy:
		if op.Offset < 0 || op.Length < 0 || op.Offset > p.baseSize || op.Length > p.baseSize-op.Offset {
			return fmt.Errorf("patch: copy of %d bytes at %d outside the base of %d bytes: %w", op.Length, op.Offset, p.baseSize, ErrInvalidOp)
		}
		if op.Length > p.maxOut-p.written {
			return fmt.Errorf("patch: copy of %d bytes after %d exceeds the output limit %d: %w", op.Length, p.written, p.maxOut, ErrInvalidOp)
		}
		return p.copy(op.Offset, op.Length)
	default:
		return fmt.Errorf("patch: operation kind %d: %w", op.Kind, ErrInvalidOp)
	}
}

func (p *Patcher) copy(off, length int64) error {
	if rc, ok := p.out.(RangeCopier); ok {
		if err := rc.CopyRange(off, length); err != nil {
			return fmt.Errorf("patch: copy %d bytes from %d of the base: %w", length, off, err)
		}
		p.written += length
		return nil
	}
	if bw, ok := p.out.(BufferWriter); ok {
		return p.copyInto(bw, off, length)
	}
	if want := int(min(length, patchChunk)); len(p.buf) < want {
		p.buf = make([]byte, want)
	}
	for length > 0 {
		c := p.buf[:min(int64(len(p.buf)), length)]
		n, err := p.base.ReadAt(c, off)
		if n < len(c) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("patch: read base at %d: %w", off, err)
		}
		w, err := p.out.Write(c)
		p.written += int64(w)
		if err != nil {
			return fmt.Errorf("patch: write: %w", err)
		}
		off += int64(len(c))
		length -= int64(len(c))
	}
	return nil
}

// copyInto is copy for an output that lends its buffer.
func (p *Patcher) copyInto(bw BufferWriter, off, length int64) error {
	for length > 0 {
		b, err := bw.Buffer()
		if err != nil {
			return fmt.Errorf("patch: write: %w", err)
		}
		c := b[:min(int64(len(b)), length)]
		n, err := p.base.ReadAt(c, off)
		if n < len(c) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("patch: read base at %d: %w", off, err)
		}
		bw.Commit(len(c))
		p.written += int64(len(c))
		off += int64(len(c))
		length -= int64(len(c))
	}
	return nil
}
