package rsync

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/streamtest"
)

// deltaCase is an old file of a little under three delta segments and new
// contents made from it.
var deltaCase = sync.OnceValue(func() (d struct{ old, edited, random []byte }) {
	d.old = randBytes(70, 2*deltaSegment+9_000_001)
	d.edited = bytes.Clone(d.old)
	noise := randBytes(71, 64<<10)
	// Page rewrites, one on each segment boundary.
	for _, at := range []int{4096, 5 << 20, deltaSegment - 2048, 2*deltaSegment - 100, 2*deltaSegment + 4_000_000} {
		copy(d.edited[at:], noise[:4096])
	}
	// Insertions and a deletion of odd lengths, so old blocks straddle the
	// segment boundaries of the new file.
	ins := func(at, n int) {
		d.edited = append(d.edited[:at:at], append(bytes.Clone(noise[:n]), d.edited[at:]...)...)
	}
	ins(1<<20, 1001)
	ins(deltaSegment-5, 333)
	d.edited = append(d.edited[:20<<20:20<<20], d.edited[20<<20+777:]...)
	ins(40<<20, 50_000)
	d.random = randBytes(72, 2*deltaSegment+3000)
	return d
})

// deltaFileOps runs DeltaFile and returns its ops, with Data copied, after
// checking that they rebuild new from old and that the hash is new's.
func deltaFileOps(t *testing.T, s *Signature, old, new []byte, workers int) (ops []Op, literal int64) {
	t.Helper()
	var out bytes.Buffer
	p := NewPatcher(bytes.NewReader(old), int64(len(old)), &out, int64(len(new)))
	hash, err := DeltaFile(s, bytes.NewReader(new), int64(len(new)), workers, func(op Op) error {
		if op.Kind == OpLiteral {
			literal += op.Length
			if op.Length == 0 || op.Length > MaxLiteral || op.Length != int64(len(op.Data)) {
				t.Errorf("literal of %d bytes, Length %d", len(op.Data), op.Length)
			}
		}
		c := op
		c.Data = bytes.Clone(op.Data)
		ops = append(ops, c)
		return p.Apply(op)
	})
	if err != nil {
		t.Fatalf("DeltaFile with %d workers: %v", workers, err)
	}
	if !bytes.Equal(out.Bytes(), new) {
		t.Fatalf("DeltaFile with %d workers rebuilt %d bytes that differ from the new %d", workers, out.Len(), len(new))
	}
	if want := hashByDefinition(new, format.BlockSize(int64(len(new)))); !bytes.Equal(hash, want) {
		t.Errorf("DeltaFile with %d workers hash = %x, want %x", workers, hash, want)
	}
	for i := 1; i < len(ops); i++ {
		a, b := ops[i-1], ops[i]
		if a.Kind == OpCopy && b.Kind == OpCopy && a.Offset+a.Length == b.Offset {
			t.Errorf("adjacent copies %d+%d and %d not merged", a.Offset, a.Length, b.Offset)
		}
	}
	return ops, literal
}

