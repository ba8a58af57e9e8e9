package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// TestReadGolden checks that a golden stream reads back as what was written.
func TestReadGolden(t *testing.T) {
	data := loadGoldens(t)
	for _, name := range []string{"testdata/delta.ibt", "testdata/delta.ibt.lz4"} {
		s, err := readAll(data[name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.header.Kind != KindDelta || s.header.Tool != "ibt-test 1.0" || s.header.Root != "/srv/data" || s.header.Version != Version {
			t.Errorf("%s: header %+v", name, s.header)
		}
		if len(s.records) != 13 || s.trailer.Count != 13 {
			t.Errorf("%s: %d records, trailer counts %d, want 13", name, len(s.records), s.trailer.Count)
		}
		if !bytes.Equal(s.trailer.TreeHash, newTreeHash) {
			t.Errorf("%s: tree hash %x, want %x", name, s.trailer.TreeHash, newTreeHash)
		}
		// the metadata change of bin/script reads back with its new hash
		want := []Record{goldenChanges(true)[0], goldenChanges(true)[1], goldenChanges(true)[2], &Literal{Data: []byte("new file!\n")}, goldenChanges(true)[3]}
		for i, rec := range want {
			if !reflect.DeepEqual(s.records[i], rec) {
				t.Errorf("%s: record %d is %+v, want %+v", name, i, s.records[i], rec)
			}
		}
	}
}

// TestLZ4Transparent checks that an lz4-framed stream reads as the plain one.
func TestLZ4Transparent(t *testing.T) {
	data := loadGoldens(t)
	for _, g := range goldens {
		lz := data[g.file(true)]
		if !bytes.HasPrefix(lz, []byte(lz4Magic)) {
			t.Errorf("%s does not start with the lz4 magic", g.file(true))
		}
		plain, err := readAll(data[g.file(false)])
		if err != nil {
			t.Fatal(err)
		}
		framed, err := readAll(lz)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(plain, framed) {
			t.Errorf("%s reads differently from %s", g.file(true), g.file(false))
		}
	}
}

// TestTruncated cuts every golden stream at every offset: each cut must fail,
// saying "truncated" where the input ends inside a stream.
func TestTruncated(t *testing.T) {
	for name, data := range loadGoldens(t) {
		for n := range len(data) {
			_, err := readAll(data[:n])
			switch {
			case err == nil:
				t.Fatalf("%s cut at %d of %d bytes reads as a valid stream", name, n, len(data))
			case n == 0:
				if !errors.Is(err, ErrNotStream) || !errContains(err, "empty") {
					t.Errorf("%s cut at 0: %v, want an empty-input error", name, err)
				}
			case !strings.Contains(err.Error(), "truncated") || !errors.Is(err, ErrTruncated):
				t.Errorf("%s cut at %d of %d bytes: %v, want a truncated error", name, n, len(data), err)
			}
		}
	}
}

// TestCorrupt flips bits of every byte of every golden stream: each must fail.
func TestCorrupt(t *testing.T) {
	for name, data := range loadGoldens(t) {
		for i := range data {
			for _, mask := range []byte{0x01, 0xff} {
				bad := bytes.Clone(data)
				bad[i] ^= mask
				if _, err := readAll(bad); err == nil {
					t.Errorf("%s with byte %d xor %#02x reads as a valid stream", name, i, mask)
				}
			}
		}
	}
}

func TestTrailingData(t *testing.T) {
	data := loadGoldens(t)["testdata/index.ibt"]
	_, err := readAll(append(bytes.Clone(data), 0))
	if !errContains(err, "data after the trailer") {
		t.Errorf("one byte after the trailer: %v", err)
	}
	lz := loadGoldens(t)["testdata/index.ibt.lz4"]
	if _, err := readAll(append(bytes.Clone(lz), "junk"...)); !errContains(err, "data after the trailer") {
		t.Errorf("junk after the lz4 frame: %v", err)
	}
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err = r.Next(); err != nil {
			break
		}
	}
	if _, again := r.Next(); err != io.EOF || again != io.EOF {
		t.Errorf("Next at the end returned %v then %v, want io.EOF twice", err, again)
	}
}

func TestNotStream(t *testing.T) {
	tar := make([]byte, 1024)
	copy(tar, "created/abc")
	copy(tar[257:], "ustar\x0000")
	tests := []struct {
		name, input, want string
	}{
		{"empty", "", "the input is empty"},
		{"gzip", "\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip stream (an ibt archive?): use ibt-patch"},
		{"zstd", "\x28\xb5\x2f\xfd\x00\x00", "zstd stream"},
		{"tar", string(tar), "tar archive"},
		{"age", "age-encryption.org/v1\n-> X25519", "decrypt it first"},
		{"json", `{"kind":"index"}`, "JSON"},
		{"text", "hello world\n", "does not start with the ibt magic number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.input))
			if !errors.Is(err, ErrNotStream) || !errContains(err, "not an ibt stream") || !errContains(err, tt.want) {
				t.Errorf("got %v, want not an ibt stream: ...%s...", err, tt.want)
			}
		})
	}
}

