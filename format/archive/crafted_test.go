package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/ibt-tools/ibt/format"
	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"
)

type member struct {
	name string
	body []byte
}

func mustMsgpack(v any) []byte {
	b, err := msgpack.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func headerMember() member {
	return member{headerName, mustMsgpack(Header{Kind: Kind, Version: Version, Tool: "t", Delta: testHeader, Codec: None})}
}

func batchMember(seq int, changes ...*format.Change) member {
	return member{batchName(seq), mustMsgpack(changes)}
}

func dataMember(c *format.Change, body []byte) member { return member{dataName(c), body} }

// opsBytes encodes ops as the writer would, without its checks.
func opsBytes(ops ...any) []byte {
	var b []byte
	for _, op := range ops {
		switch op := op.(type) {
		case [2]uint64:
			b = append(b, 'C')
			b = binary.AppendUvarint(binary.AppendUvarint(b, op[0]), op[1])
		case []byte:
			b = append(b, 'L')
			b = append(binary.AppendUvarint(b, uint64(len(op))), op...)
		}
	}
	return b
}

// craft writes a plain tar of members then a trailer that counts them
// right, unless the last member given is already named ibt/trailer.
func craft(t *testing.T, changes uint64, members ...member) []byte {
	t.Helper()
	if n := len(members); n == 0 || members[n-1].name != trailerName {
		d := xxhash.New()
		for _, m := range members {
			if strings.HasPrefix(m.name, "ibt/") {
				d.Write(m.body)
			}
		}
		members = append(members, member{trailerName, mustMsgpack(Trailer{Changes: changes, Members: uint64(len(members)), Checksum: d.Sum64()})})
	}
	return tarOf(t, members...)
}

// tarOf writes members as a plain tar stream.
func tarOf(t *testing.T, members ...member) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: m.name, Size: int64(len(m.body)), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		tw.Write(m.body)
	}
	tw.Close()
	return buf.Bytes()
}

