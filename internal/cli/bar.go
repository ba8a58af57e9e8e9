package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// bar is the progress line a tool draws on standard error:
//
//	ibt-pack: reading  42% |██████          | (1.2/2.9 MiB, 12 MiB/s) [0s:1s]
//	ibt-sign: signing ⠹ (310 MiB, 95 MiB/s) [3s]
//
// A bar of unknown total is a spinner. It is drawn at most every 100 ms,
// by whichever goroutine adds work when that time has come, so it needs no
// goroutine of its own; it fits 80 columns.
type bar struct {
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

func newBar(w io.Writer, total int64, desc string, ansi bool) *bar {
	b := &bar{w: w, total: total, ansi: ansi, start: time.Now(), desc: desc}
	b.mu.Lock()
	b.draw(b.start)
	b.mu.Unlock()
	return b
}

// add records n more bytes done, and redraws if it is time.
func (b *bar) add(n int64) {
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

// describe changes the words before the bar, and redraws.
func (b *bar) describe(desc string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.desc = desc
	b.draw(time.Now())
}

// clear erases the line for good: nothing is drawn after it.
func (b *bar) clear() {
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
func (b *bar) draw(now time.Time) {
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
func (b *bar) line(cur int64, elapsed time.Duration) string {
	rate := "0 B"
	if s := elapsed.Seconds(); s > 0 {
		rate = humanBytes(int64(float64(cur) / s))
	}
	if b.total <= 0 {
		b.frame = (b.frame + 1) % len(spinner)
		return fmt.Sprintf("%s %s (%s, %s/s) [%s]", b.desc, spinner[b.frame], humanBytes(cur), rate, roundSeconds(elapsed))
	}
	done := min(cur, b.total)
	filled := int(done * barWidth / b.total)
	left := "0s"
	if done > 0 {
		left = roundSeconds(time.Duration(float64(elapsed) * float64(b.total-done) / float64(done)))
	}
	return fmt.Sprintf("%s %3d%% |%s%s| (%s/%s, %s/s) [%s:%s]", b.desc, done*100/b.total,
		strings.Repeat("█", filled), strings.Repeat(" ", barWidth-filled),
		humanBytesOf(done, b.total), humanBytes(b.total), rate, roundSeconds(elapsed), left)
}

// humanBytesOf prints n in the unit humanBytes picks for total, without it,
// as "1.2/2.9 MiB" reads.
func humanBytesOf(n, total int64) string {
	unit := strings.LastIndexByte(humanBytes(total), ' ')
	s := humanBytes(total)[unit+1:]
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

// roundSeconds prints d as 3s, 1m12s, 2h3m0s.
func roundSeconds(d time.Duration) string {
	return d.Round(time.Second).String()
}
