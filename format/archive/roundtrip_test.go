package archive

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

const bigCreated = 20 << 20

// sampleFiles covers every op and entry type, a 20 MiB created file, and
// a delta of about 11 MiB, too big to hold in memory.
func sampleFiles() []testFile {
	old := randBytes(1, 12<<20)
	bigDelta := []DeltaOp{cp(0, 1<<20), lit(randBytes(2, 3<<20+5)), cp(2<<20, 5<<20), lit(randBytes(3, 7<<20)), cp(12<<20-10, 10)}
	smallOld := []byte("hello, old world\n")
	hardlink := entry("h/link", format.TypeFile, 5)
	hardlink.LinkTo = "h/first"
	symlink := entry("l/sym", format.TypeSymlink, 0)
	symlink.Target = "../elsewhere"
	files := []testFile{
		created("a/big.bin", randBytes(4, bigCreated)),
		change(format.OpCreate, nil, entry("a/dir", format.TypeDir, 0)),
		created("a/empty", nil),
		created("a/small.txt", []byte("small file\n")),
		change(format.OpDelete, entry("b/gone", format.TypeFile, 3), nil),
		updated("c/db", old, bigDelta),
		updated("c/empty-now", smallOld, nil),
		updated("c/small", smallOld, []DeltaOp{cp(0, 7), lit([]byte("new")), cp(10, 7), lit(nil), cp(0, 0)}),
		created("h/first", []byte("12345")),
		change(format.OpCreate, nil, hardlink),
		change(format.OpCreate, nil, symlink),
		change(format.OpMeta, entry("m/mode", format.TypeFile, 4), entry("m/mode", format.TypeFile, 4)),
		{c: &format.Change{Op: format.OpReplace, Old: entry("r/was-dir", format.TypeDir, 0), New: entry("r/was-dir", format.TypeFile, 6)}, content: []byte("a file")},
		change(format.OpReplace, entry("r/was-file", format.TypeFile, 6), entry("r/was-file", format.TypeDir, 0)),
	}
	// Enough small files for several batches.
	for i := range 3000 {
		files = append(files, created(fmt.Sprintf("z/%05d", i), []byte(fmt.Sprintf("file %d\n", i))))
	}
	return files
}

func TestRoundTrip(t *testing.T) {
	files := sampleFiles()
	for _, codec := range []Codec{Gzip, LZ4, Zstd, None} {
		t.Run(string(codec), func(t *testing.T) {
			tmp := t.TempDir()
			data := writeArchive(t, files, WriterOptions{Codec: codec, TempDir: tmp})
			checkRoundTrip(t, files, data)
			if r, _ := NewReader(bytes.NewReader(data)); r.Header().Codec != codec {
				t.Errorf("header codec %q, want %q", r.Header().Codec, codec)
			}
		})
	}
}

func checkRoundTrip(t *testing.T, files []testFile, data []byte) {
	t.Helper()
	olds := map[string][]byte{}
	for _, f := range files {
		if f.old != nil {
			olds[f.c.Path()] = f.old
		}
	}
	res, r, err := readArchive(data, olds)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.changes) != len(files) {
		t.Fatalf("read %d changes, wrote %d", len(res.changes), len(files))
	}
	for i, f := range files {
		got, want := res.changes[i], stripped(f.c)
		if fmt.Sprint(got.Op, *entryOr(got.Old), *entryOr(got.New)) != fmt.Sprint(want.Op, *entryOr(want.Old), *entryOr(want.New)) {
			t.Fatalf("change %d: got %+v, want %+v", i, got, want)
		}
		if !f.c.HasData() {
			continue
		}
		wantData := f.content
		if f.c.Op == format.OpUpdate {
			wantData = apply(f.old, f.ops)
		}
		if !bytes.Equal(res.files[f.c.Path()], wantData) {
			t.Fatalf("data of %q: %d bytes differ from the %d written", f.c.Path(), len(res.files[f.c.Path()]), len(wantData))
		}
	}
	tr := r.Trailer()
	if tr.Changes != uint64(len(files)) || !bytes.Equal(tr.TreeHash, testTreeHash) {
		t.Errorf("trailer %+v", tr)
	}
	if r.Header().Tool != testHeader.Tool || !reflect.DeepEqual(r.Header().Delta, testHeader) {
		t.Errorf("header %+v", r.Header())
	}
}

