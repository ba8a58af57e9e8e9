package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// The vectors in testdata/vectors are streams a compatible implementation
// must read as they say: each file is a few text lines, a blank line and
// the stream's bytes. The lines are
//
//	expect: OUTCOME    what reading the stream gives (below)
//	comment: TEXT      what the vector is about
//	file: PATH HEX     the content of a file entry, to recompute its hash
//
// and OUTCOME is one of
//
//	ok                  read to the end, every file's block size the spec's
//	not a stream        refused by its first bytes (ErrNotStream)
//	header failure      refused by its header (version, algorithms)
//	truncated           ends before its trailer (ErrTruncated)
//	checksum failure    the trailer's checksum does not match (ErrChecksum)
//	bad record          a record breaks the spec
//	trailing data       bytes after the trailer
//	block size failure  read, but a file records a block size other than
//	                    BlockSize(size): a program checking hashes refuses it
//
// TestVectors writes them (go test -update) from the definitions in
// doc.go, recomputed here without the code under test, and checks that the
// Reader gives every vector its outcome; testdata/vectors/spec.py
// recomputes the hashes of the ok vectors from doc.go alone, in Python.

const vectorDir = "testdata/vectors"

// vectorSeed keys the strong sums of the vector index.
var vectorSeed = []byte("ibt spec vector!")

type vectorFile struct {
	path string
	data []byte
}

// vectorFiles are the contents of the vector tree's files: one empty,
// one short, one of three blocks (so signed), one of exactly two.
func vectorFiles() []vectorFile {
	big := make([]byte, 1500)
	for i := range big {
		big[i] = byte(i * 7 % 251)
	}
	two := bytes.Repeat([]byte("0123456789abcdef"), 72) // 1152 = 2*576
	return []vectorFile{
		{"a.txt", []byte("hello\n")},
		{"b/big", big},
		{"b/empty", nil},
		{"b/two", two},
	}
}

// hashByDefinition is the sha256-blocks hash of data in blocks of bs, as
// doc.go states it.
func hashByDefinition(data []byte, bs int) []byte {
	h := sha256.New()
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(data))))
	h.Write(binary.LittleEndian.AppendUint32(nil, uint32(bs)))
	for len(data) > 0 {
		k := min(bs, len(data))
		leaf := sha256.Sum256(data[:k])
		h.Write(leaf[:])
		data = data[k:]
	}
	return h.Sum(nil)
}

// weakByDefinition is the rabinkarp32 sum of block, as doc.go states it.
func weakByDefinition(block []byte) uint32 {
	h := uint32(1)
	for _, x := range block {
		h = h*0x08104225 + uint32(x)
	}
	return h
}

// sigByDefinition is the signature of data, as doc.go states it.
func sigByDefinition(data []byte, seed []byte) []byte {
	bs := BlockSize(int64(len(data)))
	k := StrongLen(int64(len(data)), bs)
	var sig []byte
	for len(data) > 0 {
		block := data[:min(bs, len(data))]
		leaf := sha256.Sum256(block)
		sig = binary.BigEndian.AppendUint32(sig, weakByDefinition(block))
		sig = append(sig, strongByDefinition(seed, leaf)[:k]...)
		data = data[len(block):]
	}
	return sig
}

// vectorEntries are the entries of the vector tree, in stream order.
func vectorEntries(signed bool) []*Entry {
	const t = 1764097200_000000001
	files := map[string]*Entry{}
	for _, f := range vectorFiles() {
		size := int64(len(f.data))
		e := &Entry{Path: f.path, Type: TypeFile, Mode: 0o644, MTime: t, Size: size,
			Hash: hashByDefinition(f.data, BlockSize(size)), BlockSize: uint32(BlockSize(size))}
		if signed && Signed(size) {
			e.Sig = sigByDefinition(f.data, vectorSeed)
		}
		files[f.path] = e
	}
	a := files["a.txt"]
	return []*Entry{
		a,
		{Path: "b", Type: TypeDir, Mode: 0o755, MTime: t + 1},
		files["b/big"],
		files["b/empty"],
		files["b/two"],
		{Path: "c-link", Type: TypeSymlink, Mode: 0o777, MTime: -1, Target: "a.txt"},
		{Path: "d", Type: TypeFile, Mode: 0o644, MTime: t, Size: a.Size, Hash: a.Hash, BlockSize: a.BlockSize, LinkTo: "a.txt"},
		{Path: "e", Type: TypeCharDev, Mode: 0o600, MTime: t + 2, Rdev: MakeRdev(1, 3)},
		{Path: "f", Type: TypeFIFO, Mode: 0o644, MTime: t + 3},
	}
}

