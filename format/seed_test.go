package format

import (
	"bytes"
	"io"
	"testing"
)

// TestSeedHeader checks the seed rules of a header: none or SeedLen bytes,
// and none in a delta stream, whose archive would give it away.
func TestSeedHeader(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		seed []byte
		ok   bool
	}{
		{"index with a seed", KindIndex, goldenSeed, true},
		{"index without a seed", KindIndex, nil, true},
		{"diff with a seed", KindDiff, goldenSeed, true},
		{"short seed", KindIndex, goldenSeed[:15], false},
		{"long seed", KindDiff, append(bytes.Clone(goldenSeed), 0), false},
		{"delta with a seed", KindDelta, goldenSeed, false},
		{"delta without a seed", KindDelta, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewWriter(io.Discard, Header{Kind: tt.kind, Seed: tt.seed}, WriterOptions{})
			if (err == nil) != tt.ok {
				t.Errorf("NewWriter: %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// TestSignatureNeedsSeed checks that neither a Writer nor a Reader lets a
// signature through in a stream without a seed: ibt-delta could not match
// against it.
func TestSignatureNeedsSeed(t *testing.T) {
	update := &Change{Op: OpUpdate, Old: tool, New: newTool}
	t.Run("writer index", func(t *testing.T) {
		w, err := NewWriter(io.Discard, Header{Kind: KindIndex}, WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteEntry(stripped(tool)); err != nil {
			t.Fatalf("an entry without a signature: %v", err)
		}
		if err := w.WriteEntry(docCopy); err != nil {
			t.Fatalf("a second entry without a signature: %v", err)
		}
		w2, _ := NewWriter(io.Discard, Header{Kind: KindIndex}, WriterOptions{})
		if err := w2.WriteEntry(tool); !errContains(err, "no signature seed") {
			t.Errorf("WriteEntry with a signature = %v, want a missing seed", err)
		}
	})
	t.Run("writer diff", func(t *testing.T) {
		w, err := NewWriter(io.Discard, Header{Kind: KindDiff}, WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteChange(update); !errContains(err, "no signature seed") {
			t.Errorf("WriteChange with a signature = %v, want a missing seed", err)
		}
	})
	t.Run("reader diff", func(t *testing.T) {
		s := rawStreamOf(Header{Kind: KindDiff, Tool: "raw"}, frameOf(tagChange, update))
		r, err := NewReader(bytes.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); !errContains(err, "no signature seed") {
			t.Errorf("Next = %v, want a missing seed", err)
		}
	})
	t.Run("reader diff with a seed", func(t *testing.T) {
		s := rawStreamOf(Header{Kind: KindDiff, Seed: goldenSeed, Tool: "raw"}, frameOf(tagChange, update))
		r, err := NewReader(bytes.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Errorf("Next = %v", err)
		}
		if !bytes.Equal(r.Header().Seed, goldenSeed) {
			t.Errorf("seed %x, want %x", r.Header().Seed, goldenSeed)
		}
	})
}
