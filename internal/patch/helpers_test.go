package patch

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
	"github.com/ibt-tools/ibt/internal/rsync"
)

// node is one entry of an in-memory tree.
type node struct {
	typ    format.Type
	mode   uint32
	mtime  int64
	data   string
	target string
	rdev   uint64 // devices
}

// tr is an in-memory tree: path -> node.
type tr map[string]node

var baseTime = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC).UnixNano()

func file(data string) node {
	return node{typ: format.TypeFile, mode: 0o644, mtime: baseTime, data: data}
}
func dir() node { return node{typ: format.TypeDir, mode: 0o755, mtime: baseTime} }
func symlink(target string) node {
	return node{typ: format.TypeSymlink, mode: 0o777, mtime: baseTime, target: target}
}

func (n node) withMode(m uint32) node { n.mode = m; return n }
func (n node) withTime(t int64) node  { n.mtime = t; return n }

// clone copies a tree, so a test can derive the next version from it.
func (t tr) clone() tr {
	c := tr{}
	for p, n := range t {
		c[p] = n
	}
	return c
}

func (t tr) paths() []string {
	ps := make([]string, 0, len(t))
	for p := range t {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// entry is the index entry ibt-sign would make of n at p.
func entry(p string, n node) *format.Entry {
	e := &format.Entry{Path: p, Type: n.typ, Mode: n.mode, MTime: n.mtime, Target: n.target, Rdev: n.rdev}
	if n.typ == format.TypeFile {
		e.Size = int64(len(n.data))
		e.BlockSize = uint32(format.BlockSize(e.Size))
		h, sig, err := rsync.Sign(strings.NewReader(n.data), e.Size, testKey)
		if err != nil {
			panic(err)
		}
		e.Hash, e.Sig = h, sig
	}
	return e
}

func treeHash(t tr) []byte {
	th := format.NewTreeHasher()
	for _, p := range t.paths() {
		e := entry(p, t[p])
		th.Add(e)
	}
	return th.Sum()
}

// changes lists the changes from old to new as ibt-diff makes them.
func changes(old, new tr) []*format.Change {
	all := map[string]bool{}
	for p := range old {
		all[p] = true
	}
	for p := range new {
		all[p] = true
	}
	ps := make([]string, 0, len(all))
	for p := range all {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	var cs []*format.Change
	for _, p := range ps {
		o, inOld := old[p]
		n, inNew := new[p]
		switch {
		case !inOld:
			cs = append(cs, &format.Change{Op: format.OpCreate, New: entry(p, n)})
		case !inNew:
			cs = append(cs, &format.Change{Op: format.OpDelete, Old: entry(p, o)})
		case o.typ != n.typ || o.target != n.target || o.rdev != n.rdev:
			cs = append(cs, &format.Change{Op: format.OpReplace, Old: entry(p, o), New: entry(p, n)})
		case o.typ == format.TypeFile && o.data != n.data:
			cs = append(cs, &format.Change{Op: format.OpUpdate, Old: entry(p, o), New: entry(p, n)})
		case o.mode != n.mode || o.mtime != n.mtime:
			cs = append(cs, &format.Change{Op: format.OpMeta, Old: entry(p, o), New: entry(p, n)})
		}
	}
	addSources(cs, old, new)
	return cs
}

// addSources gives created files of 64 bytes or more a source as ibt-diff
// does: an old file of the same content that the changes delete, change in
// metadata or leave alone, else an earlier created file.
func addSources(cs []*format.Change, old, new tr) {
	kept := map[string]string{} // content -> old path
	for _, p := range old.paths() {
		if o := old[p]; o.typ == format.TypeFile {
			if _, ok := kept[o.data]; !ok {
				kept[o.data] = p
			}
		}
	}
	for _, c := range cs {
		if (c.Op == format.OpUpdate || c.Op == format.OpReplace) && c.Old.Type == format.TypeFile {
			d := old[c.Path()].data
			if kept[d] == c.Path() {
				delete(kept, d) // another old copy may remain; good enough for the tests
			}
		}
	}
	created := map[string]string{}
	for _, c := range cs {
		if (c.Op != format.OpCreate && c.Op != format.OpReplace) || c.New.Type != format.TypeFile || c.New.Size < 64 {
			continue
		}
		d := new[c.Path()].data
		if p, ok := kept[d]; ok {
			c.From = p
		} else if p, ok := created[d]; ok {
			c.From, c.FromNew = p, true
		} else {
			created[d] = c.Path()
		}
	}
}

// makeArchive builds the archive that turns old into new, as ibt-diff,
// ibt-delta and ibt-pack would.
func makeArchive(t testing.TB, old, new tr) []byte {
	t.Helper()
	return makeArchiveCodec(t, old, new, archive.Gzip)
}

func makeArchiveCodec(t testing.TB, old, new tr, codec archive.Codec) []byte {
	t.Helper()
	return writeArchive(t, changes(old, new), new, codec)
}

// writeArchive writes an archive of the changes cs, whose new tree is new.
func writeArchive(t testing.TB, cs []*format.Change, new tr, codec archive.Codec) []byte {
	t.Helper()
	return writeArchiveHeader(t, cs, new, codec, format.Header{Kind: format.KindDelta, Version: format.Version, Hash: format.HashAlgorithm, Tool: "test"})
}

// writeArchiveHeader is writeArchive with the delta header h.
func writeArchiveHeader(t testing.TB, cs []*format.Change, new tr, codec archive.Codec, h format.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := archive.NewWriter(&buf, h, archive.WriterOptions{Codec: codec, Level: level(codec)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if err := w.AddChange(c); err != nil {
			t.Fatal(err)
		}
		if !c.HasData() {
			continue
		}
		data := new[c.Path()].data
		if c.Op != format.OpUpdate {
			for len(data) > 0 {
				k := min(len(data), format.MaxChunk)
				if err := w.WriteContent([]byte(data[:k])); err != nil {
					t.Fatal(err)
				}
				data = data[k:]
			}
			continue
		}
		var sig *rsync.Signature
		if len(c.Old.Sig) > 0 {
			if sig, err = rsync.ParseSignature(c.Old.Sig, int(c.Old.BlockSize), c.Old.Size, testKey); err != nil {
				t.Fatal(err)
			}
		}
		err := rsync.Delta(sig, strings.NewReader(data), func(op rsync.Op) error {
			if op.Kind == rsync.OpCopy {
				return w.WriteCopy(op.Offset, op.Length)
			}
			return w.WriteLiteral(op.Data)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(format.Trailer{TreeHash: treeHash(new)}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// materialize writes t into the directory d (which must exist), metadata
// included, directories' mtimes last.
func materialize(t testing.TB, d string, tt tr) {
	t.Helper()
	ps := tt.paths()
	for _, p := range ps {
		n, full := tt[p], filepath.Join(d, p)
		var err error
		switch n.typ {
		case format.TypeDir:
			err = os.Mkdir(full, 0o700)
		case format.TypeFile:
			err = os.WriteFile(full, []byte(n.data), 0o600)
		case format.TypeSymlink:
			err = os.Symlink(n.target, full)
		default:
			err = makeSpecial(full, n)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range slices.Backward(ps) {
		n, full := tt[p], filepath.Join(d, p)
		if n.typ == format.TypeSymlink {
			if err := lutimesPath(full, n.mtime); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.Chmod(full, fileMode(n.mode)); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(full, time.Time{}, time.Unix(0, n.mtime)); err != nil {
			t.Fatal(err)
		}
	}
}

func lutimesPath(p string, mtime int64) error {
	r, err := os.OpenRoot(filepath.Dir(p))
	if err != nil {
		return err
	}
	defer r.Close()
	return lutimes(r, filepath.Base(p), mtime)
}

// listing describes every path under d, d itself included, with what a
// user compares after a restore: type, mode, mtime, size, content hash,
// symlink target. A workspace that holds nothing but the known file that
// ibt-patch keeps (see known.go) is left out; anything else left there is
// listed.
func listing(t testing.TB, d string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(d, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(d, p)
		fmt.Fprintf(&b, "%q %v %d", rel, fi.Mode(), fi.ModTime().UnixNano())
		switch {
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %d %x", len(data), sha256.Sum256(data))
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			fmt.Fprintf(&b, " -> %q", target)
		case fi.Mode()&fs.ModeDevice != 0:
			fmt.Fprintf(&b, " rdev %#x", rdevOf(fi))
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// testKnownDir keeps the known files of the tests' runs (Options.KnownDir).
var testKnownDir string

// knownPath is the path of the known file of DIR d.
func knownPath(t testing.TB, d string) string {
	t.Helper()
	p := openKnownPlace(d, testKnownDir)
	if p == nil {
		t.Fatal("no place for the known file")
	}
	defer p.close()
	return filepath.Join(testKnownDir, p.name)
}

// hasKnown reports whether a run left a known file for DIR d.
func hasKnown(t testing.TB, d string) bool {
	t.Helper()
	_, err := os.Lstat(knownPath(t, d))
	return err == nil
}

// treeListing is the listing a tree must have once restored into a
// directory, without the directory itself.
func treeListing(t testing.TB, tt tr) string {
	t.Helper()
	d := t.TempDir()
	materialize(t, d, tt)
	return withoutRoot(listing(t, d))
}

func withoutRoot(l string) string {
	_, rest, _ := strings.Cut(l, "\n")
	return rest
}

// apply applies an archive to d.
func apply(d string, a []byte) (Summary, error) {
	return Apply(d, bytes.NewReader(a), Options{KnownDir: testKnownDir})
}

func mustApply(t testing.TB, d string, a []byte) Summary {
	t.Helper()
	s, err := apply(d, a)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return s
}

func sha256sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// level is the fastest level of codec, to keep tests quick.
func level(c archive.Codec) int {
	if c == archive.Gzip {
		return 1
	}
	return 0
}

// testKey keys the strong sums of the signatures the tests make.
var testKey = func() *format.StrongKey {
	k, err := format.NewStrongKey([]byte("ibt patch tests!"))
	if err != nil {
		panic(err)
	}
	return k
}()
