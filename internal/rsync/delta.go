package rsync

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ibt-tools/ibt/format"
)

// OpKind says what an Op does.
type OpKind uint8

const (
	// OpCopy copies Length bytes at Offset of the old file.
	OpCopy OpKind = iota + 1
	// OpLiteral writes Data.
	OpLiteral
)

// Op is one delta operation. For OpCopy, Offset and Length give a range of
// the old file; for OpLiteral, Data holds the bytes and Length is len(Data).
type Op struct {
	Kind           OpKind
	Offset, Length int64
	Data           []byte
}

// MaxLiteral bounds the Data of one literal Op.
const MaxLiteral = 1 << 20

// deltaBuf is the read window of Delta: MaxLiteral plus room for a block, so
// literals leave in chunks of up to MaxLiteral and a window never straddles a
// refill. Pooled, as Delta runs once per changed file.
var deltaBufs sync.Pool

func getBuf(n int) []byte {
	if b, ok := deltaBufs.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]byte, n)
}

func putBuf(b []byte) { deltaBufs.Put(&b) }

// Delta reads the new content from r and calls emit with operations that
// rebuild it from the old file that sig was made of: adjacent block copies
// merged into one Copy, literals in chunks of at most MaxLiteral. sig may be
// nil (no signature): everything is literal. The caller checks that sig
// Covers the new content's size, as DeltaFile does. Op.Data is only valid
// during the call to emit. An error from emit stops Delta and is returned as
// is.
func Delta(sig *Signature, r io.Reader, emit func(Op) error) error {
	if sig == nil || len(sig.weak) == 0 {
		return literalOnly(r, emit)
	}
	bs := sig.blockSize
	buf := getBuf(MaxLiteral + 2*bs + 1)
	defer putBuf(buf)
	d := delta{sig: sig, ss: sig.key.Summer(), emit: emit, last: -1}
	return d.run(r, buf)
}

// literalOnly sends all of r as literals.
func literalOnly(r io.Reader, emit func(Op) error) error {
	buf := getBuf(MaxLiteral)
	defer putBuf(buf)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if err := emit(Op{Kind: OpLiteral, Length: int64(n), Data: buf[:n]}); err != nil {
				return err
			}
		}
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return nil
		case err != nil:
			return fmt.Errorf("delta: read: %w", err)
		}
	}
}

type delta struct {
	sig  *Signature
	ss   *format.StrongSummer // keys the windows' sums as sig's are
	emit func(Op) error
	// last is the block matched last, -1 before any: its successor is tried
	// first, which keeps runs of copies adjacent when blocks repeat.
	last int
	// copyOff and copyLen are the pending, not yet emitted, copy.
	copyOff, copyLen int64
}

// run is the matching loop. buf[lit:pos] is pending literal, buf[pos:pos+bs]
// the window whose weak sum is h when hOK, buf[:n] the data read so far.
func (d *delta) run(r io.Reader, buf []byte) error {
	s := d.sig
	bs := s.blockSize
	var (
		n, pos, lit int
		h           uint32
		hOK, eof    bool
	)
	for {
		if pos-lit >= MaxLiteral {
			if err := d.literal(buf[lit : lit+MaxLiteral]); err != nil {
				return err
			}
			lit += MaxLiteral
		}
		if n-pos <= bs && !eof {
			// Keep at least a window and one byte to roll in: send the
			// literal, move the window to the front and read more.
			if err := d.literal(buf[lit:pos]); err != nil {
				return err
			}
			n = copy(buf, buf[pos:n])
			pos, lit = 0, 0
			m, err := io.ReadFull(r, buf[n:])
			n += m
			switch {
			case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
				eof = true
			case err != nil:
				return fmt.Errorf("delta: read: %w", err)
			}
			continue
		}
		if n-pos < bs {
			break
		}
		win := buf[pos : pos+bs]
		j := -1
		if !hOK {
			// Right after a match the next block is the likely one: its
			// strong sum alone decides, and the weak sum is only needed if
			// it fails. This halves the work on unchanged data.
			j = d.matchNext(win)
			if j < 0 {
				h = WeakSum(win)
				hOK = true
				j = d.match(win, h, false)
			}
		} else {
			j = d.match(win, h, true)
		}
		if j >= 0 {
			if err := d.literal(buf[lit:pos]); err != nil {
				return err
			}
			if err := d.copy(int64(j)*int64(bs), int64(bs)); err != nil {
				return err
			}
			d.last = j
			pos += bs
			lit = pos
			hOK = false
			continue
		}
		if pos == n-bs {
			if eof {
				break
			}
			continue
		}
		pos, h = s.scan(buf, pos, min(n-bs, lit+MaxLiteral), h)
	}
	return d.finish(buf[lit:n])
}

