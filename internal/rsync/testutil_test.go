package rsync

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// result is what a sign → delta → patch round trip produced.
type result struct {
	rebuilt  []byte
	ops      []Op // Data copied
	literal  int64
	sigBytes int
}

// roundTrip signs old with blocks of bs bytes (always signing when there are
// blocks), makes the delta of new and applies it to old.
func roundTrip(t testing.TB, old, new []byte, bs int) result {
	t.Helper()
	_, sig, err := sign(bytes.NewReader(old), int64(len(old)), bs, true, testKey)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	s, err := ParseSignature(sig, bs, int64(len(old)), testKey)
	if err != nil {
		t.Fatalf("parse signature: %v", err)
	}
	var out bytes.Buffer
	p := NewPatcher(bytes.NewReader(old), int64(len(old)), &out, int64(len(new)))
	res := result{sigBytes: len(sig)}
	err = Delta(s, bytes.NewReader(new), func(op Op) error {
		if op.Kind == OpLiteral {
			res.literal += int64(len(op.Data))
			if len(op.Data) > MaxLiteral || len(op.Data) == 0 || op.Length != int64(len(op.Data)) {
				t.Errorf("literal of %d bytes, Length %d", len(op.Data), op.Length)
			}
		}
		c := op
		c.Data = bytes.Clone(op.Data)
		res.ops = append(res.ops, c)
		return p.Apply(op)
	})
	if err != nil {
		t.Fatalf("delta: %v", err)
	}
	if p.Written() != int64(out.Len()) {
		t.Errorf("Written() = %d, wrote %d", p.Written(), out.Len())
	}
	res.rebuilt = out.Bytes()
	if !bytes.Equal(res.rebuilt, new) {
		t.Fatalf("rebuilt %d bytes differ from the new %d bytes", len(res.rebuilt), len(new))
	}
	for i := 1; i < len(res.ops); i++ {
		a, b := res.ops[i-1], res.ops[i]
		if a.Kind == OpCopy && b.Kind == OpCopy && a.Offset+a.Length == b.Offset {
			t.Errorf("adjacent copies %d+%d and %d not merged", a.Offset, a.Length, b.Offset)
		}
	}
	return res
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func cat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

// testKey keys the strong sums of the tests' signatures.
var (
	testSeed = []byte("ibt rsync tests!")
	testKey  = mustKey(testSeed)
)

func mustKey(seed []byte) *format.StrongKey {
	k, err := format.NewStrongKey(seed)
	if err != nil {
		panic(err)
	}
	return k
}
