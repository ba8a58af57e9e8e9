package tree

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// dirent encodes one linux_dirent64 record, padded to 8 bytes as the kernel does.
func dirent(ino uint64, typ uint8, name string) []byte {
	n := (direntHeader + len(name) + 1 + 7) &^ 7
	b := make([]byte, n)
	binary.NativeEndian.PutUint64(b[0:8], ino)
	binary.NativeEndian.PutUint16(b[16:18], uint16(n))
	b[18] = typ
	copy(b[direntHeader:], name)
	return b
}

func TestParseDirents(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, "sub/", "file")
	d, err := openRootDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()

	var b []byte
	b = append(b, dirent(1, unix.DT_DIR, ".")...)
	b = append(b, dirent(1, unix.DT_DIR, "..")...)
	b = append(b, dirent(0, unix.DT_REG, "deleted")...)
	b = append(b, dirent(2, unix.DT_UNKNOWN, "sub")...) // the filesystem did not say: lstat decides
	b = append(b, dirent(3, unix.DT_UNKNOWN, "file")...)
	b = append(b, dirent(4, unix.DT_FIFO, "p")...)
	var l listing
	if err := d.parse(&l, b); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		kind kind
	}{{"sub", kindDir}, {"sub", kindDir}, {"file", kindFile}, {"p", kindFifo}}
	if len(l.items) != len(want) {
		t.Fatalf("parsed %d items, want %d", len(l.items), len(want))
	}
	for i, w := range want {
		if got := l.items[i]; string(l.name(got)) != w.name || got.kind != w.kind {
			t.Errorf("item %d = %q %v, want %q %v", i, l.name(got), got.kind, w.name, w.kind)
		}
	}

	for _, bad := range [][]byte{make([]byte, 5), dirent(1, unix.DT_REG, "x")[:20]} {
		if err := d.parse(&l, bad); !errors.Is(err, errBadDirent) {
			t.Errorf("parse(% x) = %v, want errBadDirent", bad, err)
		}
	}
}