// TestHeaderRefused checks that a stream of another version or other
// algorithms is refused with a message naming both values.
func TestHeaderRefused(t *testing.T) {
	good := loadGoldens(t)["testdata/index.ibt"]
	for _, v := range []byte{1, 3} {
		old := bytes.Clone(good)
		old[len(Magic)] = v
		want := fmt.Sprintf("format version %d, but this program reads version 2", v)
		if _, err := NewReader(bytes.NewReader(old)); !errContains(err, want) {
			t.Errorf("version byte %d: %v, want %q", v, err, want)
		}
	}
	tests := []struct {
		name string
		edit func(h *Header)
		want string
	}{
		{"version", func(h *Header) { h.Version = 3 }, "format version 3"},
		{"hash", func(h *Header) { h.Hash = "md4" }, `file hash algorithm "md4", but this program implements "sha256-blocks"`},
		{"weak", func(h *Header) { h.Weak = "adler32" }, `weak checksum "adler32"`},
		{"strong", func(h *Header) { h.Strong = "sha256-16" }, `strong checksum "sha256-16"`},
		{"kind", func(h *Header) { h.Kind = "archive" }, `unknown stream kind "archive"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Header{Kind: KindIndex, Version: Version, Hash: HashAlgorithm, Weak: WeakAlgorithm, Strong: StrongAlgorithm}
			tt.edit(&h)
			if _, err := NewWriter(io.Discard, h, WriterOptions{}); !errContains(err, tt.want) {
				t.Errorf("NewWriter: %v, want %q", err, tt.want)
			}
			var buf bytes.Buffer
			buf.WriteString(Magic + "\x02")
			body, _ := newCodec().encode(&h)
			buf.WriteByte(tagHeader)
			buf.WriteByte(byte(len(body)))
			buf.Write(body)
			if _, err := NewReader(&buf); !errContains(err, tt.want) {
				t.Errorf("NewReader: %v, want %q", err, tt.want)
			}
		})
	}
}

// TestReaderRefuses feeds the Reader streams a buggy or hostile writer could
// produce, each a well-framed stream with a valid trailer.
func TestReaderRefuses(t *testing.T) {
	file := func(p string) *Entry { return &Entry{Path: p, Type: TypeFile, Mode: 0o644, Size: 1} }
	upd := &Change{Op: OpUpdate, Old: file("f"), New: file("f")}
	tests := []struct {
		name   string
		kind   Kind
		frames [][]byte
		want   string
	}{
		{"out of order", KindIndex, [][]byte{frameOf(tagEntry, file("b")), frameOf(tagEntry, file("a"))}, `"a" after "b": records must be sorted`},
		{"same path twice", KindIndex, [][]byte{frameOf(tagEntry, file("a")), frameOf(tagEntry, file("a"))}, `"a" after "a"`},
		{"absolute path", KindIndex, [][]byte{frameOf(tagEntry, file("/etc/passwd"))}, "absolute path"},
		{"dot-dot", KindIndex, [][]byte{frameOf(tagEntry, file("a/../../x"))}, `".." path component`},
		{"NUL", KindIndex, [][]byte{frameOf(tagEntry, file("a\x00b"))}, "NUL"},
		{"unknown type", KindIndex, [][]byte{frameOf(tagEntry, &Entry{Path: "a", Type: 7})}, "unknown type 7"},
		{"short hash", KindIndex, [][]byte{frameOf(tagEntry, &Entry{Path: "a", Hash: make([]byte, 31)})}, "content hash of 31 bytes"},
		{"bad sig", KindIndex, [][]byte{frameOf(tagEntry, &Entry{Path: "a", Size: 10, BlockSize: 8, Sig: make([]byte, 21)})}, "signature of 21 bytes, not a multiple of 9 (strong sums of 5 bytes"},
		{"change in index", KindIndex, [][]byte{frameOf(tagChange, &Change{Op: OpCreate, New: file("a")})}, "change record in an index stream"},
		{"skipped with hash", KindIndex, [][]byte{frameOf(tagEntry, &Entry{Path: "a", Skipped: true, Hash: make([]byte, 32)})}, "a skipped entry (content unknown) is a file with no hash"},
		{"skipped dir", KindIndex, [][]byte{frameOf(tagEntry, &Entry{Path: "a", Type: TypeDir, Skipped: true})}, "a skipped entry (content unknown) is a file"},
		{"skipped link", KindIndex, [][]byte{frameOf(tagEntry, &Entry{Path: "b", Skipped: true, LinkTo: "a"})}, "a skipped entry (content unknown) is a file"},
		{"skipped in change", KindDiff, [][]byte{frameOf(tagChange, &Change{Op: OpCreate, New: &Entry{Path: "a", Skipped: true}})}, "a skipped entry (content unknown) as the new entry of a create change"},
		{"skipped new of a meta change", KindDiff, [][]byte{frameOf(tagChange, &Change{Op: OpMeta, Old: &Entry{Path: "a"}, New: &Entry{Path: "a", Skipped: true}})}, "a skipped entry (content unknown) as the new entry of a meta change"},
		{"skipped old of a meta change", KindDiff, [][]byte{frameOf(tagChange, &Change{Op: OpMeta, Old: &Entry{Path: "a", Skipped: true}, New: &Entry{Path: "a", Mode: 1}})}, "a skipped entry (content unknown) as the old entry of a meta change"},
		{"skipped false written out", KindIndex, [][]byte{{tagEntry, 0x85, 0xa1, 'p', 0xa1, 'a', 0xa1, 't', 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00, 0xa2, 's', 'k', 0xc2}}, "a false flag is written by omitting it"},
		{"entry in diff", KindDiff, [][]byte{frameOf(tagEntry, file("a"))}, "entry record in a diff stream"},
		{"create with old", KindDiff, [][]byte{frameOf(tagChange, &Change{Op: OpCreate, Old: file("a"), New: file("a")})}, "create with old entry true"},
		{"literal in diff", KindDiff, [][]byte{frameOf(tagChange, &Change{Op: OpCreate, New: file("a")}), frameOf(tagLiteral, &Literal{Data: []byte("x")})}, "literal record in a diff stream"},
		{"missing data", KindDelta, [][]byte{frameOf(tagChange, &Change{Op: OpCreate, New: file("a")}), frameOf(tagChange, &Change{Op: OpCreate, New: file("b")})}, `1 of the 1 bytes of "a" are missing`},
		{"too much data", KindDelta, [][]byte{frameOf(tagChange, &Change{Op: OpCreate, New: file("a")}), frameOf(tagLiteral, &Literal{Data: []byte("xy")})}, "literal of 2 bytes, but only 1"},
		{"copy in create", KindDelta, [][]byte{frameOf(tagChange, &Change{Op: OpCreate, New: file("a")}), frameOf(tagCopy, &Copy{Length: 1})}, "not an update"},
		{"copy past old", KindDelta, [][]byte{frameOf(tagChange, upd), frameOf(tagCopy, &Copy{Offset: 1, Length: 1})}, "beyond the 1 bytes of the old"},
		{"negative copy", KindDelta, [][]byte{frameOf(tagChange, upd), frameOf(tagCopy, &Copy{Offset: -1, Length: 1})}, "non-negative offset"},
		{"empty literal", KindDelta, [][]byte{frameOf(tagChange, upd), frameOf(tagLiteral, &Literal{Data: []byte{}})}, "literal of 0 bytes"},
		{"unknown tag", KindIndex, [][]byte{{'Z', 0xc0}}, "unknown record type 0x5a"},
		{"second header", KindIndex, [][]byte{frameOf(tagHeader, &Header{})}, "a second header"},
		{"unknown key", KindIndex, [][]byte{{tagEntry, 0x82, 0xa1, 'p', 0xa1, 'a', 0xa1, 'z', 0x00}}, "not in canonical form"},
		{"non-minimal int", KindIndex, [][]byte{{tagEntry, 0x84, 0xa1, 'p', 0xa1, 'a', 0xa1, 't', 0xcc, 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00}}, "not in canonical form"},
		{"float", KindIndex, [][]byte{{tagEntry, 0xca, 0, 0, 0, 0}}, "unexpected msgpack type 0xca"},
		{"bin32 of 4 GB", KindIndex, [][]byte{{tagEntry, 0x81, 0xa1, 'H', 0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2}}, "runs past the end of its record"},
		{"array32 of 4 G", KindIndex, [][]byte{{tagEntry, 0x81, 0xa1, 'x', 0xdd, 0xff, 0xff, 0xff, 0xff, 0x80}}, "runs past the end of its record"},
		{"deep nesting", KindIndex, [][]byte{append([]byte{tagEntry}, bytes.Repeat([]byte{0x91}, 100)...)}, "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(rawStream(tt.kind, tt.frames...))
			var pe *ParseError
			if !errContains(err, tt.want) || !errors.As(err, &pe) || pe.Offset <= int64(len(Magic)) {
				t.Errorf("got %v, want a ParseError after the header containing %q", err, tt.want)
			}
		})
	}
}

// TestHostileLength checks that a frame claiming MaxRecord bytes with none
// behind it costs no such memory.
func TestHostileLength(t *testing.T) {
	data := rawStream(KindIndex)
	head := len(data) - trailerBodyLen(&Trailer{}) - 2
	hostile := append(bytes.Clone(data[:head]), tagEntry, 0x80, 0x80, 0x80, 0x20, 0x81) // 64 MiB claimed
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readAll(hostile)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("got %v, want truncated", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
		t.Errorf("reading a 64 MiB claim backed by 1 byte allocated %d bytes", n)
	}
	tooBig := append(bytes.Clone(data[:head]), tagEntry, 0x81, 0x80, 0x80, 0x20)
	if _, err := readAll(tooBig); !errContains(err, "more than 67108864") {
		t.Errorf("frame beyond MaxRecord: %v", err)
	}
	long := append(bytes.Clone(data[:head]), tagEntry, 0x80, 0x80, 0x80, 0x80, 0x01)
	if _, err := readAll(long); !errContains(err, "more than 4 bytes") {
		t.Errorf("5-byte length: %v", err)
	}
	padded := append(bytes.Clone(data[:head]), tagEntry, 0x81, 0x00)
	if _, err := readAll(padded); !errContains(err, "shortest form") {
		t.Errorf("non-minimal length: %v", err)
	}
}
