package format

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// TestWriterRefuses checks that the Writer refuses a stream a Reader would
// refuse, and that a refused record leaves the stream writable.
func TestWriterRefuses(t *testing.T) {
	file := func(p string, size int64) *Entry { return &Entry{Path: p, Type: TypeFile, Mode: 0o644, Size: size} }
	create := func(p string, size int64) *Change { return &Change{Op: OpCreate, New: file(p, size)} }
	upd := &Change{Op: OpUpdate, Old: file("u", 10), New: file("u", 4)}
	tests := []struct {
		name string
		kind Kind
		ok   func(w *Writer) error // records accepted before the bad one
		bad  func(w *Writer) error
		want string
	}{
		{"new file without hash", KindDiff, nil, func(w *Writer) error {
			old := file("m", 0)
			old.Hash = sum("")
			return w.WriteChange(&Change{Op: OpMeta, Old: old, New: file("m", 0)})
		}, "a new file without a content hash, where the old entry has one"},
		{"entry out of order", KindIndex, func(w *Writer) error { return w.WriteEntry(file("b", 0)) },
			func(w *Writer) error { return w.WriteEntry(file("a", 0)) }, `"a" after "b": records must be sorted`},
		{"entry twice", KindIndex, func(w *Writer) error { return w.WriteEntry(file("a", 0)) },
			func(w *Writer) error { return w.WriteEntry(file("a", 0)) }, `"a" after "a"`},
		{"slash sorts after dot", KindIndex, func(w *Writer) error { return w.WriteEntry(file("a/b", 0)) },
			func(w *Writer) error { return w.WriteEntry(file("a.b", 0)) }, `"a.b" after "a/b"`},
		{"bad path", KindIndex, nil, func(w *Writer) error { return w.WriteEntry(file("../x", 0)) }, `".." path component`},
		{"mode bits", KindIndex, nil, func(w *Writer) error { return w.WriteEntry(&Entry{Path: "a", Mode: 0o100644}) }, "bits beyond 07777"},
		{"dir with size", KindIndex, nil, func(w *Writer) error { return w.WriteEntry(&Entry{Path: "a", Type: TypeDir, Size: 4096}) }, "a dir has no size"},
		{"symlink without target", KindIndex, nil, func(w *Writer) error { return w.WriteEntry(&Entry{Path: "a", Type: TypeSymlink}) }, "symlink target"},
		{"unknown type", KindIndex, nil, func(w *Writer) error { return w.WriteEntry(&Entry{Path: "a", Type: MaxType + 1}) }, "unknown type 7"},
		{"fifo with device number", KindIndex, nil, func(w *Writer) error { return w.WriteEntry(&Entry{Path: "a", Type: TypeFIFO, Rdev: 1}) }, "a fifo with a device number"},
		{"file with device number", KindIndex, nil, func(w *Writer) error { return w.WriteEntry(&Entry{Path: "a", Rdev: 1}) }, "a file with a device number"},
		{"device with size", KindIndex, nil, func(w *Writer) error { return w.WriteEntry(&Entry{Path: "a", Type: TypeBlockDev, Size: 1}) }, "a blockdev has no size"},
		{"socket with target", KindIndex, nil, func(w *Writer) error { return w.WriteEntry(&Entry{Path: "a", Type: TypeSocket, Target: "x"}) }, "a socket with a symlink target"},
		{"fifo as hard link", KindIndex, nil, func(w *Writer) error { return w.WriteEntry(&Entry{Path: "b", Type: TypeFIFO, LinkTo: "a"}) }, "a fifo recorded as a hard link"},
		{"meta change of a device number", KindDiff, nil, func(w *Writer) error {
			return w.WriteChange(&Change{Op: OpMeta, Old: &Entry{Path: "d", Type: TypeCharDev, Rdev: MakeRdev(1, 3)}, New: &Entry{Path: "d", Type: TypeCharDev, Rdev: MakeRdev(1, 5)}})
		}, "metadata change of a device's number"},
		{"sig block count", KindIndex, nil, func(w *Writer) error {
			return w.WriteEntry(&Entry{Path: "a", Size: 100, BlockSize: 10, Sig: sigOf(90, 10)})
		}, "signature of 9 blocks, but 100 bytes in blocks of 10 make 10"},
		{"link to later path", KindIndex, nil, func(w *Writer) error {
			return w.WriteEntry(&Entry{Path: "a", LinkTo: "b"})
		}, "does not come before it"},
		{"change in index", KindIndex, nil, func(w *Writer) error { return w.WriteChange(create("a", 0)) }, "change record in an index stream"},
		{"skipped with signature", KindIndex, nil, func(w *Writer) error {
			return w.WriteEntry(&Entry{Path: "a", Size: 100, BlockSize: 10, Sig: sigOf(100, 10), Skipped: true})
		}, "a skipped entry (content unknown) is a file with no hash"},
		{"skipped old of an update", KindDiff, nil, func(w *Writer) error {
			return w.WriteChange(&Change{Op: OpUpdate, Old: &Entry{Path: "a", Skipped: true}, New: file("a", 1)})
		}, "a skipped entry (content unknown) as the old entry of a update change"},
		{"skipped new of a replace", KindDiff, nil, func(w *Writer) error {
			return w.WriteChange(&Change{Op: OpReplace, Old: &Entry{Path: "a", Skipped: true}, New: &Entry{Path: "a", Skipped: true}})
		}, "a skipped entry (content unknown) as the new entry of a replace change"},
		{"entry in diff", KindDiff, nil, func(w *Writer) error { return w.WriteEntry(file("a", 0)) }, "entry record in a diff stream"},
		{"literal in diff", KindDiff, func(w *Writer) error { return w.WriteChange(create("a", 1)) },
			func(w *Writer) error { return w.WriteLiteral([]byte("x")) }, "literal record in a diff stream"},
		{"op without new", KindDiff, nil, func(w *Writer) error { return w.WriteChange(&Change{Op: OpMeta, Old: file("a", 0)}) }, "meta with old entry true and new entry false"},
		{"unknown op", KindDiff, nil, func(w *Writer) error { return w.WriteChange(&Change{Op: 9, New: file("a", 0)}) }, "unknown op 9"},
		{"paths differ", KindDiff, nil, func(w *Writer) error {
			return w.WriteChange(&Change{Op: OpMeta, Old: file("a", 0), New: file("b", 0)})
		}, "old entry at another path"},
		{"update of dir", KindDiff, nil, func(w *Writer) error {
			return w.WriteChange(&Change{Op: OpUpdate, Old: &Entry{Path: "a", Type: TypeDir}, New: file("a", 0)})
		}, "update of a dir"},
		{"source on an update", KindDiff, nil, func(w *Writer) error {
			c := *upd
			c.From = "v"
			return w.WriteChange(&c)
		}, `a source path "v" on a change other than a created regular file`},
		{"source of a dir", KindDiff, nil, func(w *Writer) error {
			return w.WriteChange(&Change{Op: OpCreate, New: &Entry{Path: "d", Type: TypeDir}, From: "a"})
		}, "other than a created regular file"},
		{"source path escapes", KindDiff, nil, func(w *Writer) error {
			c := create("a", 3)
			c.From = "../etc/passwd"
			return w.WriteChange(c)
		}, `source path "../etc/passwd"`},
		{"new source after", KindDiff, nil, func(w *Writer) error {
			c := create("a", 3)
			c.From, c.FromNew = "b", true
			return w.WriteChange(c)
		}, `content from "b", which is not created before it`},
		{"data after a sourced create", KindDelta, func(w *Writer) error {
			c := create("a", 3)
			c.From = "z"
			return w.WriteChange(c)
		}, func(w *Writer) error { return w.WriteLiteral([]byte("abc")) }, "after a change without data"},
		{"literal without change", KindDelta, nil, func(w *Writer) error { return w.WriteLiteral([]byte("x")) }, "after a change without data"},
		{"literal after delete", KindDelta, func(w *Writer) error { return w.WriteChange(&Change{Op: OpDelete, Old: file("a", 1)}) },
			func(w *Writer) error { return w.WriteLiteral([]byte("x")) }, "after a change without data"},
		{"too much data", KindDelta, func(w *Writer) error { return w.WriteChange(create("a", 3)) },
			func(w *Writer) error { return w.WriteLiteral([]byte("abcd")) }, `literal of 4 bytes, but only 3 of the 3 bytes of "a" are left`},
		{"literal too big", KindDelta, func(w *Writer) error { return w.WriteChange(create("a", 2*MaxChunk)) },
			func(w *Writer) error { return w.WriteLiteral(make([]byte, MaxChunk+1)) }, "want 1 to 1048576"},
		{"missing data at next change", KindDelta, func(w *Writer) error { return w.WriteChange(create("a", 3)) },
			func(w *Writer) error { return w.WriteChange(create("b", 0)) }, `3 of the 3 bytes of "a" are missing`},
		{"missing data at close", KindDelta, func(w *Writer) error { return w.WriteChange(create("a", 3)) },
			func(w *Writer) error { return w.Close(Trailer{}) }, `3 of the 3 bytes of "a" are missing`},
		{"copy in create", KindDelta, func(w *Writer) error { return w.WriteChange(create("a", 3)) },
			func(w *Writer) error { return w.WriteCopy(Copy{Length: 1}) }, "not an update"},
		{"copy past old", KindDelta, func(w *Writer) error { return w.WriteChange(upd) },
			func(w *Writer) error { return w.WriteCopy(Copy{Offset: 8, Length: 3}) }, `beyond the 10 bytes of the old "u"`},
		{"negative copy", KindDelta, func(w *Writer) error { return w.WriteChange(upd) },
			func(w *Writer) error { return w.WriteCopy(Copy{Offset: 0, Length: -1}) }, "positive length"},
		{"bad tree hash", KindIndex, nil, func(w *Writer) error { return w.Close(Trailer{TreeHash: []byte{1}}) }, "tree hash of 1 bytes"},
		{"entry too big", KindIndex, nil, func(w *Writer) error {
			// 5.6 million blocks of 4+11 bytes
			const size, bs = MaxRecord, 12
			return w.WriteEntry(&Entry{Path: "big", Size: size, BlockSize: bs, Sig: make([]byte, (size+bs-1)/bs*SigEntryLen(size, bs))})
		}, "more than the 67108864 a reader accepts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWriter(io.Discard, Header{Kind: tt.kind, Seed: testSeed(tt.kind)}, WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.ok != nil {
				if err := tt.ok(w); err != nil {
					t.Fatal(err)
				}
			}
			if err := tt.bad(w); !errContains(err, tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// TestWriterAfterRefusal checks that a refused record does not spoil the
// stream, and that empty data is skipped.
func TestWriterAfterRefusal(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Kind: KindDelta, Seed: testSeed(KindDelta)}, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	up := &Change{Op: OpUpdate, Old: &Entry{Path: "f", Size: 4}, New: &Entry{Path: "f", Size: 5}}
	steps := []error{
		w.WriteChange(up),
		w.WriteLiteral(nil),
		w.WriteCopy(Copy{Offset: 3}),
		w.WriteCopy(Copy{Offset: 0, Length: 4}),
		w.WriteLiteral([]byte("x")),
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteLiteral([]byte("y")); err == nil {
		t.Fatal("a sixth byte of a 5-byte file was accepted")
	}
	if err := w.Close(Trailer{}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteLiteral([]byte("x")); !errContains(err, "closed") {
		t.Errorf("write after Close: %v", err)
	}
	s, err := readAll(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{up, &Copy{Offset: 0, Length: 4}, &Literal{Data: []byte("x")}}
	if !reflect.DeepEqual(s.records, want) || s.trailer.Count != 3 {
		t.Errorf("read %+v (count %d), want %+v", s.records, s.trailer.Count, want)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// TestWriterError checks that a write error is reported and sticks.
func TestWriterError(t *testing.T) {
	w, err := NewWriter(&failWriter{n: 100}, Header{Kind: KindDelta, Seed: testSeed(KindDelta)}, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteChange(&Change{Op: OpCreate, New: &Entry{Path: "f", Size: 2 * MaxChunk}}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteLiteral(make([]byte, MaxChunk)); !errContains(err, "disk full") {
		t.Fatalf("got %v, want disk full", err)
	}
	if err := w.Close(Trailer{}); !errContains(err, "disk full") {
		t.Errorf("Close after a failed write: %v", err)
	}
}

// TestHandEncodings checks that the bodies this package lays out by hand are
// the msgpack the library writes or reads for the same values.
func TestHandEncodings(t *testing.T) {
	c := newCodec()
	for _, n := range []int{1, 255, 256, 65535, 65536, MaxChunk} {
		data := bytes.Repeat([]byte{7}, n)
		want, err := c.encode(&Literal{Data: data})
		if err != nil {
			t.Fatal(err)
		}
		got := append(appendLiteralHeader(nil, n), data...)
		if !bytes.Equal(got, want) {
			t.Errorf("literal of %d bytes: hand encoding %x differs from msgpack's", n, got[:8])
		}
		if back, err := parseLiteral(got); err != nil || !bytes.Equal(back, data) {
			t.Errorf("literal of %d bytes does not parse back: %v", n, err)
		}
	}
	for _, tr := range []Trailer{{}, {Count: 200, Checksum: 1}, {Count: 1 << 40, Checksum: 1 << 63, TreeHash: sum("x")}} {
		body := append(appendTrailer(nil, &tr), make([]byte, 8)...)
		copy(body[len(body)-8:], []byte{byte(tr.Checksum >> 56), byte(tr.Checksum >> 48), byte(tr.Checksum >> 40), byte(tr.Checksum >> 32), byte(tr.Checksum >> 24), byte(tr.Checksum >> 16), byte(tr.Checksum >> 8), byte(tr.Checksum)})
		if len(body) != trailerBodyLen(&tr) {
			t.Errorf("trailer %+v: body of %d bytes, trailerBodyLen says %d", tr, len(body), trailerBodyLen(&tr))
		}
		var back Trailer
		if err := msgpack.Unmarshal(body, &back); err != nil || !reflect.DeepEqual(back, tr) {
			t.Errorf("trailer %+v decodes with msgpack as %+v, %v", tr, back, err)
		}
	}
}
