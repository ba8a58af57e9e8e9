package patch

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

// cutOffsets returns every tar record boundary (for an uncompressed
// archive) and every step-th byte offset of an archive of n bytes.
func cutOffsets(n, step int, records bool) []int {
	seen := map[int]bool{}
	var offs []int
	add := func(o int) {
		if o >= 0 && o < n && !seen[o] {
			seen[o] = true
			offs = append(offs, o)
		}
	}
	if records {
		for o := 0; o < n; o += 512 {
			add(o)
		}
	}
	for o := 0; o < n; o += step {
		add(o)
	}
	add(n - 1)
	return offs
}

func TestTruncatedArchiveLeavesDirUntouched(t *testing.T) {
	t.Parallel()
	for _, codec := range []archive.Codec{archive.None, archive.Gzip, archive.Zstd} {
		t.Run(string(codec), func(t *testing.T) {
			inc := makeArchiveCodec(t, v1Tree(), v2Tree(), codec)
			d := restored(t, v1Tree())
			before := listing(t, d)
			// every record boundary, and a spread of offsets between them
			step := 157
			if codec != archive.None {
				step = 41
			}
			offs := cutOffsets(len(inc), step, codec == archive.None)
			for _, n := range offs {
				if _, err := apply(d, inc[:n]); err == nil {
					t.Fatalf("archive cut at %d of %d bytes applied", n, len(inc))
				} else if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("cut at %d: error %q is not ErrCorrupt", n, err)
				}
				if after := listing(t, d); after != before {
					t.Fatalf("archive cut at %d changed DIR:\n%s\nthen:\n%s", n, before, after)
				}
			}
			t.Logf("%d cuts of a %d-byte archive refused", len(offs), len(inc))
		})
	}
}

func TestFlippedBytesNeverDamageDir(t *testing.T) {
	t.Parallel()
	for _, codec := range []archive.Codec{archive.None, archive.Gzip, archive.Zstd} {
		t.Run(string(codec), func(t *testing.T) {
			inc := makeArchiveCodec(t, v1Tree(), v2Tree(), codec)
			want := treeListing(t, v2Tree())
			d := restored(t, v1Tree())
			before := listing(t, d)
			refusedN, step := 0, 89
			if codec == archive.None {
				step = 163 // mostly tar padding and file data
			}
			for _, off := range cutOffsets(len(inc), step, false) {
				bad := bytes.Clone(inc)
				bad[off] ^= 0x5a
				_, err := apply(d, bad)
				if err == nil {
					// a flip in tar padding changes nothing that matters: the
					// result must then be exactly the new tree
					if got := withoutRoot(listing(t, d)); got != want {
						t.Fatalf("flip at %d applied a wrong tree:\n%s", off, got)
					}
					d = restored(t, v1Tree())
					before = listing(t, d)
					continue
				}
				refusedN++
				if after := listing(t, d); after != before {
					t.Fatalf("flip at %d (%v) changed DIR:\n%s\nthen:\n%s", off, err, before, after)
				}
			}
			if refusedN == 0 {
				t.Fatal("no flip was refused")
			}
		})
	}
}

