package rsync

import (
	"bytes"
	"sort"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// holeFile is content with a map of its data: data holds the start and end
// of each data range, in order; everything else is zeros.
type holeFile struct {
	b     []byte
	data  [][2]int64
	reads int64
}

func (h *holeFile) ReadAt(p []byte, off int64) (int, error) {
	h.reads += int64(len(p))
	return bytes.NewReader(h.b).ReadAt(p, off)
}

func (h *holeFile) NextData(off int64) (int64, error) {
	i := sort.Search(len(h.data), func(i int) bool { return h.data[i][1] > off })
	if i == len(h.data) {
		return int64(len(h.b)), nil
	}
	return max(off, h.data[i][0]), nil
}

// TestSignFileSkipsHoles checks that SignFile gives the same hash and
// signature with a DataFinder as without, whatever the holes' alignment,
// and reads less.
func TestSignFileSkipsHoles(t *testing.T) {
	const size = 3*signSegment + 12345
	bs := format.BlockSize(size)
	tests := []struct {
		name string
		data [][2]int64
	}{
		{"all hole", nil},
		{"data at the start only", [][2]int64{{0, 100}}},
		{"data at the end only", [][2]int64{{size - 10, size}}},
		{"unaligned ranges", [][2]int64{{777, 5000}, {int64(bs)*40 + 3, int64(bs)*41 + 9}, {signSegment - 5, signSegment + 5}}},
		{"hole across segments", [][2]int64{{0, 10}, {2*signSegment + 1, 2*signSegment + 2}}},
		{"all data", [][2]int64{{0, size}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &holeFile{b: make([]byte, size), data: tt.data}
			for i, r := range tt.data {
				for j := r[0]; j < r[1]; j++ {
					h.b[j] = byte(j*7 + int64(i) + 1)
				}
			}
			wantHash, wantSig, err := Sign(bytes.NewReader(h.b), size, testKey)
			if err != nil {
				t.Fatal(err)
			}
			gotHash, gotSig, err := SignFile(h, size, 2, testKey)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotHash, wantHash) || !bytes.Equal(gotSig, wantSig) {
				t.Fatalf("hash %x, want %x (signatures equal: %v)", gotHash, wantHash, bytes.Equal(gotSig, wantSig))
			}
			var dataLen int64
			for _, r := range tt.data {
				dataLen += r[1] - r[0]
			}
			if limit := dataLen + int64(len(tt.data)+2)*(signChunk+int64(bs)) + 1; h.reads > limit {
				t.Errorf("read %d bytes for %d of data, want at most %d", h.reads, dataLen, limit)
			}
			t.Logf("read %d of %d bytes", h.reads, size)
		})
	}
}
