package tree

import (
	"io/fs"
	"testing"
	"time"
)

// fileInfo is a FileInfo without a stat structure, as some fs.FS give.
type fileInfo struct {
	mode fs.FileMode
	size int64
	mt   time.Time
}

func (f fileInfo) Name() string       { return "x" }
func (f fileInfo) Size() int64        { return f.size }
func (f fileInfo) Mode() fs.FileMode  { return f.mode }
func (f fileInfo) ModTime() time.Time { return f.mt }
func (f fileInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fileInfo) Sys() any           { return nil }

func TestNodeFromInfoWithoutStat(t *testing.T) {
	mt := time.Unix(1_700_000_000, 5)
	tests := []struct {
		mode   fs.FileMode
		typ    Type
		perm   uint32
		size   int64
		target string
	}{
		{0o644, TypeFile, 0o644, 10, ""},
		{fs.ModeDir | fs.ModeSticky | 0o777, TypeDir, 0o1777, 0, ""},
		{fs.ModeSetuid | fs.ModeSetgid | 0o755, TypeFile, 0o6755, 10, ""},
		{fs.ModeSymlink | 0o777, TypeSymlink, 0o777, 0, "t"},
		{fs.ModeNamedPipe | 0o600, TypeFIFO, 0o600, 0, ""},
		{fs.ModeDevice | fs.ModeCharDevice | 0o600, TypeCharDev, 0o600, 0, ""},
		{fs.ModeDevice | 0o660, TypeBlockDev, 0o660, 0, ""},
		{fs.ModeSocket | fs.ModeSetuid | 0o755, TypeSocket, 0o4755, 0, ""},
		{fs.ModeIrregular | 0o644, TypeOther, 0o644, 0, ""},
	}
	for _, tt := range tests {
		n := NodeFromInfo("p", fileInfo{tt.mode, 10, mt}, "t")
		if n.Path != "p" || n.Type != tt.typ || n.Mode != tt.perm || n.Size != tt.size ||
			n.Target != tt.target || n.MTime != mt.UnixNano() {
			t.Errorf("%v: got %+v, want %v %04o size %d target %q", tt.mode, n, tt.typ, tt.perm, tt.size, tt.target)
		}
	}
}

func TestKindReasons(t *testing.T) {
	tests := []struct {
		mode fs.FileMode
		want string
	}{
		{fs.ModeNamedPipe, "named pipe"},
		{fs.ModeSocket, "socket"},
		{fs.ModeDevice | fs.ModeCharDevice, "character device"},
		{fs.ModeDevice, "block device"},
		{fs.ModeIrregular, "file of unsupported type"},
	}
	for _, tt := range tests {
		if got := kindOfMode(tt.mode).String(); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.mode, got, tt.want)
		}
	}
}
