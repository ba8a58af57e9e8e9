package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// The msgpack path of codec.go is the reference the hand-written encoder and
// decoder are held to: same bytes out, same bodies accepted, same values,
// once a change's new hash is elided and restored as samehash.go says.

// refDecode decodes body as the msgpack path does, into a new value of the
// record type of tag.
func refDecode(tag byte, body []byte) (Record, error) {
	var v Record
	switch tag {
	case tagEntry:
		v = new(Entry)
	case tagChange:
		v = new(Change)
	default:
		v = new(Copy)
	}
	if err := newCodec().decode(body, v); err != nil {
		return nil, err
	}
	if c, ok := v.(*Change); ok {
		if err := restoreCanonical(c); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// fastDecode decodes body with the hand-written decoder.
func fastDecode(tag byte, body []byte) (Record, error) {
	switch tag {
	case tagEntry:
		return decodeEntry(body)
	case tagChange:
		return decodeChange(body)
	}
	return decodeCopy(body)
}

// fastEncode encodes rec with the hand-written encoder.
func fastEncode(rec Record) []byte {
	switch rec := rec.(type) {
	case *Entry:
		return appendEntry(nil, rec)
	case *Change:
		return appendChange(nil, rec)
	case *Copy:
		return appendCopy(nil, rec)
	}
	return nil
}

// goldenFrames returns the entry, change and copy frames of the golden
// streams, tag first.
func goldenFrames(tb testing.TB) [][]byte {
	var frames [][]byte
	for name, data := range loadGoldens(tb) {
		plain, err := decoded(data)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		for p := plain[len(Magic)+1:]; len(p) > 0; {
			n, size := binary.Uvarint(p[1:])
			frame := p[:1+size+int(n)]
			if frame[0] == tagEntry || frame[0] == tagChange || frame[0] == tagCopy {
				frames = append(frames, append([]byte{frame[0]}, frame[1+size:]...))
			}
			p = p[len(frame):]
		}
	}
	return frames
}

// FuzzDecodeDifferential checks that for any body the hand-written decoder
// accepts exactly what the msgpack path accepts, with the same value, and
// that what it accepts encodes back to the same bytes.
func FuzzDecodeDifferential(f *testing.F) {
	for _, frame := range goldenFrames(f) {
		f.Add(frame[0], frame[1:])
		f.Add(frame[0], frame[1:len(frame)-1])
		bad := bytes.Clone(frame[1:])
		bad[len(bad)/2]++
		f.Add(frame[0], bad)
	}
	big := &Entry{Path: "p", Type: TypeSymlink, Mode: 0o777, MTime: -1 << 40, Size: 1 << 40, Target: "t", UID: 1, GID: 1 << 20,
		Dev: 1 << 63, Inode: 300, CTime: -200, LinkTo: "a", Xattrs: []Xattr{{Name: "n"}, {Value: []byte{}}, {Name: "x", Value: make([]byte, 300)}},
		Hash: make([]byte, 5), BlockSize: 70000, Sig: make([]byte, 1<<16)}
	f.Add(tagEntry, appendEntry(nil, big)) // 16 keys: a map16
	skipped := *big
	skipped.Skipped = true
	f.Add(tagEntry, appendEntry(nil, &skipped)) // every key
	f.Add(tagEntry, []byte{0x85, 0xa1, 'p', 0xa1, 'a', 0xa1, 't', 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00, 0xa2, 's', 'k', 0xc3})
	f.Add(tagEntry, []byte{0x85, 0xa1, 'p', 0xa1, 'a', 0xa1, 't', 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00, 0xa2, 's', 'k', 0xc2})
	f.Add(tagChange, appendChange(nil, &Change{Op: 200, Old: big, New: big}))
	f.Add(tagChange, []byte{0x83, 0xa1, 'o', 0x02, 0xa3, 'n', 'e', 'w', 0x84, 0xa1, 'p', 0xa1, 'a', 0xa1, 't', 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00, 0xa3, 'o', 'l', 'd', 0xc0})
	f.Add(tagChange, appendChange(nil, &Change{Op: OpCreate, New: big, From: "a/b", FromNew: true}))
	f.Add(tagChange, appendChange(nil, &Change{Op: OpReplace, Old: big, New: big, From: "z"}))
	f.Add(tagChange, appendChange(nil, &Change{Op: OpCreate, New: big, From: "z", FromSize: 1 << 40}))
	f.Add(tagCopy, appendCopy(nil, &Copy{Offset: -33, Length: 1 << 33}))
	f.Add(tagCopy, []byte{0x82, 0xa3, 'o', 'f', 'f', 0xd0, 0xe0, 0xa3, 'l', 'e', 'n', 0x00})
	f.Add(tagEntry, []byte{0x84, 0xa1, 'p', 0xa1, 'a', 0xa1, 't', 0xcc, 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00})
	f.Add(tagEntry, []byte{0x85, 0xa1, 'p', 0xa1, 'a', 0xa1, 't', 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00, 0xa1, 'x', 0x91, 0xc0})
	f.Add(tagEntry, []byte{0x81, 0xa1, 'x', 0xdd, 0xff, 0xff, 0xff, 0xff, 0x80})
	f.Fuzz(func(t *testing.T, tag byte, body []byte) {
		tag = []byte{tagEntry, tagChange, tagCopy}[tag%3]
		want, wantErr := refDecode(tag, body)
		got, err := fastDecode(tag, body)
		switch {
		case (err == nil) != (wantErr == nil):
			t.Fatalf("hand-written decoder: %v; msgpack path: %v", err, wantErr)
		case err != nil:
			return
		case !reflect.DeepEqual(got, want):
			t.Fatalf("hand-written decoder gives %+v, msgpack path %+v", got, want)
		}
		if again := fastEncode(got); !bytes.Equal(again, body) {
			t.Fatalf("decode then encode differs\ngot  %x\nwant %x", again, body)
		}
	})
}

// FuzzEncodeDifferential checks that the hand-written encoder writes
// exactly what msgpack writes, for any entry, change (with its new hash
// elided where it repeats the old) and copy.
func FuzzEncodeDifferential(f *testing.F) {
	f.Add("a/b", uint8(0), uint32(0o644), int64(1), int64(3), "", "", uint64(0), int64(0), []byte(nil), uint32(2048), []byte(nil), "user.x", []byte("v"), uint8(1))
	f.Add("l", uint8(2), uint32(0o777), int64(-1), int64(0), "target", "", uint64(1<<40), int64(-129), []byte(nil), uint32(0), []byte(nil), "", []byte(nil), uint8(3))
	f.Add("z", uint8(0), uint32(0o4755), int64(1<<62), int64(5000), "", "a", uint64(255), int64(-1<<40), sum("x"), uint32(1<<31), sigOf(5000, 2048), "", []byte{}, uint8(5))
	f.Fuzz(func(t *testing.T, path string, typ uint8, mode uint32, mtime, size int64, target, linkTo string, id uint64, ctime int64, hash []byte, blockSize uint32, sig []byte, xname string, xvalue []byte, op uint8) {
		e := &Entry{Path: path, Type: Type(typ), Mode: mode, MTime: mtime, Size: size, Target: target, UID: uint32(id), GID: uint32(id >> 32),
			Dev: id >> 8, Inode: id * 3, CTime: ctime, LinkTo: linkTo, Hash: hash, BlockSize: blockSize, Sig: sig, Skipped: op&2 != 0}
		if xname != "" || xvalue != nil {
			e.Xattrs = []Xattr{{Name: xname, Value: xvalue}, {Name: target}}
		}
		recs := []Record{e, &Change{Op: Op(op), New: e}, &Change{Op: Op(op), Old: e, New: e}, &Change{Op: Op(op), Old: e},
			&Change{Op: Op(op), New: e, From: linkTo, FromNew: op&1 == 1},
			&Copy{Offset: mtime, Length: size}}
		other := *e
		other.Hash = sum(path)
		recs = append(recs, &Change{Op: Op(op), Old: &other, New: e})
		for _, rec := range recs {
			wire := rec
			if c, ok := rec.(*Change); ok {
				wire = ElideNewHash(c)
			}
			want, err := newCodec().encode(wire)
			if err != nil {
				t.Fatal(err)
			}
			if got := fastEncode(rec); !bytes.Equal(got, want) {
				t.Fatalf("%T %+v: hand-written encoding differs from msgpack's\ngot  %x\nwant %x", rec, rec, got, want)
			}
		}
	})
}

// TestDecodeRefuses checks that a departure from the canonical form is
// refused with what is wrong and where.
func TestDecodeRefuses(t *testing.T) {
	minimal := []byte{0x84, 0xa1, 'p', 0xa1, 'a', 0xa1, 't', 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't'}
	tests := []struct {
		name string
		tag  byte
		body []byte
		want string
	}{
		{"misordered keys", tagEntry, []byte{0x84, 0xa1, 't', 0x00, 0xa1, 'p', 0xa1, 'a', 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00}, `at byte 1 of the body: key "t" repeated or out of order where "p" belongs`},
		{"zero size written", tagEntry, append(append([]byte{0x85}, minimal[1:]...), 0x00, 0xa1, 's', 0x00), `at byte 17 of the body: key "s" holds a zero value`},
		{"unknown key", tagEntry, append(append([]byte{0x85}, minimal[1:]...), 0x00, 0xa1, 'z', 0x00), `at byte 15 of the body: unknown key "z" in an entry`},
		{"repeated key", tagEntry, append(append([]byte{0x86}, minimal[1:]...), 0x00, 0xa1, 's', 0x01, 0xa1, 's', 0x01), `at byte 18 of the body: key "s" repeated or out of order`},
		{"non-minimal negative", tagEntry, append(bytes.Clone(minimal), 0xd0, 0xff), "at byte 14 of the body: integer not in its shortest form"},
		{"uint16 mode of 255", tagEntry, []byte{0x84, 0xa1, 'p', 0xa1, 'a', 0xa1, 't', 0x00, 0xa1, 'm', 0xcd, 0x00, 0xff, 0xa2, 'm', 't', 0x00}, "at byte 10 of the body: integer not in its shortest form"},
		{"type beyond uint8", tagEntry, []byte{0x84, 0xa1, 'p', 0xa1, 'a', 0xa1, 't', 0xcd, 0x01, 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00}, "integer 256 out of range"},
		{"trailing bytes", tagEntry, append(bytes.Clone(minimal), 0x00, 0x00), "1 bytes after the msgpack value"},
		{"nil old entry", tagChange, []byte{0x82, 0xa1, 'o', 0x03, 0xa3, 'o', 'l', 'd', 0xc0}, "at byte 8 of the body: map expected, found msgpack code 0xc0"},
		{"new before old", tagChange, []byte{0x83, 0xa1, 'o', 0x02, 0xa3, 'n', 'e', 'w', 0x84, 0xa1, 'p', 0xa1, 'a', 0xa1, 't', 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00, 0xa3, 'o', 'l', 'd', 0x80},
			`key "old" unknown, repeated or out of order`},
		{"false flag written", tagChange, append(append([]byte{0x84, 0xa1, 'o', 0x01}, []byte{0xa3, 'n', 'e', 'w', 0x84, 0xa1, 'p', 0xa1, 'b', 0xa1, 't', 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00}...), 0xa1, 'f', 0xa1, 'a', 0xa2, 'f', 'n', 0xc2),
			"a false flag is written by omitting it"},
		{"empty source", tagChange, append(append([]byte{0x83, 0xa1, 'o', 0x01}, []byte{0xa3, 'n', 'e', 'w', 0x84, 0xa1, 'p', 0xa1, 'b', 0xa1, 't', 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00}...), 0xa1, 'f', 0xa0), "empty source path"},
		{"zero source size", tagChange, append(append([]byte{0x84, 0xa1, 'o', 0x01}, []byte{0xa3, 'n', 'e', 'w', 0x84, 0xa1, 'p', 0xa1, 'b', 0xa1, 't', 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00}...), 0xa1, 'f', 0xa1, 'a', 0xa2, 'f', 's', 0x00), "a source size below 1"},
		{"source size before source", tagChange, append(append([]byte{0x84, 0xa1, 'o', 0x01}, []byte{0xa3, 'n', 'e', 'w', 0x84, 0xa1, 'p', 0xa1, 'b', 0xa1, 't', 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00}...), 0xa2, 'f', 's', 0x05, 0xa1, 'f', 0xa1, 'a'), `key "f" unknown, repeated or out of order`},
		{"source before new", tagChange, append([]byte{0x83, 0xa1, 'o', 0x01, 0xa1, 'f', 0xa1, 'a'}, []byte{0xa3, 'n', 'e', 'w', 0x84, 0xa1, 'p', 0xa1, 'b', 0xa1, 't', 0x00, 0xa1, 'm', 0x00, 0xa2, 'm', 't', 0x00}...), `key "new" unknown, repeated or out of order`},
		{"new hash repeated", tagChange, appendEntry(append(appendEntry([]byte{0x83, 0xa1, 'o', 0x04, 0xa3, 'o', 'l', 'd'}, &Entry{Path: "a", Hash: sum("a")}), 0xa3, 'n', 'e', 'w'), &Entry{Path: "a", Mode: 1, Hash: sum("a")}),
			"at byte 0 of the body: the new entry repeats the old entry's hash"},
		{"copy without len", tagCopy, []byte{0x81, 0xa3, 'o', 'f', 'f', 0x00}, `copy is not a map of the keys "off" and "len"`},
		{"bin past the end", tagEntry, []byte{0x81, 0xa1, 'H', 0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2}, "runs past the end of its record"},
		{"float", tagEntry, []byte{0xca, 0, 0, 0, 0}, "unexpected msgpack type 0xca"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := refDecode(tt.tag, tt.body); err == nil {
				t.Fatal("the msgpack path accepts the body")
			}
			_, err := fastDecode(tt.tag, tt.body)
			if !errContains(err, tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
			var be *bodyError
			if errContains(err, "canonical") && !errors.As(err, &be) {
				t.Errorf("%v does not say where", err)
			}
		})
	}
}

// benchEntry is a typical index entry of a small file.
var benchEntry = &Entry{Path: "src/pkg0042/file004242.go", Type: TypeFile, Mode: 0o644, MTime: t0, Size: 1500, UID: 1000, GID: 1000,
	Dev: 2049, Inode: 4242, CTime: t0, Hash: sum("x"), BlockSize: 2048}

// BenchmarkEntryCodec compares the hand-written encoder and decoder of one
// entry body with the msgpack path they replace.
func BenchmarkEntryCodec(b *testing.B) {
	body := appendEntry(nil, benchEntry)
	c := newCodec()
	b.Run("encode/msgpack", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for range b.N {
			c.encode(benchEntry)
		}
	})
	b.Run("encode/hand", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		var buf []byte
		for range b.N {
			buf = appendEntry(buf[:0], benchEntry)
		}
	})
	b.Run("decode/msgpack", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for range b.N {
			if err := c.decode(body, new(Entry)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/hand", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for range b.N {
			if _, err := decodeEntry(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
