package progress

import (
	"strings"
	"testing"
	"time"
)

func TestBarLine(t *testing.T) {
	tests := []struct {
		total, cur int64
		elapsed    time.Duration
		want       string
	}{
		{3 << 20, 3 << 19, 2 * time.Second, "ibt-pack: reading  50% |████████        | (1.5/3.0 MiB, 768.0 KiB/s) [2s:2s]"},
		{100, 0, 0, "ibt-pack: reading   0% |                | (0/100 B, 0 B/s) [0s:0s]"},
		{100, 150, time.Second, "ibt-pack: reading 100% |████████████████| (100/100 B, 150 B/s) [1s:0s]"},
		{-1, 5 << 20, time.Second, "ibt-pack: reading ⠙ (5.0 MiB, 5.0 MiB/s) [1s]"},
	}
	for _, tt := range tests {
		b := &Bar{total: tt.total, desc: "ibt-pack: reading"}
		if got := b.line(tt.cur, tt.elapsed); got != tt.want {
			t.Errorf("line(%d of %d, %v) = %q, want %q", tt.cur, tt.total, tt.elapsed, got, tt.want)
		}
		if n := len([]rune(b.line(tt.cur, tt.elapsed))); n > 80 {
			t.Errorf("line of %d columns is wider than 80", n)
		}
	}
}

func TestBarClearsItsLine(t *testing.T) {
	for _, ansi := range []bool{true, false} {
		var w strings.Builder
		b := NewBar(&w, 10, "ibt-sign: reading", ansi)
		b.Add(5)
		b.Clear()
		b.Add(5) // after clear nothing is drawn
		out := w.String()
		if !strings.HasPrefix(out, "\ribt-sign: reading   0%") {
			t.Errorf("ansi=%v: first draw %q", ansi, out)
		}
		wantEnd := "\r\x1b[K"
		if !ansi {
			wantEnd = "\r"
		}
		if !strings.HasSuffix(out, wantEnd) {
			t.Errorf("ansi=%v: output %q does not end clearing the line", ansi, out)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 3 << 20: "3.0 MiB", 5 << 29: "2.50 GiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
