package format

import (
	"bytes"
	"testing"
)

// FuzzReader checks that the Reader returns an error or records for any
// input, never panics, and that a stream it accepts is canonical: writing its
// records again gives back the same bytes.
func FuzzReader(f *testing.F) {
	for _, data := range loadGoldens(f) {
		f.Add(data)
		for _, n := range []int{1, 4, 5, 6, len(data) / 2, len(data) - 9, len(data) - 1} {
			f.Add(data[:n])
		}
		bad := bytes.Clone(data)
		bad[len(bad)/3] ^= 0x10
		f.Add(bad)
	}
	f.Add(rawStream(KindIndex, []byte{tagEntry, 0x81, 0xa1, 'H', 0xc6, 0xff, 0xff, 0xff, 0xff}))
	f.Add([]byte(lz4Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := readAll(data); err != nil {
			return
		}
		plain, err := decoded(data)
		if err != nil {
			t.Fatalf("the Reader accepted a stream whose lz4 frame does not decode: %v", err)
		}
		again, err := reencode(data, false)
		if err != nil {
			t.Fatalf("the Reader accepted a stream the Writer refuses: %v", err)
		}
		if !bytes.Equal(again, plain) {
			t.Fatalf("decode then encode differs\ngot  %x\nwant %x", again, plain)
		}
	})
}

// FuzzEntry checks that every entry the Writer accepts reads back as written.
func FuzzEntry(f *testing.F) {
	f.Add("a/b", uint8(0), uint32(0o644), int64(1), int64(3), "", "", []byte(nil), uint32(2048), []byte(nil), "user.x", []byte("v"))
	f.Add("l", uint8(2), uint32(0o777), int64(-1), int64(0), "target", "", []byte(nil), uint32(0), []byte(nil), "", []byte(nil))
	f.Add("z", uint8(0), uint32(0o4755), int64(1<<62), int64(5000), "", "a", sum("x"), uint32(2048), sigOf(5000, 2048), "", []byte(nil))
	f.Fuzz(func(t *testing.T, path string, typ uint8, mode uint32, mtime, size int64, target, linkTo string, hash []byte, blockSize uint32, sig []byte, xname string, xvalue []byte) {
		e := &Entry{Path: path, Type: Type(typ), Mode: mode, MTime: mtime, Size: size, Target: target,
			LinkTo: linkTo, Hash: hash, BlockSize: blockSize, Sig: sig}
		if xname != "" {
			e.Xattrs = []Xattr{{Name: xname, Value: xvalue}}
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Header{Kind: KindIndex, Seed: testSeed(KindIndex)}, WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if w.WriteEntry(e) != nil {
			return
		}
		if err := w.Close(Trailer{TreeHash: treeHash(e)}); err != nil {
			t.Fatal(err)
		}
		s, err := readAll(buf.Bytes())
		if err != nil {
			t.Fatalf("the Writer wrote an entry the Reader refuses: %v", err)
		}
		// msgpack reads an empty slice back as omitted: compare encodings.
		c := newCodec()
		want, _ := c.encode(e)
		want = bytes.Clone(want)
		got, _ := c.encode(s.records[0])
		if len(s.records) != 1 || !bytes.Equal(got, want) {
			t.Fatalf("read back %+v, want %+v", s.records[0], e)
		}
	})
}
