package rsync

import (
	"bytes"
	"testing"
)

// FuzzSignDeltaPatch: for any old and new content and block size, signing
// old, taking the delta of new and patching old rebuilds new exactly.
func FuzzSignDeltaPatch(f *testing.F) {
	base := randBytes(40, 700)
	f.Add([]byte{}, []byte{}, uint8(1))
	f.Add([]byte("hello"), []byte("hello"), uint8(4))
	f.Add(base, base, uint8(16))
	f.Add(base, append([]byte{1}, base...), uint8(16))
	f.Add(base, base[:500], uint8(32))
	f.Add(base, append(bytes.Clone(base[:300]), base[200:]...), uint8(7))
	f.Add(base, bytes.Repeat(base[:64], 20), uint8(64))
	f.Add(bytes.Repeat([]byte{0}, 1000), bytes.Repeat([]byte{0}, 1333), uint8(8))
	f.Add(base[:100], randBytes(41, 400), uint8(3))
	f.Fuzz(func(t *testing.T, old, new []byte, bs uint8) {
		roundTrip(t, old, new, int(bs)%128+1)
	})
}
