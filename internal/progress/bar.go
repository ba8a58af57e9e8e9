// Package progress draws the progress line the tools show on standard
// error: a bar with the bytes done, the rate and the time left, or a spinner
// when the total is unknown.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Bar is the progress line a tool draws on standard error:
//
//	ibt-pack: reading  42% |██████          | (1.2/2.9 MiB, 12 MiB/s) [0s:1s]
//	ibt-sign: signing ⠹ (310 MiB, 95 MiB/s) [3s]
//
// A bar of unknown total is a spinner. It is drawn at most every 100 ms,
// by whichever goroutine adds work when that time has come, so it needs no
// goroutine of its own; it fits 80 columns.
type Bar struct {
	w     io.Writer
	total int64 // bytes, or <= 0 when unknown
	ansi  bool  // erase the rest of the line with an escape code
	start time.Time
	cur   atomic.Int64

	mu     sync.Mutex
	desc   string
	drawn  time.Time
	width  int // of the longest line drawn, to blank it without escape codes
	frame  int
	closed bool
}

const (
	barWidth    = 16
	barInterval = 100 * time.Millisecond
)

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// NewBar draws a bar of total bytes (<= 0: unknown, a spinner) on w, with
// desc before it; ansi erases the rest of the line with an escape code.
func NewBar(w io.Writer, total int64, desc string, ansi bool) *Bar {
	b := &Bar{w: w, total: total, ansi: ansi, start: time.Now(), desc: desc}
	b.mu.Lock()
	b.draw(b.start)
	b.mu.Unlock()
	return b
}

// Add records n more bytes done, and redraws if it is time.
func (b *Bar) Add(n int64) {
	b.cur.Add(n)
	now := time.Now()
	if !b.mu.TryLock() {
		return // another goroutine is drawing
	}
	defer b.mu.Unlock()
	if now.Sub(b.drawn) >= barInterval {
		b.draw(now)
	}
}

// Describe changes the words before the bar, and redraws.
func (b *Bar) Describe(desc string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.desc = desc
	b.draw(time.Now())
}

// Clear erases the line for good: nothing is drawn after it.
func (b *Bar) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	if b.ansi {
		io.WriteString(b.w, "\r\x1b[K")
	} else {
		io.WriteString(b.w, "\r"+strings.Repeat(" ", b.width)+"\r")
	}
}

// draw writes the line as of now; b.mu is held.
func (b *Bar) draw(now time.Time) {
	if b.closed {
		return
	}
	b.drawn = now
	line := b.line(b.cur.Load(), now.Sub(b.start))
	if b.ansi {
		io.WriteString(b.w, "\r"+line+"\x1b[K")
		return
	}
	n := utf8.RuneCountInString(line)
	pad := ""
	if n < b.width {
		pad = strings.Repeat(" ", b.width-n)
	} else {
		b.width = n
	}
	io.WriteString(b.w, "\r"+line+pad)
}

// line is the text of the bar with cur bytes done after elapsed.
func (b *Bar) line(cur int64, elapsed time.Duration) string {
	rate := "0 B"
	if s := elapsed.Seconds(); s > 0 {
		rate = HumanBytes(int64(float64(cur) / s))
	}
	if b.total <= 0 {
		b.frame = (b.frame + 1) % len(spinner)
		return fmt.Sprintf("%s %s (%s, %s/s) [%s]", b.desc, spinner[b.frame], HumanBytes(cur), rate, roundSeconds(elapsed))
	}
	done := min(cur, b.total)
	filled := int(done * barWidth / b.total)
	left := "0s"
	if done > 0 {
		left = roundSeconds(time.Duration(float64(elapsed) * float64(b.total-done) / float64(done)))
	}
	return fmt.Sprintf("%s %3d%% |%s%s| (%s/%s, %s/s) [%s:%s]", b.desc, done*100/b.total,
		strings.Repeat("█", filled), strings.Repeat(" ", barWidth-filled),
		humanBytesOf(done, b.total), HumanBytes(b.total), rate, roundSeconds(elapsed), left)
}

// humanBytesOf prints n in the unit humanBytes picks for total, without it,
// as "1.2/2.9 MiB" reads.
func humanBytesOf(n, total int64) string {
	unit := strings.LastIndexByte(HumanBytes(total), ' ')
	s := HumanBytes(total)[unit+1:]
	switch s {
	case "GiB":
		return fmt.Sprintf("%.2f", float64(n)/(1<<30))
	case "MiB":
		return fmt.Sprintf("%.1f", float64(n)/(1<<20))
	case "KiB":
		return fmt.Sprintf("%.1f", float64(n)/(1<<10))
	}
	return fmt.Sprint(n)
}

// Total returns the bytes the bar counts to, <= 0 if unknown.
func (b *Bar) Total() int64 { return b.total }

// Done returns the bytes done so far.
func (b *Bar) Done() int64 { return b.cur.Load() }

// HumanBytes prints n bytes in binary units: 512 B, 1.5 KiB, 3.0 MiB, 1.25 GiB.
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// roundSeconds prints d as 3s, 1m12s, 2h3m0s.
func roundSeconds(d time.Duration) string {
	return d.Round(time.Second).String()
}