// rawArchive writes an archive by hand, uncompressed, with whatever
// changes and member names it is given: what a hostile tool could send.
func rawArchive(t *testing.T, cs []*format.Change, data map[string][]byte, treeHash []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	digest := xxhash.New()
	members := uint64(0)
	put := func(name string, b []byte, sum bool) {
		if sum {
			digest.Write(b)
		}
		members++
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	enc := func(v any) []byte {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	put("ibt/header", enc(&archive.Header{Kind: archive.Kind, Version: archive.Version, Tool: "hostile",
		Delta: format.Header{Kind: format.KindDelta, Version: format.Version, Hash: format.HashAlgorithm}, Codec: archive.None}), true)
	put("ibt/changes/000001", enc(cs), true)
	for _, c := range cs {
		if c.HasData() {
			name := fmt.Sprintf("created/%x", sha256sum(c.Path()))
			if d, ok := data["name:"+c.Path()]; ok {
				name = string(d)
			}
			put(name, data[c.Path()], false)
		}
	}
	tr := archive.Trailer{Changes: uint64(len(cs)), Members: members, TreeHash: treeHash, Checksum: digest.Sum64()}
	b := enc(&tr)
	if err := tw.WriteHeader(&tar.Header{Name: "ibt/trailer", Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}); err != nil {
		t.Fatal(err)
	}
	tw.Write(b)
	tw.Close()
	return buf.Bytes()
}

func fileEntry(p, content string) *format.Entry { return entry(p, file(content)) }

func TestHostileArchivesWriteNothingOutside(t *testing.T) {
	top := t.TempDir()
	outside := filepath.Join(top, "outside")
	os.Mkdir(outside, 0o755)
	abs := filepath.Join(outside, "abs")
	create := func(p string) *format.Change { return &format.Change{Op: format.OpCreate, New: fileEntry(p, "evil\n")} }
	tests := []struct {
		name string
		cs   []*format.Change
		data map[string][]byte
	}{
		{"dot-dot path", []*format.Change{create("../outside/evil")}, nil},
		{"inner dot-dot path", []*format.Change{create("a/../../outside/evil")}, nil},
		{"absolute path", []*format.Change{create(abs)}, nil},
		{"NUL in path", []*format.Change{create("a\x00b")}, nil},
		{"empty path", []*format.Change{create("")}, nil},
		{"staging directory", []*format.Change{create(".ibt-patch/journal")}, nil},
		{"symlink escape", []*format.Change{
			{Op: format.OpCreate, New: entry("l", symlink(outside))},
			create("l/evil"),
		}, nil},
		{"relative symlink escape", []*format.Change{
			{Op: format.OpCreate, New: entry("l", symlink("../outside"))},
			create("l/evil"),
		}, nil},
		{"data member named to escape", []*format.Change{create("x")}, map[string][]byte{"name:x": []byte("../../outside/evil")}},
		{"duplicate path", []*format.Change{create("x"), create("x")}, nil},
		{"delete through a symlink the archive keeps", []*format.Change{
			{Op: format.OpDelete, Old: fileEntry("l/x", "x")},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := filepath.Join(top, "dir")
			os.RemoveAll(d)
			os.Mkdir(d, 0o755)
			os.Symlink(outside, filepath.Join(d, "l"))
			os.WriteFile(filepath.Join(outside, "x"), []byte("x"), 0o644)
			data := map[string][]byte{}
			for _, c := range tt.cs {
				if c.HasData() {
					data[c.Path()] = []byte("evil\n")
				}
			}
			for k, v := range tt.data {
				data[k] = v
			}
			before, beforeTop := listing(t, d), listing(t, outside)
			_, err := apply(d, rawArchive(t, tt.cs, data, nil))
			if err == nil {
				t.Fatal("hostile archive applied")
			}
			t.Logf("refused: %v", err)
			if after := listing(t, d); after != before {
				t.Fatalf("DIR changed:\n%s\nthen:\n%s", before, after)
			}
			if after := listing(t, outside); after != beforeTop {
				t.Fatalf("wrote outside DIR:\n%s\nthen:\n%s", beforeTop, after)
			}
		})
	}
}

// failingWriter fails with ENOSPC once limit bytes have been written.
type failingWriter struct {
	w     io.Writer
	limit *int
}

func (f failingWriter) Write(p []byte) (int, error) {
	if len(p) > *f.limit {
		n, _ := f.w.Write(p[:*f.limit])
		*f.limit = 0
		return n, &os.PathError{Op: "write", Path: "staged", Err: syscall.ENOSPC}
	}
	*f.limit -= len(p)
	return f.w.Write(p)
}

func TestFullDiskLeavesDirUntouched(t *testing.T) {
	inc := makeArchive(t, v1Tree(), v2Tree())
	for _, limit := range []int{0, 100, 40000} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			d := restored(t, v1Tree())
			left := limit
			faults.write = func(_ string, w io.Writer) io.Writer { return failingWriter{w, &left} }
			defer func() { faults.write = nil }()
			err := refused(t, d, inc, nil, "")
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("error %q does not say the disk is full", err)
			}
		})
	}
}

// flushTrees is a tree and the next version, which creates a file of 10
// flush chunks: its staged file is flushed while it is written.
func flushTrees() (tr, tr) {
	old := tr{"a.txt": file("small\n")}
	new := old.clone()
	new["big.bin"] = file(strings.Repeat("0123456789abcdef", int(10*flushChunk/16)))
	return old, new
}