func TestDeltaFileRebuildsAndIsDeterministic(t *testing.T) {
	d := deltaCase()
	s := sigOf(t, d.old)
	tests := []struct {
		name    string
		s       *Signature
		new     []byte
		workers []int
	}{
		{"edited", s, d.edited, []int{1, 2, 3, 8}},
		{"random", s, d.random, []int{1, 2}},
		{"no signature", nil, d.edited, []int{1, 3}},
		{"small", s, d.edited[:3<<20], []int{1, 2}},
		{"exactly one segment", s, d.edited[:deltaSegment], []int{2}},
		{"one segment and a byte", s, d.edited[:deltaSegment+1], []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Delta's literal on the whole content, plus at most a block a
			// segment boundary, is the most the segments may send.
			var seqLit int64
			if err := Delta(tt.s, bytes.NewReader(tt.new), func(op Op) error {
				seqLit += int64(len(op.Data))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			boundaries := (int64(len(tt.new)) - 1) / deltaSegment
			var first []Op
			for _, w := range tt.workers {
				ops, lit := deltaFileOps(t, tt.s, d.old, tt.new, w)
				if tt.s != nil && lit > seqLit+boundaries*int64(tt.s.BlockSize()) {
					t.Errorf("%d workers: %d bytes of literal, Delta alone %d", w, lit, seqLit)
				}
				if first == nil {
					first = ops
					continue
				}
				if !opsEqual(ops, first) {
					t.Errorf("%d workers: %d ops differ from the %d ops with %d workers", w, len(ops), len(first), tt.workers[0])
				}
			}
		})
	}
}

func opsEqual(a, b []Op) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Kind != b[i].Kind || a[i].Offset != b[i].Offset || a[i].Length != b[i].Length || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

func sigOf(t testing.TB, old []byte) *Signature {
	t.Helper()
	_, sig, err := Sign(bytes.NewReader(old), int64(len(old)), testKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSignature(sig, format.BlockSize(int64(len(old))), int64(len(old)), testKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDeltaFileErrors(t *testing.T) {
	d := deltaCase()
	s := sigOf(t, d.old)
	bad := errors.New("disk on fire")
	n := int64(len(d.edited))
	tests := []struct {
		name string
		r    *errReaderAt
		size int64
		want error
	}{
		{"shorter", &errReaderAt{data: d.edited[:n-1], off: n, err: bad}, n, ErrSizeChanged},
		{"shorter by a segment", &errReaderAt{data: d.edited[:deltaSegment+10], off: n, err: bad}, n, ErrSizeChanged},
		{"longer", &errReaderAt{data: d.edited, off: n + 1, err: bad}, n - 1, ErrSizeChanged},
		{"small and longer", &errReaderAt{data: d.edited, off: n + 1, err: bad}, 5000, ErrSizeChanged},
		{"read error", &errReaderAt{data: d.edited, off: deltaSegment + 3, err: bad}, n, bad},
	}
	for _, tt := range tests {
		for _, w := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/%d workers", tt.name, w), func(t *testing.T) {
				_, err := DeltaFile(s, tt.r, tt.size, w, func(Op) error { return nil })
				if !errors.Is(err, tt.want) {
					t.Fatalf("DeltaFile = %v, want %v", err, tt.want)
				}
			})
		}
	}
	stop := errors.New("stop")
	for _, w := range []int{1, 3} {
		calls := 0
		_, err := DeltaFile(s, bytes.NewReader(d.random), int64(len(d.random)), w, func(Op) error {
			if calls++; calls == 5 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 5 {
			t.Errorf("DeltaFile with %d workers = %v after %d ops, want emit's error after 5", w, err, calls)
		}
	}
}

func BenchmarkDeltaFile(b *testing.B) {
	d := benchData()
	s := benchSignature(b, d.old)
	for _, tt := range []struct {
		name string
		new  []byte
	}{
		{"matching", d.edited},
		{"random", d.random},
	} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", tt.name, workers), func(b *testing.B) {
				b.SetBytes(int64(len(tt.new)))
				c := streamtest.CPUTime()
				for b.Loop() {
					_, err := DeltaFile(s, bytes.NewReader(tt.new), int64(len(tt.new)), workers, func(Op) error { return nil })
					if err != nil {
						b.Fatal(err)
					}
				}
				streamtest.ReportCPU(b, c, int64(len(tt.new)))
			})
		}
	}
}

// TestDeltaFileUncovered: a small file grown past what its strong sums
// cover is sent whole, though every block of it would match, while one
// grown less still matches.
func TestDeltaFileUncovered(t *testing.T) {
	old := randBytes(80, 641)
	_, sigBytes, err := Sign(bytes.NewReader(old), int64(len(old)), testKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSignature(sigBytes, format.BlockSize(641), 641, testKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		copies  int
		covered bool
	}{{256, true}, {16 << 10, false}} {
		new := bytes.Repeat(old, tt.copies)
		if got := s.Covers(int64(len(new))); got != tt.covered {
			t.Fatalf("Covers(%d bytes) = %t, want %t", len(new), got, tt.covered)
		}
		_, literal := deltaFileOps(t, s, old, new, 2)
		if sent := literal == int64(len(new)); sent == tt.covered {
			t.Errorf("%d copies of the old file: %d of %d bytes sent as literal", tt.copies, literal, len(new))
		}
	}
}
