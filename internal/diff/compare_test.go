package diff

import (
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// TestCompareSpecials checks how ibt-diff tells changes of special files
// apart: another device number or type is a replace, other metadata a
// metadata change.
func TestCompareSpecials(t *testing.T) {
	dev := func(major, minor uint32, mode uint32) *format.Entry {
		return &format.Entry{Path: "d", Type: format.TypeCharDev, Mode: mode, Rdev: format.MakeRdev(major, minor)}
	}
	tests := []struct {
		name     string
		old, new *format.Entry
		want     format.Op // 0: no change
	}{
		{"same device", dev(1, 3, 0o666), dev(1, 3, 0o666), 0},
		{"device mode", dev(1, 3, 0o666), dev(1, 3, 0o600), format.OpMeta},
		{"device minor", dev(1, 3, 0o666), dev(1, 5, 0o666), format.OpReplace},
		{"device major", dev(1, 3, 0o666), dev(2, 3, 0o666), format.OpReplace},
		{"char to block", dev(1, 3, 0o666), &format.Entry{Path: "d", Type: format.TypeBlockDev, Mode: 0o666, Rdev: format.MakeRdev(1, 3)}, format.OpReplace},
		{"fifo owner", &format.Entry{Path: "d", Type: format.TypeFIFO}, &format.Entry{Path: "d", Type: format.TypeFIFO, UID: 5}, format.OpMeta},
		{"fifo to socket", &format.Entry{Path: "d", Type: format.TypeFIFO}, &format.Entry{Path: "d", Type: format.TypeSocket}, format.OpReplace},
	}
	for _, tt := range tests {
		c := Compare(tt.old, tt.new)
		var got format.Op
		if c != nil {
			got = c.Op
		}
		if got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