// TestStagedFileFlushedAsItIsWritten checks that a large staged file, new
// or the update of one (whose old version's page cache is dropped
// meanwhile), is flushed while it is written, each flush after a flush
// chunk more of its data, and that the tree comes out right.
func TestStagedFileFlushedAsItIsWritten(t *testing.T) {
	defer func(n int64) { flushChunk = n }(flushChunk)
	flushChunk = 64 << 10
	created, createdNew := flushTrees()
	updated := createdNew.clone()
	updatedNew := updated.clone()
	updatedNew["big.bin"] = file(strings.Repeat("0123456789ABCDEF", int(10*flushChunk/16)))
	for _, tc := range []struct {
		name     string
		old, new tr
	}{{"created", created, createdNew}, {"updated", updated, updatedNew}} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var sizes []int64
			faults.flush = func(f *os.File) error {
				fi, err := f.Stat()
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					sizes = append(sizes, fi.Size())
				}
				return err
			}
			defer func() { faults.flush = nil }()
			d := restored(t, tc.old)
			mustApply(t, d, makeArchive(t, tc.old, tc.new))
			if got, want := withoutRoot(listing(t, d)), treeListing(t, tc.new); got != want {
				t.Fatalf("patched tree differs:\n got:\n%s\nwant:\n%s", got, want)
			}
			if len(sizes) == 0 || len(sizes) > 10 {
				t.Fatalf("%d flushes of a staged file of 10 flush chunks, want 1 to 10", len(sizes))
			}
			for i, size := range sizes {
				if min := int64(i+1) * flushChunk; size < min {
					t.Errorf("flush %d found %d bytes written, want %d or more", i+1, size, min)
				}
			}
		})
	}
}

// A flush that fails while a staged file is written fails the run, with
// DIR as it was: the next fsync of the file might not report it again.
func TestFailedFlushLeavesDirUntouched(t *testing.T) {
	defer func(n int64) { flushChunk = n }(flushChunk)
	flushChunk = 64 << 10
	faults.flush = func(*os.File) error { return &os.PathError{Op: "fdatasync", Path: "staged", Err: syscall.EIO} }
	defer func() { faults.flush = nil }()
	old, new := flushTrees()
	d := restored(t, old)
	err := refused(t, d, makeArchive(t, old, new), nil, "big.bin")
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("error %q does not say the flush failed", err)
	}
}

// A full restore stages its small files on the stage writer (see
// stagewriter.go): a failure there still leaves DIR as it was.
func TestFullDiskInAFullRestoreLeavesDirUntouched(t *testing.T) {
	// every file below a directory staged whole, the second one failing
	full := makeArchive(t, tr{}, tr{"d": dir(), "d/a": file("alpha\n"), "d/b": file("beta\n"), "d/e/c": file("gamma\n"), "d/e": dir()})
	for _, limit := range []int{0, 8} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			d := filepath.Join(t.TempDir(), "dir")
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			left := limit
			faults.write = func(_ string, w io.Writer) io.Writer {
				return lockedWriter{&mu, failingWriter{w, &left}}
			}
			defer func() { faults.write = nil }()
			err := refused(t, d, full, nil, "")
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("error %q does not say the disk is full", err)
			}
		})
	}
}

// lockedWriter writes to w under mu: the stage writer and the reading
// both write staged files.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestFullTmpfsLeavesDirUntouched(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	old := tr{"a.txt": file("small\n"), "d": dir()}
	new := old.clone()
	new["d/big.bin"] = file(string(bytes.Repeat([]byte("0123456789abcdef"), 128<<10))) // 2 MiB
	d := filepath.Join(mnt, "dir")
	mustApply(t, d, makeArchive(t, tr{}, old))
	err := refused(t, d, makeArchive(t, old, new), nil, "d/big.bin")
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("error %q does not say the disk is full", err)
	}
}

// TestFlippedContentInAFullRestore flips a byte of each small file's
// content in a full archive: the stage writer checks each file before it
// makes it, so the restore is refused naming that file, with no DIR left.
func TestFlippedContentInAFullRestore(t *testing.T) {
	t.Parallel()
	v := tr{"d": dir(), "d/e": dir()}
	for i := range 6 {
		v[fmt.Sprintf("d/f%d", i)] = file(fmt.Sprintf("content of file %d, unique in the archive\n", i))
		v[fmt.Sprintf("d/e/g%d", i)] = file(fmt.Sprintf("content of nested file %d, unique too\n", i))
	}
	full := makeArchiveCodec(t, tr{}, v, archive.None)
	for _, p := range v.paths() {
		if v[p].typ != format.TypeFile {
			continue
		}
		off := bytes.Index(full, []byte(v[p].data))
		if off < 0 {
			t.Fatalf("no content of %q in the archive", p)
		}
		bad := bytes.Clone(full)
		bad[off+3] ^= 0x20
		d := filepath.Join(t.TempDir(), "restore")
		_, err := apply(d, bad)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `"`+p+`"`) {
			t.Errorf("content of %q flipped: %v, want %v naming it", p, err, ErrCorrupt)
		}
		if _, serr := os.Lstat(d); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("content of %q flipped: DIR is left (%v)", p, serr)
		}
	}
}
