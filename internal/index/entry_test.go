package index

import (
	"reflect"
	"testing"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
)

// TestFromNodeMode checks the mode an index records: a file's and a
// directory's as lstat found them, special bits included, and every
// symlink's as 0777, whatever the system that made the archive reported,
// so a tree hashed on macOS or FreeBSD verifies on Linux.
func TestFromNodeMode(t *testing.T) {
	tests := []struct {
		name string
		node tree.Node
		want uint32
	}{
		{"file", tree.Node{Path: "a", Type: tree.TypeFile, Mode: 0o640}, 0o640},
		{"setuid file", tree.Node{Path: "a", Type: tree.TypeFile, Mode: 0o4755}, 0o4755},
		{"sticky directory", tree.Node{Path: "d", Type: tree.TypeDir, Mode: 0o1777}, 0o1777},
		{"private directory", tree.Node{Path: "d", Type: tree.TypeDir, Mode: 0o700}, 0o700},
		{"linux symlink", tree.Node{Path: "l", Type: tree.TypeSymlink, Mode: 0o777, Target: "a"}, 0o777},
		{"macos symlink, umask 022", tree.Node{Path: "l", Type: tree.TypeSymlink, Mode: 0o755, Target: "a"}, 0o777},
		{"bsd symlink, chmod -h 0", tree.Node{Path: "l", Type: tree.TypeSymlink, Mode: 0, Target: "a"}, 0o777},
		{"symlink with special bits", tree.Node{Path: "l", Type: tree.TypeSymlink, Mode: 0o7700, Target: "a"}, 0o777},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromNode(&tt.node).Mode; got != tt.want {
				t.Errorf("FromNode(%s with mode %04o).Mode = %04o, want %04o", tt.node.Type, tt.node.Mode, got, tt.want)
			}
		})
	}
}

// TestFromNodeSymlinkTreeHash checks the whole point of the rule: the same
// symlink seen with different modes hashes the same tree.
func TestFromNodeSymlinkTreeHash(t *testing.T) {
	hash := func(mode uint32) string {
		th := format.NewTreeHasher()
		e := FromNode(&tree.Node{Path: "l", Type: tree.TypeSymlink, Mode: mode, MTime: 1, Target: "../x"})
		th.Add(&e)
		return string(th.Sum())
	}
	if hash(0o755) != hash(0o777) {
		t.Error("a symlink of mode 0755 (macOS) and one of 0777 (Linux) give different tree hashes")
	}
}

// TestFromNodeFields checks that each kind of node keeps the fields that
// belong to it and no others.
func TestFromNodeFields(t *testing.T) {
	tests := []struct {
		name string
		node tree.Node
		want format.Entry
	}{
		{
			"file",
			tree.Node{Path: "f", Type: tree.TypeFile, Mode: 0o644, MTime: 5, Size: 9, UID: 1, GID: 2, Dev: 3, Inode: 4, CTime: 6, LinkTo: "e"},
			format.Entry{Path: "f", Type: format.TypeFile, Mode: 0o644, MTime: 5, Size: 9, UID: 1, GID: 2, Dev: 3, Inode: 4, CTime: 6, LinkTo: "e"},
		},
		{
			"directory",
			tree.Node{Path: "d", Type: tree.TypeDir, Mode: 0o755, MTime: 5},
			format.Entry{Path: "d", Type: format.TypeDir, Mode: 0o755, MTime: 5},
		},
		{
			"symlink",
			tree.Node{Path: "l", Type: tree.TypeSymlink, Mode: 0o755, MTime: 5, Target: "d/f", Xattrs: []tree.Xattr{{Name: "user.a", Value: []byte("v")}}},
			format.Entry{Path: "l", Type: format.TypeSymlink, Mode: 0o777, MTime: 5, Target: "d/f", Xattrs: []format.Xattr{{Name: "user.a", Value: []byte("v")}}},
		},
		{
			"named pipe",
			tree.Node{Path: "p", Type: tree.TypeFIFO, Mode: 0o4620, MTime: 5, UID: 7, Nlink: 2},
			format.Entry{Path: "p", Type: format.TypeFIFO, Mode: 0o4620, MTime: 5, UID: 7},
		},
		{
			"socket",
			tree.Node{Path: "s", Type: tree.TypeSocket, Mode: 0o1777, MTime: 5},
			format.Entry{Path: "s", Type: format.TypeSocket, Mode: 0o1777, MTime: 5},
		},
		{
			"character device",
			tree.Node{Path: "c", Type: tree.TypeCharDev, Mode: 0o666, MTime: 5, Rdev: format.MakeRdev(1, 3)},
			format.Entry{Path: "c", Type: format.TypeCharDev, Mode: 0o666, MTime: 5, Rdev: format.MakeRdev(1, 3)},
		},
		{
			"block device",
			tree.Node{Path: "b", Type: tree.TypeBlockDev, Mode: 0o660, MTime: 5, Rdev: format.MakeRdev(8, 1)},
			format.Entry{Path: "b", Type: format.TypeBlockDev, Mode: 0o660, MTime: 5, Rdev: format.MakeRdev(8, 1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromNode(&tt.node); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromNode() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
