//go:build linux

package powerloss

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// mount mounts a power-loss filesystem over a new backing directory.
func mount(t *testing.T) (*FS, string, string) {
	t.Helper()
	if why := Available(); why != "" {
		t.Skipf("no power-loss filesystem: %s", why)
	}
	backing, mnt := t.TempDir(), t.TempDir()
	p, err := Mount(backing, mnt, Options{})
	if err != nil {
		t.Skipf("no power-loss filesystem: mount: %v", err)
	}
	return p, backing, mnt
}

func write(t *testing.T, name, data string, sync bool) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
}

func syncDir(t *testing.T, name string) {
	t.Helper()
	d, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
}

func content(backing, name string) string {
	b, err := os.ReadFile(filepath.Join(backing, name))
	if err != nil {
		return "<absent>"
	}
	return string(b)
}

// What survives a cut is what the model promises, no more and no less.
func TestPowerLossModel(t *testing.T) {
	p, backing, mnt := mount(t)
	write(t, filepath.Join(mnt, "unsynced"), "lost", false)
	write(t, filepath.Join(mnt, "synced"), "kept", true)
	write(t, filepath.Join(mnt, "dataless"), "lost", false)
	syncDir(t, mnt) // names unsynced, synced and dataless are durable now
	write(t, filepath.Join(mnt, "late"), "not named", true)
	write(t, filepath.Join(mnt, "tmp"), "renamed", true)
	if err := os.Rename(filepath.Join(mnt, "tmp"), filepath.Join(mnt, "renamed")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(mnt, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(mnt, "d", "f"), "in d", true)
	syncDir(t, filepath.Join(mnt, "d")) // d/f's name, but not d's
	if _, err := p.Cut(0); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"unsynced": "", "synced": "kept", "dataless": "", "late": "<absent>",
		"renamed": "<absent>", "tmp": "<absent>", "d/f": "<absent>",
	} {
		if got := content(backing, name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}

	// the same again, and the rest of the journal survives too
	mnt2 := t.TempDir()
	p, err := Mount(backing, mnt2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(mnt2, "tmp"), "renamed", true)
	if err := os.Rename(filepath.Join(mnt2, "tmp"), filepath.Join(mnt2, "renamed")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(mnt2, "unsynced"), "still lost", false)
	if _, err := p.Cut(1 << 30); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"renamed": "renamed", "tmp": "<absent>", "unsynced": ""} {
		if got := content(backing, name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}

	// a syncfs keeps everything
	mnt3 := t.TempDir()
	if p, err = Mount(backing, mnt3, Options{}); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(mnt3, "e"), "all of it", false)
	os.Chmod(filepath.Join(mnt3, "synced"), 0o600)
	if err := unix.Setxattr(mnt3, SyncfsAttr, nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Cut(0); err != nil {
		t.Fatal(err)
	}
	if got := content(backing, "e"); got != "all of it" {
		t.Errorf("e: %q", got)
	}
	if fi, err := os.Stat(filepath.Join(backing, "synced")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("synced: %v %v", fi.Mode(), err)
	}
}