func TestCrafted(t *testing.T) {
	a := created("a", []byte("aaa")).c
	b := created("b", []byte("bb")).c
	upd := updated("u", []byte("old file"), []DeltaOp{cp(0, 8)}).c // New.Size 8
	withPath := func(p string) *format.Change { return created(p, nil).c }
	fromU := created("v", []byte("old file")).c // a delta against u
	fromU.From, fromU.FromSize = "u", 8
	// [{o: 1, new: {p: "x", x: <array claiming 2^32-1 xattrs>}}]
	hugeXattrs := []byte("\x91\x82\xa1o\x01\xa3new\x82\xa1p\xa1x\xa1x\xdd\xff\xff\xff\xff")
	tooMany := make([]*format.Change, MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = &format.Change{Op: format.OpDelete, Old: &format.Entry{Path: fmt.Sprintf("%05d", i), Type: format.TypeDir}}
	}
	h := headerMember()
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"valid", craft(t, 2, h, batchMember(1, a, b), dataMember(a, []byte("aaa")), dataMember(b, []byte("bb"))), ""},
		{"data member misnamed", craft(t, 1, h, batchMember(1, a), member{"created/" + strings.Repeat("0", 64), []byte("aaa")}), `unexpected member "created/000`},
		{"data member missing", craft(t, 2, h, batchMember(1, a, b), dataMember(b, []byte("bb"))), `content of "a"`},
		{"data members swapped", craft(t, 2, h, batchMember(1, a, b), dataMember(b, []byte("bb")), dataMember(a, []byte("aaa"))), "unexpected member"},
		{"extra member", craft(t, 1, h, batchMember(1, a), dataMember(a, []byte("aaa")), member{"extra", nil}), `unexpected member "extra"`},
		{"member after trailer", craft(t, 0, h, member{trailerName, mustMsgpack(Trailer{Members: 1, Checksum: xxhash.Sum64(h.body)})}, member{"late", nil}), `"late" after`},
		{"missing trailer", tarOf(t, h, batchMember(1, a), dataMember(a, []byte("aaa"))), "truncated"},
		{"no batch, no trailer", tarOf(t, h), "truncated"},
		{"batch skipped", craft(t, 1, h, batchMember(2, a), dataMember(a, []byte("aaa"))), `unexpected member "ibt/changes/000002"`},
		{"dot-dot path", craft(t, 1, h, batchMember(1, withPath("../x")), dataMember(withPath("../x"), nil)), `".." path component`},
		{"absolute path", craft(t, 1, h, batchMember(1, withPath("/etc/passwd")), dataMember(withPath("/etc/passwd"), nil)), "absolute"},
		{"NUL in path", craft(t, 1, h, batchMember(1, withPath("a\x00b")), dataMember(withPath("a\x00b"), nil)), "NUL"},
		{"empty path", craft(t, 1, h, batchMember(1, change(format.OpDelete, entry("", format.TypeDir, 0), nil).c)), "empty path"},
		{"bad hard link", craft(t, 1, h, batchMember(1, &format.Change{Op: format.OpCreate, New: &format.Entry{Path: "l", LinkTo: "../x"}})), "hard link"},
		{"duplicate path", craft(t, 2, h, batchMember(1, a, a), dataMember(a, []byte("aaa")), dataMember(a, []byte("aaa"))), `does not sort after "a"`},
		{"duplicate across batches", craft(t, 2, h, batchMember(1, a), dataMember(a, []byte("aaa")), batchMember(2, a), dataMember(a, []byte("aaa"))), `does not sort after "a"`},
		{"out of order", craft(t, 2, h, batchMember(1, b, a), dataMember(b, []byte("bb")), dataMember(a, []byte("aaa"))), `"a" does not sort after "b"`},
		{"update without old", craft(t, 1, h, batchMember(1, &format.Change{Op: format.OpUpdate, New: entry("u", format.TypeFile, 0)})), "wants an old and a new file"},
		{"unknown op", craft(t, 1, h, batchMember(1, &format.Change{Op: 9, New: entry("u", format.TypeFile, 0)})), "unknown op 9"},
		{"empty batch", craft(t, 0, h, member{batchName(1), []byte{0x90}}), "0 changes"},
		{"too many changes", craft(t, MaxBatch+1, h, batchMember(1, tooMany...)), "4097 changes"},
		{"oversize batch", craft(t, 1, h, member{batchName(1), make([]byte, MaxBatchSize+1)}), "more than the"},
		{"batch length claims 2^32", craft(t, 1, h, member{batchName(1), []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0}}), "claims 4294967295 elements"},
		{"xattrs claim 2^32", craft(t, 1, h, member{batchName(1), hugeXattrs}), "claims 4294967295 elements"},
		{"deep nesting", craft(t, 1, h, member{batchName(1), append(bytes.Repeat([]byte{0x91}, 100), 0xc0)}), "nested deeper"},
		{"created size mismatch", craft(t, 1, h, batchMember(1, a), dataMember(a, []byte("aaaa"))), "is 4 bytes, the file 3"},
		{"literal over limit", craft(t, 1, h, batchMember(1, upd), dataMember(upd, opsBytes(make([]byte, format.MaxChunk+1)))), "want 1 to 1048576"},
		{"ops produce too much", craft(t, 1, h, batchMember(1, upd), dataMember(upd, opsBytes([2]uint64{0, 4}, []byte("12345")))), "the file has 4 left"},
		{"ops produce too little", craft(t, 1, h, batchMember(1, upd), dataMember(upd, opsBytes([2]uint64{0, 4}))), "ops end after producing 4 of 8"},
		{"copy outside old file", craft(t, 1, h, batchMember(1, upd), dataMember(upd, opsBytes([2]uint64{4, 8}))), "outside the old file"},
		{"copy offset overflows", craft(t, 1, h, batchMember(1, upd), dataMember(upd, opsBytes([2]uint64{1<<64 - 1, 8}))), "exceeds 2^63-1"},
		{"empty copy", craft(t, 1, h, batchMember(1, upd), dataMember(upd, opsBytes([2]uint64{0, 0}, [2]uint64{0, 8}))), "copies 0 bytes"},
		{"empty literal", craft(t, 1, h, batchMember(1, upd), dataMember(upd, opsBytes([]byte{}, [2]uint64{0, 8}))), "literal at byte 0 of 0 bytes"},
		{"unknown op byte", craft(t, 1, h, batchMember(1, upd), dataMember(upd, []byte("X"))), "unknown op 0x58"},
		{"bytes after ops", craft(t, 1, h, batchMember(1, upd), dataMember(upd, append(opsBytes([2]uint64{0, 8}), 'C'))), "bytes after the ops"},
		{"op cut by member end", craft(t, 1, h, batchMember(1, upd), dataMember(upd, opsBytes([]byte("12345678"))[:5])), "ends early"},
		{"delta against a source", craft(t, 1, h, batchMember(1, fromU), dataMember(fromU, opsBytes([2]uint64{0, 8}))), ""},
		{"copy outside the source", craft(t, 1, h, batchMember(1, fromU), dataMember(fromU, opsBytes([2]uint64{4, 8}))), "outside the old file"},
		{"content for a delta against a source", craft(t, 1, h, batchMember(1, fromU), member{"created/" + dataName(fromU)[len("updated/"):], []byte("old file")}), "unexpected member"},
		{"trailer miscounts changes", craft(t, 3, h, batchMember(1, a), dataMember(a, []byte("aaa"))), "counts 3 changes"},
		{"trailer checksum", craft(t, 0, h, member{trailerName, mustMsgpack(Trailer{Members: 1, Checksum: 1})}), "checksum"},
		{"trailer unknown key", craft(t, 0, h, member{trailerName, mustMsgpack(map[string]any{"changes": 0, "members": 1, "checksum": xxhash.Sum64(h.body), "treehash": "x"})}), "treehash"},
		{"header version 1", craft(t, 0, member{headerName, mustMsgpack(Header{Kind: Kind, Version: 1, Delta: testHeader})}), "archive version 1, but this program reads version 2"},
		{"header of ibt 0.1's format", craft(t, 0, member{headerName, mustMsgpack(map[string]any{
			"kind": Kind, "version": 1, "delta": map[string]any{"kind": "delta", "version": 1, "strong_len": 16}})}), "archive version 1, but this program reads version 2"},
		{"records of format version 1", craft(t, 0, member{headerName, mustMsgpack(map[string]any{
			"kind": Kind, "version": Version, "delta": map[string]any{"kind": "delta", "version": 1, "strong_len": 16}})}), "records of format version 1, but this program reads version 2"},
		{"header version 3", craft(t, 0, member{headerName, mustMsgpack(Header{Kind: Kind, Version: 3, Delta: testHeader})}), "archive version 3"},
		{"header of a diff", craft(t, 0, member{headerName, mustMsgpack(Header{Kind: Kind, Version: Version, Delta: format.Header{Kind: format.KindDiff, Version: format.Version}})}), `packed from a "diff" stream`},
		{"header too big", craft(t, 0, member{headerName, make([]byte, maxSmallMember+1)}), "more than the"},
		{"garbage after the end", append(craft(t, 0, h), 1), "unexpected data after"},
		{"directory member", func() []byte {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: headerName + "/"})
			tw.Close()
			return buf.Bytes()
		}(), "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readArchive(tc.data, map[string][]byte{"u": []byte("old file")})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			errorContains(t, err, tc.want)
		})
	}
}

