package archive

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

var testHeader = format.Header{
	Kind:     format.KindDelta,
	Version:  format.Version,
	Hash:     format.HashAlgorithm,
	Weak:     format.WeakAlgorithm,
	Strong:   format.StrongAlgorithm,
	Tool:     "ibt-pack test",
	Exclude:  []string{"*.tmp", "!keep.tmp"},
	DirMode:  0o750,
	DirMTime: 1 << 60,
}

// testFile is a change with the data to write after it.
type testFile struct {
	c       *format.Change
	content []byte    // created: the content
	old     []byte    // updated: the old file
	ops     []DeltaOp // updated: the delta
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// entry makes a well-formed entry: a file has a hash and a signature of the
// right shape (which the archive drops), any other type neither.
func entry(path string, typ format.Type, size int64) *format.Entry {
	e := &format.Entry{Path: path, Type: typ, Mode: 0o644, MTime: 1_700_000_000_000_000_000, Size: size}
	if typ == format.TypeFile {
		const blockSize = 2048
		blocks := (size + blockSize - 1) / blockSize
		e.Hash, e.BlockSize = bytes.Repeat([]byte{7}, 32), blockSize
		e.Sig = bytes.Repeat([]byte{9}, int(blocks)*format.SigEntryLen(size, blockSize))
	}
	return e
}

func created(path string, content []byte) testFile {
	return testFile{c: &format.Change{Op: format.OpCreate, New: entry(path, format.TypeFile, int64(len(content)))}, content: content}
}

// updated makes an update of old by ops, computing the new size.
func updated(path string, old []byte, ops []DeltaOp) testFile {
	n := int64(0)
	for _, op := range ops {
		n += op.Length
	}
	return testFile{c: &format.Change{Op: format.OpUpdate, Old: entry(path, format.TypeFile, int64(len(old))), New: entry(path, format.TypeFile, n)}, old: old, ops: ops}
}

func lit(b []byte) DeltaOp    { return DeltaOp{Length: int64(len(b)), Data: b} }
func cp(off, n int64) DeltaOp { return DeltaOp{Copy: true, Offset: off, Length: n} }
func change(op format.Op, old, new *format.Entry) testFile {
	return testFile{c: &format.Change{Op: op, Old: old, New: new}}
}

// apply computes the new file from old and ops.
func apply(old []byte, ops []DeltaOp) []byte {
	var out []byte
	for _, op := range ops {
		if op.Copy {
			out = append(out, old[op.Offset:op.Offset+op.Length]...)
		} else {
			out = append(out, op.Data...)
		}
	}
	return out
}

var (
	testTreeHash = bytes.Repeat([]byte{0xab}, 32)
	testTrailer  = format.Trailer{Count: 99, TreeHash: testTreeHash}
)

// writeArchive packs files, writing content in uneven pieces.
func writeArchive(t testing.TB, files []testFile, opt WriterOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testHeader, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := w.AddChange(f.c); err != nil {
			t.Fatal(err)
		}
		for p, k := f.content, 1; len(p) > 0; k = (k*3+1)%(3<<20) + 1 {
			n := min(len(p), k)
			if err := w.WriteContent(p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
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
	}
	if err := w.Close(testTrailer); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readResult is what a reader got from an archive.
type readResult struct {
	changes []*format.Change
	files   map[string][]byte // new content of created and updated files
}

// readArchive reads a whole archive, applying deltas to olds.
func readArchive(data []byte, olds map[string][]byte) (*readResult, *Reader, error) {
	return readArchiveWith(NewReader, data, olds)
}

func readArchiveWith(open func(io.Reader) (*Reader, error), data []byte, olds map[string][]byte) (*readResult, *Reader, error) {
	r, err := open(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	res := &readResult{files: map[string][]byte{}}
	for {
		c, err := r.Next()
		if err == io.EOF {
			return res, r, nil
		}
		if err != nil {
			return res, r, err
		}
		res.changes = append(res.changes, c)
		switch {
		case !c.HasData():
		case c.HasDelta():
			base := c.Path()
			if c.FromSize > 0 {
				base = c.From
			}
			var out []byte
			for {
				op, err := r.NextOp()
				if err == io.EOF {
					break
				}
				if err != nil {
					return res, r, err
				}
				if op.Copy {
					if old := olds[base]; old != nil {
						out = append(out, old[op.Offset:op.Offset+op.Length]...)
					}
				} else {
					out = append(out, op.Data...)
				}
			}
			res.files[c.Path()] = out
		default:
			b, err := io.ReadAll(r.Content())
			if err != nil {
				return res, r, err
			}
			res.files[c.Path()] = b
		}
	}
}

func errorContains(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
}

func readDirNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, err
}