func vectorTreeHash(es []*Entry) []byte {
	th := NewTreeHasher()
	for _, e := range es {
		th.Add(e)
	}
	return th.Sum()
}

func vectorIndex() ([]byte, error) {
	var b bytes.Buffer
	w, err := NewWriter(&b, Header{Kind: KindIndex, Version: Version, Hash: HashAlgorithm, Weak: WeakAlgorithm,
		Strong: StrongAlgorithm, Seed: vectorSeed, Tool: "ibt vectors", Root: "/vec"}, WriterOptions{})
	if err != nil {
		return nil, err
	}
	es := vectorEntries(true)
	for _, e := range es {
		if err := w.WriteEntry(e); err != nil {
			return nil, err
		}
	}
	if err := w.Close(Trailer{TreeHash: vectorTreeHash(es)}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// vectorDelta is the full backup of the vector tree: every entry created,
// every file's content in literals. edit may change an entry first.
func vectorDelta(edit func(e *Entry, data []byte)) ([]byte, error) {
	var b bytes.Buffer
	w, err := NewWriter(&b, Header{Kind: KindDelta, Version: Version, Hash: HashAlgorithm, Weak: WeakAlgorithm,
		Strong: StrongAlgorithm, Tool: "ibt vectors", Root: "/vec"}, WriterOptions{})
	if err != nil {
		return nil, err
	}
	content := map[string][]byte{}
	for _, f := range vectorFiles() {
		content[f.path] = f.data
	}
	es := vectorEntries(false)
	for _, e := range es {
		if edit != nil {
			edit(e, content[e.Path])
		}
		c := &Change{Op: OpCreate, New: e}
		if err := w.WriteChange(c); err != nil {
			return nil, err
		}
		if c.HasData() && len(content[e.Path]) > 0 {
			if err := w.WriteLiteral(content[e.Path]); err != nil {
				return nil, err
			}
		}
	}
	if err := w.Close(Trailer{TreeHash: vectorTreeHash(es)}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// withChecksum returns s with its trailer's checksum made right again, so
// that a vector has one thing wrong only.
func withChecksum(s []byte) []byte {
	s = bytes.Clone(s)
	n := len(s) - 8
	binary.BigEndian.PutUint64(s[n:], xxhash.Sum64(s[:n]))
	return s
}

// trailerStart returns the offset of the trailer frame of s: a 'T' whose
// one-byte length reaches the end.
func trailerStart(s []byte) int {
	for i := len(s) - 2; i >= 0; i-- {
		if s[i] == tagTrailer && int(s[i+1]) == len(s)-i-2 {
			return i
		}
	}
	panic("no trailer")
}

// replaceOnce replaces the one occurrence of old in s.
func replaceOnce(s []byte, old, new string) []byte {
	if bytes.Count(s, []byte(old)) != 1 || len(old) != len(new) {
		panic(fmt.Sprintf("vector edit %q: not exactly one occurrence of the same length", old))
	}
	return bytes.Replace(s, []byte(old), []byte(new), 1)
}

type vector struct {
	name, expect, comment string
	files                 bool // list the files' content
	stream                func() ([]byte, error)
}

func vectors() []vector {
	index := func(edit func([]byte) []byte) func() ([]byte, error) {
		return func() ([]byte, error) {
			s, err := vectorIndex()
			if err != nil {
				return nil, err
			}
			return edit(s), nil
		}
	}
	same := func(s []byte) []byte { return s }
	return []vector{
		{"index", "ok", "an index of files (empty, short, signed), a directory, a symlink, a hard link, a device and a fifo", true, index(same)},
		{"delta", "ok", "the full backup of the same tree: each file's content in literals", false, func() ([]byte, error) { return vectorDelta(nil) }},
		{"not-a-stream", "not a stream", "the index with its magic's last byte changed", false, index(func(s []byte) []byte {
			s = bytes.Clone(s)
			s[3] = 'X'
			return s
		})},
		{"version-1", "header failure", "the index with version byte 1", false, index(func(s []byte) []byte {
			s = bytes.Clone(s)
			s[4] = 1
			return withChecksum(s)
		})},
		{"unknown-hash", "header failure", "the index with file hash algorithm sha256-blockz", false, index(func(s []byte) []byte {
			return withChecksum(replaceOnce(s, "sha256-blocks", "sha256-blockz"))
		})},
		{"truncated", "truncated", "the index without its trailer", false, index(func(s []byte) []byte {
			return s[:trailerStart(s)]
		})},
		{"checksum", "checksum failure", "the index with its checksum's last byte changed", false, index(func(s []byte) []byte {
			s = bytes.Clone(s)
			s[len(s)-1] ^= 1
			return s
		})},
		{"unknown-type", "bad record", "the index with the symlink's type 2 changed to 9", false, index(func(s []byte) []byte {
			return withChecksum(replaceOnce(s, "\xa1t\x02", "\xa1t\x09"))
		})},
		{"misordered", "bad record", "the index with path b/two renamed b/big, out of order", false, index(func(s []byte) []byte {
			return withChecksum(replaceOnce(s, "b/two", "b/bag"))
		})},
		{"trailing", "trailing data", "the index followed by one zero byte", false, index(func(s []byte) []byte {
			return append(bytes.Clone(s), 0)
		})},
		{"other-block-size", "block size failure", "the full backup with a.txt hashed in blocks of 2048 bytes, not BlockSize(6) = 576", false, func() ([]byte, error) {
			return vectorDelta(func(e *Entry, data []byte) {
				if e.Path == "a.txt" {
					e.BlockSize, e.Hash = 2048, hashByDefinition(data, 2048)
				}
			})
		}},
	}
}

// encode returns the vector file of v.
func (v vector) encode() ([]byte, error) {
	s, err := v.stream()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "expect: %s\ncomment: %s\n", v.expect, v.comment)
	if v.files {
		for _, f := range vectorFiles() {
			fmt.Fprintf(&b, "file: %s %s\n", f.path, hex.EncodeToString(f.data))
		}
	}
	b.WriteByte('\n')
	b.Write(s)
	return b.Bytes(), nil
}

// parseVector splits a vector file into its header lines and stream.
func parseVector(data []byte) (map[string][]string, []byte, error) {
	head, body, ok := bytes.Cut(data, []byte("\n\n"))
	if !ok {
		return nil, nil, errors.New("no blank line after the header")
	}
	h := map[string][]string{}
	for _, line := range strings.Split(string(head), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, nil, fmt.Errorf("header line %q", line)
		}
		h[k] = append(h[k], v)
	}
	return h, body, nil
}

// readOutcome reads a stream to its end and names the outcome.
func readOutcome(s []byte) (string, error) {
	name := func(err error, def string) string {
		switch {
		case errors.Is(err, ErrNotStream):
			return "not a stream"
		case errors.Is(err, ErrTruncated):
			return "truncated"
		case errors.Is(err, ErrChecksum):
			return "checksum failure"
		case strings.Contains(err.Error(), "data after the trailer"):
			return "trailing data"
		}
		return def
	}
	r, err := NewReader(bytes.NewReader(s))
	if err != nil {
		return name(err, "header failure"), err
	}
	var blockErr error
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return name(err, "bad record"), err
		}
		c, ok := rec.(*Change)
		if e, isEntry := rec.(*Entry); isEntry {
			c, ok = &Change{Op: OpCreate, New: e}, true
		}
		if ok && blockErr == nil {
			blockErr = CheckBlockSize(c)
		}
	}
	if blockErr != nil {
		return "block size failure", blockErr
	}
	return "ok", nil
}

