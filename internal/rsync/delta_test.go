package rsync

import (
	"bytes"
	"errors"
	"testing"
)

func TestDeltaEdgeCases(t *testing.T) {
	const bs = 64
	old := randBytes(1, 50*bs+17)
	changed := bytes.Clone(old)
	for i := range changed {
		changed[i] ^= 0x5a
	}
	zeros := make([]byte, 40*bs)
	tests := []struct {
		name       string
		old, new   []byte
		maxLiteral int64 // literal bytes the delta may send
		maxOps     int
	}{
		{"both empty", nil, nil, 0, 0},
		{"old empty", nil, old[:300], 300, 1},
		{"new empty", old, nil, 0, 0},
		{"shorter than a block, same", old[:bs-1], old[:bs-1], 0, 1},
		{"shorter than a block, changed", old[:bs-1], changed[:bs-1], bs - 1, 1},
		{"identical", old, old, 0, 1},
		{"identical, whole blocks", old[:20*bs], old[:20*bs], 0, 1},
		{"one byte inserted at start", old, cat([]byte{7}, old), 1, 2},
		{"one byte inserted in the middle", old, cat(old[:1000], []byte{7}, old[1000:]), bs + 1, 3},
		{"appended", old[:20*bs], cat(old[:20*bs], []byte("tail")), 4, 2},
		{"appended after a short block", old, cat(old, []byte("tail")), 17 + 4, 2},
		{"truncated", old, old[:len(old)-100], bs, 2},
		{"front cut", old, old[100:], bs, 2},
		{"all bytes changed", old, changed, int64(len(changed)), 1},
		{"repeated blocks", zeros, cat(zeros, zeros), 0, 2},
		{"repeated blocks, shifted", zeros, cat([]byte{1}, zeros[:3*bs+5]), 1 + 5, 3},
		{"blocks reordered", old[:10*bs], cat(old[5*bs:10*bs], old[:5*bs]), 0, 2},
		{"block repeated", old[:10*bs], cat(old[:10*bs], old[2*bs:3*bs]), 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := roundTrip(t, tt.old, tt.new, bs)
			if r.literal > tt.maxLiteral {
				t.Errorf("literal %d bytes, want at most %d", r.literal, tt.maxLiteral)
			}
			if len(r.ops) > tt.maxOps {
				t.Errorf("%d ops, want at most %d: %+v", len(r.ops), tt.maxOps, r.ops)
			}
		})
	}
}

func TestDeltaLongLiteralIsChunked(t *testing.T) {
	old := randBytes(2, 4096)
	new := randBytes(3, 3*MaxLiteral+5)
	r := roundTrip(t, old, new, 1024)
	for _, op := range r.ops {
		if op.Kind != OpLiteral {
			t.Fatalf("op %+v, want only literals", op.Kind)
		}
	}
}

func TestDeltaWithoutSignature(t *testing.T) {
	new := randBytes(4, MaxLiteral+10)
	var got []byte
	err := Delta(nil, bytes.NewReader(new), func(op Op) error {
		if op.Kind != OpLiteral || len(op.Data) > MaxLiteral {
			t.Errorf("op kind %d with %d bytes", op.Kind, len(op.Data))
		}
		got = append(got, op.Data...)
		return nil
	})
	if err != nil || !bytes.Equal(got, new) {
		t.Fatalf("Delta(nil) = %v, %d bytes; want the %d bytes as literals", err, len(got), len(new))
	}
}

func TestDeltaStopsOnEmitError(t *testing.T) {
	old := randBytes(5, 10000)
	_, sig, _ := sign(bytes.NewReader(old), int64(len(old)), 1024, true, testKey)
	s, err := ParseSignature(sig, 1024, int64(len(old)), testKey)
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	calls := 0
	err = Delta(s, bytes.NewReader(randBytes(6, 10000)), func(Op) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Delta = %v after %d calls, want the emit error after 1", err, calls)
	}
}

func TestDeltaReadError(t *testing.T) {
	old := randBytes(5, 10000)
	_, sig, _ := sign(bytes.NewReader(old), int64(len(old)), 1024, true, testKey)
	s, _ := ParseSignature(sig, 1024, int64(len(old)), testKey)
	bad := errors.New("disk on fire")
	err := Delta(s, &failingReader{data: old[:3000], err: bad}, func(Op) error { return nil })
	if !errors.Is(err, bad) {
		t.Fatalf("Delta = %v, want the read error", err)
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}