// finish sends the rest of the data, tail, which no full block matches; the
// short last block may still match at its end.
func (d *delta) finish(tail []byte) error {
	s := d.sig
	if l := s.lastLen; l > 0 && len(tail) >= l {
		end := tail[len(tail)-l:]
		i := len(s.weak) - 1
		if WeakSum(end) == s.weak[i] {
			sum := sha256.Sum256(end)
			if bytes.Equal(d.ss.Sum(&sum)[:s.strongLen], s.strong(i)) {
				if err := d.literal(tail[:len(tail)-l]); err != nil {
					return err
				}
				if err := d.copy(int64(s.full)*int64(s.blockSize), int64(l)); err != nil {
					return err
				}
				return d.flushCopy()
			}
		}
	}
	if err := d.literal(tail); err != nil {
		return err
	}
	return d.flushCopy()
}

// matchNext returns the block after the last matched one if the window win
// has its strong sum, or -1.
func (d *delta) matchNext(win []byte) int {
	s := d.sig
	j := d.last + 1
	if d.last < 0 || j >= s.full {
		return -1
	}
	sum := sha256.Sum256(win)
	if !bytes.Equal(d.ss.Sum(&sum)[:s.strongLen], s.strong(j)) {
		return -1
	}
	return j
}

// match returns the full block the window win with weak sum h equals, or
// -1. tryNext says whether the successor of the last match is still to be
// tried.
func (d *delta) match(win []byte, h uint32, tryNext bool) int {
	s := d.sig
	var strong []byte // the window's strong sum, once computed
	if j := d.last + 1; tryNext && j < s.full && s.weak[j] == h {
		sum := sha256.Sum256(win)
		strong = d.ss.Sum(&sum)[:s.strongLen]
		if bytes.Equal(strong, s.strong(j)) {
			return j
		}
	}
	run := s.candidates(h)
	if len(run) == 0 {
		return -1
	}
	if strong == nil {
		sum := sha256.Sum256(win)
		strong = d.ss.Sum(&sum)[:s.strongLen]
	}
	return s.pick(run, strong)
}

// scan rolls the window at pos, whose weak sum is h, forward one byte at a
// time until some block has its weak sum or it reaches stop, and returns the
// new position and sum. It is the hot loop on changed data: the prefilter's
// scan turns almost every position away, and the table is probed for the
// rest.
func (s *Signature) scan(buf []byte, pos, stop int, h uint32) (int, uint32) {
	for {
		var pass bool
		pos, h, pass = s.filter.scan(buf, s.blockSize, pos, stop, h, s.roll)
		if !pass || len(s.candidates(h)) > 0 {
			return pos, h
		}
	}
}

// literal sends data as literals of at most MaxLiteral, after any pending copy.
func (d *delta) literal(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	if err := d.flushCopy(); err != nil {
		return err
	}
	for len(data) > 0 {
		c := data[:min(len(data), MaxLiteral)]
		data = data[len(c):]
		if err := d.emit(Op{Kind: OpLiteral, Length: int64(len(c)), Data: c}); err != nil {
			return err
		}
	}
	return nil
}

// copy adds a copy of the old file's range, merged with the pending one when
// adjacent.
func (d *delta) copy(off, length int64) error {
	if d.copyLen > 0 && d.copyOff+d.copyLen == off {
		d.copyLen += length
		return nil
	}
	if err := d.flushCopy(); err != nil {
		return err
	}
	d.copyOff, d.copyLen = off, length
	return nil
}

func (d *delta) flushCopy() error {
	if d.copyLen == 0 {
		return nil
	}
	op := Op{Kind: OpCopy, Offset: d.copyOff, Length: d.copyLen}
	d.copyLen = 0
	return d.emit(op)
}
