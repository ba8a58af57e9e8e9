package format

import (
	"bytes"
	"io"
	"reflect"
	"testing"
)

// bigSigStreams returns an index and a diff stream of a file whose
// signature is well past maxRetained, with small records around it, and the
// big entry.
func bigSigStreams(t *testing.T) (index, diff []byte, big *Entry) {
	t.Helper()
	const size = 3 << 30 // 3 GiB in 32 KiB blocks: 1.9 MB of signature
	big = &Entry{Path: "disk.img", Type: TypeFile, Mode: 0o644, MTime: t0, Size: size, Hash: sum("disk"), BlockSize: 32 << 10, Sig: sigOf(size, 32<<10)}
	before := &Entry{Path: "a", Type: TypeFile, Mode: 0o644, MTime: t0, Size: 5000, Hash: sum("a"), BlockSize: 2048, Sig: sigOf(5000, 2048)}
	after := &Entry{Path: "z", Type: TypeDir, Mode: 0o755, MTime: t0}

	var ib bytes.Buffer
	w, err := NewWriter(&ib, Header{Kind: KindIndex, Seed: testSeed(KindIndex), Tool: "test"}, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*Entry{before, big, after} {
		if err := w.WriteEntry(e); err != nil {
			t.Fatal(err)
		}
		if cap(w.rec) > maxRetained {
			t.Fatalf("the writer keeps a buffer of %d bytes after %q", cap(w.rec), e.Path)
		}
	}
	if err := w.Close(Trailer{}); err != nil {
		t.Fatal(err)
	}

	var db bytes.Buffer
	w, err = NewWriter(&db, Header{Kind: KindDiff, Seed: testSeed(KindDiff), Tool: "test"}, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	newBig := stripped(big)
	newBig.MTime++
	newBig.Hash = sum("disk v2")
	for _, c := range []*Change{{Op: OpUpdate, Old: before, New: stripped(before)}, {Op: OpUpdate, Old: big, New: newBig}, {Op: OpCreate, New: after}} {
		if err := w.WriteChange(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(Trailer{}); err != nil {
		t.Fatal(err)
	}
	return ib.Bytes(), db.Bytes(), big
}

// entriesOf returns the entries of the records of a stream: each entry, or
// each change's old entry.
func entriesOf(t *testing.T, data []byte, skip bool) []*Entry {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if skip {
		r.SkipSignatures()
	}
	var es []*Entry
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return es
		}
		if err != nil {
			t.Fatal(err)
		}
		if cap(r.buf) > maxRetained {
			t.Fatalf("the reader keeps a buffer of %d bytes", cap(r.buf))
		}
		switch rec := rec.(type) {
		case *Entry:
			es = append(es, rec)
		case *Change:
			if rec.New != nil && rec.New.Sig != nil {
				t.Errorf("change of %q: a new entry with a signature", rec.Path())
			}
			if rec.Old != nil {
				es = append(es, rec.Old)
			}
		}
	}
}

func TestBigRecordRoundTrip(t *testing.T) {
	index, diff, big := bigSigStreams(t)
	for _, tt := range []struct {
		name string
		data []byte
	}{{"index", index}, {"diff", diff}} {
		t.Run(tt.name, func(t *testing.T) {
			es := entriesOf(t, tt.data, false)
			if len(es) < 2 || !bytes.Equal(es[1].Sig, big.Sig) || es[0].Sig == nil {
				t.Fatalf("the signatures read back differ from those written")
			}
			// A signature read in place must not reach into what follows.
			before := bytes.Clone(es[1].Sig)
			_ = append(es[0].Sig, 0xff)
			_ = append(es[1].Sig, 0xff)
			if !bytes.Equal(es[1].Sig, before) {
				t.Fatal("an append to one signature changed another")
			}
			again, err := reencode(tt.data, false)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, tt.data) {
				t.Error("the stream written again differs")
			}
		})
	}
}

func TestSkipSignatures(t *testing.T) {
	index, diff, _ := bigSigStreams(t)
	for _, data := range [][]byte{index, diff} {
		full, skipped := entriesOf(t, data, false), entriesOf(t, data, true)
		if len(full) != len(skipped) {
			t.Fatalf("%d entries with signatures, %d without", len(full), len(skipped))
		}
		for i, e := range skipped {
			if e.Sig != nil {
				t.Errorf("entry %q: signature of %d bytes kept", e.Path, len(e.Sig))
			}
			if !reflect.DeepEqual(e, stripped(full[i])) {
				t.Errorf("entry %q differs from the one read with its signature", e.Path)
			}
		}
	}
}

// TestSkipSignaturesChecks: a signature that is not read is checked all
// the same, and refused as it is when read.
func TestSkipSignaturesChecks(t *testing.T) {
	e := &Entry{Path: "f", Type: TypeFile, Mode: 0o644, MTime: t0, Size: 5000, Hash: sum("f"), BlockSize: 2048, Sig: sigOf(5000, 2048)}
	good := appendEntry(nil, e)
	sigAt := bytes.LastIndex(good, []byte{0xa1, 'S'}) + 2 // where the bin starts
	tests := []struct {
		name string
		body []byte
	}{
		{"bin longer than the record", append(append(bytes.Clone(good[:sigAt]), 0xc4, 0xff), e.Sig...)},
		{"bin in a longer form than needed", append(append(bytes.Clone(good[:sigAt]), 0xc5, 0x00, byte(len(e.Sig))), e.Sig...)},
		{"empty signature written", append(bytes.Clone(good[:sigAt]), 0xc4, 0x00)},
		{"a str where the bin belongs", append(append(bytes.Clone(good[:sigAt]), 0xd9, byte(len(e.Sig))), e.Sig...)},
		{"bytes after the signature", append(bytes.Clone(good), 0x00)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := rawStream(KindIndex, append([]byte{tagEntry}, tt.body...))
			for _, skip := range []bool{false, true} {
				r, err := NewReader(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				if skip {
					r.SkipSignatures()
				}
				if _, err := r.Next(); err == nil {
					t.Errorf("skip %v: accepted", skip)
				}
			}
		})
	}
	data := rawStream(KindIndex, append([]byte{tagEntry}, good...))
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	r.SkipSignatures()
	if rec, err := r.Next(); err != nil || rec.(*Entry).Sig != nil {
		t.Fatalf("the well-formed entry: %v, %v", rec, err)
	}
}

// TestBigSigEncoding: a record with a big signature, written in pieces
// around it, is byte for byte the msgpack encoding of the record.
func TestBigSigEncoding(t *testing.T) {
	_, _, big := bigSigStreams(t)
	other := *big
	other.Path, other.Hash = "disk2.img", sum("disk2")
	tests := []struct {
		name string
		kind Kind
		rec  Record
	}{
		{"entry", KindIndex, big},
		{"old", KindDiff, &Change{Op: OpUpdate, Old: big, New: stripped(big)}},
		{"both", KindDiff, &Change{Op: OpReplace, Old: big, New: big}},
		{"new with a source", KindDiff, &Change{Op: OpCreate, New: &other, From: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, Header{Kind: tt.kind, Seed: testSeed(tt.kind), Tool: "raw"}, WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tag := byte(tagChange)
			if e, ok := tt.rec.(*Entry); ok {
				tag, err = tagEntry, w.WriteEntry(e)
			} else {
				err = w.WriteChange(tt.rec.(*Change))
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(Trailer{}); err != nil {
				t.Fatal(err)
			}
			if want := rawStream(tt.kind, frameOf(tag, tt.rec)); !bytes.Equal(buf.Bytes(), want) {
				t.Error("the stream differs from the msgpack encoding of the record")
			}
		})
	}
}

// TestBigSigTooBig: a record past MaxRecord is refused before it is
// written, and the stream goes on.
func TestBigSigTooBig(t *testing.T) {
	const bs = 4 << 20
	entryLen := int64(SigEntryLen(MaxRecord/8*bs, bs))
	size := (MaxRecord/entryLen + 1) * bs
	e := &Entry{Path: "huge", Type: TypeFile, Mode: 0o644, MTime: t0, Size: size, Hash: sum("huge"), BlockSize: bs, Sig: make([]byte, size/bs*int64(SigEntryLen(size, bs)))}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Kind: KindIndex, Seed: testSeed(KindIndex), Tool: "raw"}, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEntry(e); !errContains(err, "more than the") {
		t.Fatalf("got %v, want the record refused", err)
	}
	if err := w.WriteEntry(&Entry{Path: "a", Type: TypeDir, Mode: 0o755, MTime: t0}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(Trailer{}); err != nil {
		t.Fatal(err)
	}
}
