package format

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pierrec/lz4/v4"
)

// sum returns a deterministic 32-byte content hash for tests.
func sum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// sigOf returns a well-formed signature of a file of size bytes in blocks of
// blockSize bytes.
func sigOf(size int64, blockSize uint32) []byte {
	n := (size + int64(blockSize) - 1) / int64(blockSize)
	sig := make([]byte, n*int64(SigEntryLen(size, int(blockSize))))
	for i := range sig {
		sig[i] = byte(i * 7)
	}
	return sig
}

const t0 = 1764097200_123456789 // 2025-11-25T19:00:00.123456789Z

// Entries of the golden trees, in stream order.
var (
	readme = &Entry{Path: "README.md", Type: TypeFile, Mode: 0o644, MTime: t0, Size: 12, UID: 1000, GID: 1000,
		Hash: sum("readme"), BlockSize: 2048, Xattrs: []Xattr{{Name: "user.comment", Value: []byte("hi")}}}
	binDir  = &Entry{Path: "bin", Type: TypeDir, Mode: 0o755, MTime: t0 + 1, UID: 1000, GID: 1000}
	tool    = &Entry{Path: "bin/tool", Type: TypeFile, Mode: 0o4755, MTime: t0 - 1e9, Size: 5000, Dev: 2049, Inode: 42, CTime: t0, Hash: sum("tool"), BlockSize: 2048, Sig: sigOf(5000, 2048)}
	script  = &Entry{Path: "bin/script", Type: TypeFile, Mode: 0o644, MTime: t0 - 2e9, Size: 20, Hash: sum("script"), BlockSize: 640}
	link    = &Entry{Path: "bin/tool-link", Type: TypeSymlink, Mode: 0o777, MTime: -5, Target: "tool"}
	docs    = &Entry{Path: "docs", Type: TypeDir, Mode: 0o700, MTime: t0}
	docCopy = &Entry{Path: "docs/copy", Type: TypeFile, Mode: 0o4755, MTime: t0 - 1e9, Size: 5000, Hash: sum("tool"), BlockSize: 2048, LinkTo: "bin/tool", Inode: 42, Dev: 2049}
	logFile = &Entry{Path: "docs/log", Type: TypeFile, Mode: 0o640, MTime: t0 + 3, Size: 77, Dev: 2049, Inode: 43, CTime: t0 + 3, Skipped: true}

	newTool    = &Entry{Path: "bin/tool", Type: TypeFile, Mode: 0o755, MTime: t0 + 9e9, Size: 5100, Hash: sum("tool v2"), BlockSize: 2048}
	newFile    = &Entry{Path: "bin/new.txt", Type: TypeFile, Mode: 0o600, MTime: t0 + 5, Size: 10, Hash: sum("new"), BlockSize: 2048}
	emptyFile  = &Entry{Path: "bin/empty", Type: TypeFile, Mode: 0o644, MTime: t0 + 6, Hash: sum(""), BlockSize: 2048}
	newDocs    = &Entry{Path: "docs", Type: TypeDir, Mode: 0o755, MTime: t0 + 7}
	newScript  = &Entry{Path: "bin/script", Type: TypeFile, Mode: 0o755, MTime: t0 + 4, Size: 20, Hash: sum("script"), BlockSize: 640}
	newDocCopy = &Entry{Path: "docs/copy", Type: TypeFile, Mode: 0o644, MTime: t0 + 8, Size: 3, Hash: sum("abc"), BlockSize: 2048}
)

// Special files of the golden specials index, in stream order.
var (
	devDir   = &Entry{Path: "dev", Type: TypeDir, Mode: 0o755, MTime: t0}
	devNull  = &Entry{Path: "dev/null", Type: TypeCharDev, Mode: 0o666, MTime: t0 + 1, Rdev: MakeRdev(1, 3)}
	devSda   = &Entry{Path: "dev/sda", Type: TypeBlockDev, Mode: 0o660, MTime: t0 + 2, GID: 6, Rdev: MakeRdev(8, 0), Inode: 7, Dev: 5, CTime: t0 + 2}
	devWhite = &Entry{Path: "dev/whiteout", Type: TypeCharDev, Mode: 0o600, MTime: t0 + 3} // device 0,0: no rd
	runFifo  = &Entry{Path: "run/fifo", Type: TypeFIFO, Mode: 0o4620, MTime: t0 + 4, UID: 1000, GID: 1000}
	runSock  = &Entry{Path: "run/sock", Type: TypeSocket, Mode: 0o1777, MTime: -1, Xattrs: []Xattr{{Name: "trusted.x", Value: []byte("y")}}}
	specials = []*Entry{devDir, devNull, devSda, devWhite, runFifo, runSock}
)

func stripped(e *Entry) *Entry {
	c := *e
	c.Sig = nil
	return &c
}

// golden describes one golden stream: how to write it.
type golden struct {
	name string
	kind Kind
	body func(w *Writer) error
}

