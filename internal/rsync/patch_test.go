package rsync

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestPatcherRefuses(t *testing.T) {
	base := []byte("0123456789")
	tests := []struct {
		name   string
		maxOut int64
		ops    []Op
	}{
		{"copy past the end", 100, []Op{{Kind: OpCopy, Offset: 5, Length: 6}}},
		{"copy starting past the end", 100, []Op{{Kind: OpCopy, Offset: 11, Length: 0}}},
		{"copy at a negative offset", 100, []Op{{Kind: OpCopy, Offset: -1, Length: 2}}},
		{"copy of negative length", 100, []Op{{Kind: OpCopy, Offset: 2, Length: -1}}},
		{"copy overflowing int64", 100, []Op{{Kind: OpCopy, Offset: 5, Length: 1<<63 - 1}}},
		{"copy beyond the output limit", 4, []Op{{Kind: OpCopy, Offset: 0, Length: 5}}},
		{"literal beyond the output limit", 4, []Op{{Kind: OpLiteral, Length: 5, Data: []byte("abcde")}}},
		{"output limit reached by several ops", 12, []Op{
			{Kind: OpCopy, Offset: 0, Length: 10},
			{Kind: OpLiteral, Length: 3, Data: []byte("abc")},
		}},
		{"unknown kind", 100, []Op{{Kind: 9}}},
		{"zero kind", 100, []Op{{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := NewPatcher(bytes.NewReader(base), int64(len(base)), &out, tt.maxOut)
			var err error
			for _, op := range tt.ops {
				before := out.Len()
				if err = p.Apply(op); err != nil {
					if out.Len() != before {
						t.Errorf("refused op wrote %d bytes", out.Len()-before)
					}
					break
				}
			}
			if !errors.Is(err, ErrInvalidOp) {
				t.Fatalf("Apply = %v, want ErrInvalidOp", err)
			}
			if p.Written() != int64(out.Len()) || p.Written() > tt.maxOut {
				t.Errorf("Written() = %d, wrote %d, limit %d", p.Written(), out.Len(), tt.maxOut)
			}
		})
	}
}

func TestPatcherApplies(t *testing.T) {
	base := []byte("0123456789")
	var out bytes.Buffer
	p := NewPatcher(bytes.NewReader(base), int64(len(base)), &out, 13)
	for _, op := range []Op{
		{Kind: OpCopy, Offset: 7, Length: 3},
		{Kind: OpLiteral, Length: 1, Data: []byte("-")},
		{Kind: OpCopy, Offset: 0, Length: 0},
		{Kind: OpCopy, Offset: 10, Length: 0},
		{Kind: OpCopy, Offset: 0, Length: 9},
	} {
		if err := p.Apply(op); err != nil {
			t.Fatalf("Apply(%+v): %v", op, err)
		}
	}
	if got := out.String(); got != "789-012345678" || p.Written() != 13 {
		t.Fatalf("rebuilt %q (Written %d), want %q", got, p.Written(), "789-012345678")
	}
}

func TestPatcherShortBase(t *testing.T) {
	// A base shorter than announced (a file truncated under us) is an error,
	// not silently short output.
	var out bytes.Buffer
	p := NewPatcher(bytes.NewReader([]byte("0123")), 10, &out, 100)
	if err := p.Apply(Op{Kind: OpCopy, Offset: 2, Length: 5}); err == nil {
		t.Fatal("copy past the real end of the base succeeded")
	}
}

// smallBuffers is a BufferWriter lending a few bytes at a time.
type smallBuffers struct {
	out bytes.Buffer
	buf [3]byte
	n   int
}

func (s *smallBuffers) Write(p []byte) (int, error) { return s.out.Write(p) }
func (s *smallBuffers) Buffer() ([]byte, error)     { return s.buf[:], nil }
func (s *smallBuffers) Commit(n int)                { s.out.Write(s.buf[:n]); s.n++ }

// An output that lends its buffer gets copies read straight into it, in
// pieces of its buffer's size, with the same result.
func TestPatcherReadsIntoALentBuffer(t *testing.T) {
	base := []byte("0123456789")
	ops := []Op{
		{Kind: OpCopy, Offset: 7, Length: 3},
		{Kind: OpLiteral, Length: 1, Data: []byte("-")},
		{Kind: OpCopy, Offset: 0, Length: 10},
	}
	var plain bytes.Buffer
	var lent smallBuffers
	for _, out := range []io.Writer{&plain, &lent} {
		p := NewPatcher(bytes.NewReader(base), int64(len(base)), out, 14)
		for _, op := range ops {
			if err := p.Apply(op); err != nil {
				t.Fatal(err)
			}
		}
		if p.Written() != 14 {
			t.Errorf("Written() = %d, want 14", p.Written())
		}
	}
	if got, want := lent.out.String(), "789-0123456789"; got != want || plain.String() != want {
		t.Errorf("lent buffer gave %q, plain %q; want %q", got, plain.String(), want)
	}
	if lent.n != 5 {
		t.Errorf("%d buffers filled, want 5 (3 bytes, then 3+3+3+1)", lent.n)
	}
	if err := NewPatcher(bytes.NewReader(base), 12, &lent, 100).Apply(Op{Kind: OpCopy, Offset: 8, Length: 4}); err == nil ||
		!errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a base shorter than its size gave %v, want io.ErrUnexpectedEOF", err)
	}
}
