package patch

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ibt-tools/ibt/format"
)

func TestXattrsAreRestored(t *testing.T) {
	probe := filepath.Join(t.TempDir(), "probe")
	os.WriteFile(probe, nil, 0o644)
	if err := unix.Setxattr(probe, "user.probe", []byte("1"), 0); err != nil {
		t.Skipf("no user xattrs here: %v", err)
	}
	f := fileEntry("f", "content\n")
	f.Xattrs = []format.Xattr{{Name: "user.color", Value: []byte("blue")}, {Name: "user.empty", Value: []byte{}}}
	d := entry("d", dir())
	d.Xattrs = []format.Xattr{{Name: "user.dir", Value: []byte("yes")}}
	dst := filepath.Join(t.TempDir(), "dst")
	mustApply(t, dst, archiveOf(t, []*format.Change{{Op: format.OpCreate, New: d}, {Op: format.OpCreate, New: f}},
		map[string]string{"f": "content\n"}, []*format.Entry{d, f}))
	get := func(p, n string) string {
		buf := make([]byte, 64)
		k, err := unix.Lgetxattr(filepath.Join(dst, p), n, buf)
		if err != nil {
			return "error: " + err.Error()
		}
		return string(buf[:k])
	}
	if got := get("f", "user.color"); got != "blue" {
		t.Errorf("f user.color = %q", got)
	}
	if got := get("f", "user.empty"); got != "" {
		t.Errorf("f user.empty = %q", got)
	}
	if got := get("d", "user.dir"); got != "yes" {
		t.Errorf("d user.dir = %q", got)
	}
	// a metadata change replaces the attributes
	f2 := *f
	f2.Xattrs = []format.Xattr{{Name: "user.color", Value: []byte("red")}}
	s := mustApply(t, dst, archiveOf(t, []*format.Change{{Op: format.OpMeta, Old: f, New: &f2}}, nil, []*format.Entry{d, &f2}))
	if s.Meta != 1 {
		t.Errorf("summary %+v, want one metadata change", s)
	}
	if got := get("f", "user.color"); got != "red" {
		t.Errorf("after the meta change f user.color = %q", got)
	}
	if got := get("f", "user.empty"); got == "" {
		t.Errorf("user.empty was not removed")
	}
}