func TestVectors(t *testing.T) {
	for _, v := range vectors() {
		t.Run(v.name, func(t *testing.T) {
			file := filepath.Join(vectorDir, v.name+".vec")
			got, err := v.encode()
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("vector differs from %s (run go test -update if the format changed on purpose)", file)
			}
		})
	}
	// every vector on disk, including any not generated above
	files, err := filepath.Glob(filepath.Join(vectorDir, "*.vec"))
	if err != nil || len(files) < len(vectors()) {
		t.Fatalf("%d vector files, want %d: %v", len(files), len(vectors()), err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			h, s, err := parseVector(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(h["expect"]) != 1 {
				t.Fatalf("expect lines %q, want one", h["expect"])
			}
			got, err := readOutcome(s)
			if got != h["expect"][0] {
				t.Errorf("outcome %q (%v), want %q", got, err, h["expect"][0])
			}
		})
	}
}

// TestVectorsBySpec recomputes the hashes of the ok vectors with
// testdata/vectors/spec.py, an implementation of doc.go in Python's
// standard library that shares no code with this package.
func TestVectorsBySpec(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	out, err := exec.Command(py, filepath.Join(vectorDir, "spec.py"), vectorDir).CombinedOutput()
	if err != nil {
		t.Fatalf("spec.py: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("index.vec: ok")) || !bytes.Contains(out, []byte("delta.vec: ok")) {
		t.Fatalf("spec.py checked neither index.vec nor delta.vec:\n%s", out)
	}
	t.Logf("%s", out)
}