func entryOr(e *format.Entry) *format.Entry {
	if e == nil {
		return &format.Entry{}
	}
	return e
}

// TestDeltaSpills checks that a delta bigger than memory goes through the
// spool file, and that it leaves nothing in TempDir.
func TestDeltaSpills(t *testing.T) {
	tmp := t.TempDir()
	old := randBytes(5, 1<<20)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testHeader, WriterOptions{Codec: None, TempDir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	f := updated("big", old, []DeltaOp{lit(randBytes(6, memLimit+1)), cp(0, 1<<20)})
	if err := w.AddChange(f.c); err != nil {
		t.Fatal(err)
	}
	for _, op := range f.ops {
		if op.Copy {
			err = w.WriteCopy(op.Offset, op.Length)
		} else {
			err = w.WriteLiteral(op.Data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if w.spool.f == nil {
		t.Fatal("delta larger than memLimit was not spooled")
	}
	if len(w.arena) > memLimit {
		t.Errorf("arena holds %d bytes, more than %d", len(w.arena), memLimit)
	}
	if err := w.Close(format.Trailer{TreeHash: testTreeHash}); err != nil {
		t.Fatal(err)
	}
	if ents, _ := readDirNames(tmp); len(ents) != 0 {
		t.Errorf("temp dir holds %v after Close", ents)
	}
	checkRoundTrip(t, []testFile{f}, buf.Bytes())
}

// TestSkippedDataIsChecked reads only changes, never data: the reader must
// still walk and verify every data member.
func TestSkippedDataIsChecked(t *testing.T) {
	files := []testFile{created("a", []byte("content")), updated("b", []byte("old"), []DeltaOp{cp(0, 3), lit([]byte("!"))})}
	data := writeArchive(t, files, WriterOptions{Codec: None})
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("read %d changes, want 2", n)
	}
}

func TestEmptyArchive(t *testing.T) {
	for _, codec := range []Codec{Gzip, LZ4, Zstd, None} {
		data := writeArchive(t, nil, WriterOptions{Codec: codec})
		checkRoundTrip(t, nil, data)
	}
}

// TestDeterministic: the same changes give the same archive.
func TestDeterministic(t *testing.T) {
	files := []testFile{created("a", []byte("x")), updated("b", []byte("old"), []DeltaOp{cp(0, 3)})}
	for _, codec := range []Codec{Gzip, LZ4, Zstd, None} {
		a := writeArchive(t, files, WriterOptions{Codec: codec})
		b := writeArchive(t, files, WriterOptions{Codec: codec})
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two archives of the same changes differ", codec)
		}
	}
}

// TestMetaChangeHashOnce: a metadata change of a file carries its hash once
// in the batch (format.ElideNewHash) and reads back with it in both entries.
func TestMetaChangeHashOnce(t *testing.T) {
	old, new := entry("m", format.TypeFile, 4), entry("m", format.TypeFile, 4)
	old.Hash = bytes.Repeat([]byte{0xa5}, 32)
	new.Hash, new.Mode = bytes.Clone(old.Hash), 0o600
	files := []testFile{change(format.OpMeta, old, new)}
	data := writeArchive(t, files, WriterOptions{Codec: None, TempDir: t.TempDir()})
	if n := bytes.Count(data, old.Hash); n != 1 {
		t.Errorf("the hash appears %d times in the archive, want once", n)
	}
	checkRoundTrip(t, files, data)
}