var goldens = []golden{
	{"index", KindIndex, func(w *Writer) error {
		for _, e := range []*Entry{readme, binDir, script, tool, link, docs, docCopy, logFile} {
			if err := w.WriteEntry(e); err != nil {
				return err
			}
		}
		return nil
	}},
	{"specials", KindIndex, func(w *Writer) error {
		for _, e := range specials {
			if err := w.WriteEntry(e); err != nil {
				return err
			}
		}
		return nil
	}},
	{"diff", KindDiff, func(w *Writer) error {
		for _, c := range goldenChanges(false) {
			if err := w.WriteChange(c); err != nil {
				return err
			}
		}
		return nil
	}},
	{"delta", KindDelta, func(w *Writer) error {
		for _, c := range goldenChanges(true) {
			if err := w.WriteChange(c); err != nil {
				return err
			}
			var err error
			switch c.Path() {
			case "bin/new.txt":
				err = w.WriteLiteral([]byte("new file!\n"))
			case "bin/tool":
				err = errors.Join(
					w.WriteCopy(Copy{Offset: 0, Length: 4096}),
					w.WriteLiteral([]byte("new!")),
					w.WriteCopy(Copy{Offset: 4096, Length: 904}),
					w.WriteLiteral(bytes.Repeat([]byte{'x'}, 96)))
			case "docs/copy":
				err = w.WriteLiteral([]byte("abc"))
			}
			if err != nil {
				return err
			}
		}
		return nil
	}},
}

func goldenChanges(delta bool) []*Change {
	old := tool
	if delta {
		old = stripped(tool)
	}
	return []*Change{
		{Op: OpDelete, Old: readme},
		{Op: OpCreate, New: emptyFile},
		{Op: OpCreate, New: newFile},
		{Op: OpMeta, Old: script, New: newScript}, // new's hash left out
		{Op: OpUpdate, Old: old, New: newTool},
		{Op: OpMeta, Old: docs, New: newDocs},
		{Op: OpReplace, Old: docCopy, New: newDocCopy},
	}
}

// treeHash returns the tree hash of entries.
func treeHash(entries ...*Entry) []byte {
	th := NewTreeHasher()
	for _, e := range entries {
		th.Add(e)
	}
	return th.Sum()
}

var newTreeHash = treeHash(binDir, emptyFile, newFile, newScript, newTool, link, newDocs, newDocCopy)

// encode writes the golden stream g.
func (g golden) encode(lz bool) ([]byte, error) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Kind: g.kind, Seed: testSeed(g.kind), Tool: "ibt-test 1.0", Root: "/srv/data"}, WriterOptions{LZ4: lz})
	if err != nil {
		return nil, err
	}
	if err := g.body(w); err != nil {
		return nil, err
	}
	th := newTreeHash
	switch g.name {
	case "index":
		th = treeHash(readme, binDir, tool, link, docs, docCopy)
	case "specials":
		th = treeHash(specials...)
	}
	if err := w.Close(Trailer{TreeHash: th}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (g golden) file(lz bool) string {
	if lz {
		return "testdata/" + g.name + ".ibt.lz4"
	}
	return "testdata/" + g.name + ".ibt"
}

// stream is everything read from a stream.
type stream struct {
	header  Header
	records []Record
	trailer Trailer
}

// readAll reads a whole stream, copying literal data.
func readAll(data []byte) (*stream, error) {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	s := &stream{header: r.Header()}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if l, ok := rec.(*Literal); ok {
			rec = &Literal{Data: bytes.Clone(l.Data)}
		}
		s.records = append(s.records, rec)
	}
	s.trailer = r.Trailer()
	return s, nil
}

// reencode reads data and writes what it read again.
func reencode(data []byte, lz bool) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, r.Header(), WriterOptions{LZ4: lz})
	if err != nil {
		return nil, fmt.Errorf("rewrite header: %w", err)
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch rec := rec.(type) {
		case *Entry:
			err = w.WriteEntry(rec)
		case *Change:
			err = w.WriteChange(rec)
		case *Copy:
			err = w.WriteCopy(*rec)
		case *Literal:
			err = w.WriteLiteral(rec.Data)
		}
		if err != nil {
			return nil, fmt.Errorf("rewrite: %w", err)
		}
	}
	if err := w.Close(Trailer{TreeHash: r.Trailer().TreeHash}); err != nil {
		return nil, fmt.Errorf("rewrite: %w", err)
	}
	return buf.Bytes(), nil
}

// decoded returns data without its lz4 frame, if any.
func decoded(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte(lz4Magic)) {
		return data, nil
	}
	return io.ReadAll(lz4.NewReader(bytes.NewReader(data)))
}

// rawStream writes a stream of the given kind holding frames as given,
// unchecked, with a trailer that counts them: a hostile or buggy writer.
func rawStream(kind Kind, frames ...[]byte) []byte {
	return rawStreamOf(Header{Kind: kind, Seed: testSeed(kind), Tool: "raw"}, frames...)
}

// rawStreamOf is rawStream with header h.
func rawStreamOf(h Header, frames ...[]byte) []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, h, WriterOptions{})
	if err != nil {
		panic(err)
	}
	for _, f := range frames {
		w.writeFrame(f[0], f[1:])
		w.seq.count++
	}
	w.seq.cur = nil
	if err := w.Close(Trailer{}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// frameOf returns a frame of tag with v's canonical encoding as body.
func frameOf(tag byte, v any) []byte {
	if c, ok := v.(*Change); ok {
		v = ElideNewHash(c)
	}
	body, err := newCodec().encode(v)
	if err != nil {
		panic(err)
	}
	return append([]byte{tag}, body...)
}

// errContains reports whether err is non-nil and its message holds want.
func errContains(err error, want string) bool {
	return err != nil && strings.Contains(err.Error(), want)
}

// goldenSeed is the signature seed of the test streams, fixed so that the
// golden streams are.
var goldenSeed = []byte("ibt golden seed!")

// testSeed returns the seed a test stream of kind carries: none in a delta
// stream, which holds no signatures.
func testSeed(kind Kind) []byte {
	if kind == KindDelta {
		return nil
	}
	return goldenSeed
}