// TestZstdRefused: a zstd frame ibt does not read, or not whole, gets an
// error that says so, before anything is allocated by its word.
func TestZstdRefused(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		// frame header 00: a window descriptor follows, of 2^(10+20)
		// bytes; then a last raw block of 512 zero bytes
		{"1 GiB window", "window above 32 MiB, the most", append([]byte("\x28\xb5\x2f\xfd\x00\xa0\x01\x10\x00"), make([]byte, 512)...)},
		{"reserved block type", "zstd:", append([]byte("\x28\xb5\x2f\xfd\x00\x50\x07\x10\x00"), make([]byte, 512)...)},
		{"garbage after the magic", "zstd:", []byte("\x28\xb5\x2f\xfd rest")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readArchive(tc.data, nil)
			errorContains(t, err, tc.want)
		})
	}
}

func TestNotArchive(t *testing.T) {
	var tgz bytes.Buffer
	zw := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "README", Size: 2, Mode: 0o644})
	tw.Write([]byte("hi"))
	tw.Close()
	zw.Close()
	var gz bytes.Buffer
	zw = gzip.NewWriter(&gz)
	zw.Write([]byte("just some text, compressed"))
	zw.Close()
	var zs bytes.Buffer
	zsw, _ := zstd.NewWriter(&zs)
	zsw.Write([]byte("just some text, compressed"))
	zsw.Close()
	delta := mustMsgpack(map[string]any{"kind": "delta", "version": 1})
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"empty", "empty", nil},
		{"random", "unknown data", randBytes(9, 4096)},
		{"another tool's tar.gz", `first member is "README"`, tgz.Bytes()},
		{"gzipped text", "unknown data", gz.Bytes()},
		{"delta stream", "delta stream", delta},
		{"zstd-compressed text", "unknown data", zs.Bytes()},
		{"xz", "xz-compressed", []byte("\xfd7zXZ\x00 rest")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tc.data))
			if !errors.Is(err, ErrNotArchive) {
				t.Fatalf("error %v, want ErrNotArchive", err)
			}
			errorContains(t, err, tc.want)
		})
	}
}
