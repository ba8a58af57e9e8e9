package patch

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/ibt-tools/ibt/format"
)

// The steps of a run are not held in memory: each is appended, once
// checked and staged, to a log file in the staging directory, in the
// archive's path order, and the commit passes and the verification read
// them back, forwards or backwards. Memory then stays the same for ten
// changes or ten million. A second file holds each record's offset, so a
// hard link can look up the step of its first path by binary search.
//
// A record keeps what the passes need of a step: its change without
// contents or signatures (but with the new entry's every field the tree
// hash covers), its state and flags, and its change number,
// which names its staged file. It is framed by its length on both sides,
// so that it can be read in either direction.
const (
	logName    = stageDir + "/steps"
	offsetName = stageDir + "/steps.off"
	// logWindow is how much of the log a backward read fetches at once.
	logWindow = 1 << 20
	// maxRecord bounds one record, far above what an entry can hold
	// (paths and xattrs are bounded by the archive reader).
	maxRecord = 1 << 30
)

// stepLog is the log of a run's steps.
type stepLog struct {
	f, off *os.File
	w, ow  *bufio.Writer
	n      int64 // records
	size   int64 // bytes of records
	lastAt int64 // offset of the record added last
	buf    []byte
	drop   func() // removes the files of a dry run's log
	// wait, if set, waits until every step given to the stage writer is
	// added (see stagewriter.go); every read of the log calls it first
	wait func() error
	// heads holds every distinct head a record was added with (a dropped
	// one also as keep turns it), so that a pass whose need accepts none
	// reads nothing (see any)
	heads map[stepHead]struct{}
	// win is backwardWhere's window, kept for the next backward pass
	win []byte
}

// newStepLog creates the log in the staging directory, or for a dry run,
// which must leave DIR untouched, in the system's temporary directory.
func newStepLog(root *os.Root, dry bool) (*stepLog, error) {
	l := &stepLog{}
	open := func(name string) (*os.File, error) {
		if dry {
			f, err := os.CreateTemp("", "ibt-patch-steps-*")
			if err != nil {
				return nil, fmt.Errorf("create a temporary file: %w", err)
			}
			return f, nil
		}
		f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, ioErr(name, "create the step log", err)
		}
		return f, nil
	}
	var err error
	if l.f, err = open(logName); err != nil {
		return nil, err
	}
	if l.off, err = open(offsetName); err != nil {
		l.f.Close()
		if dry {
			os.Remove(l.f.Name())
		}
		return nil, err
	}
	if dry {
		l.drop = func() { os.Remove(l.f.Name()); os.Remove(l.off.Name()) }
	}
	l.w, l.ow = bufio.NewWriterSize(l.f, 64<<10), bufio.NewWriterSize(l.off, 16<<10)
	return l, nil
}

// close closes the log's files (and removes a dry run's).
func (l *stepLog) close() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Close()
	l.off.Close()
	if l.drop != nil {
		l.drop()
	}
	l.f = nil
}

// add appends s.
func (l *stepLog) add(s *step) error {
	l.buf = appendStep(append(l.buf[:0], 0, 0, 0, 0), s)
	n := len(l.buf) - 4
	binary.LittleEndian.PutUint32(l.buf, uint32(n))
	l.buf = binary.LittleEndian.AppendUint32(l.buf, uint32(n))
	var o [8]byte
	binary.LittleEndian.PutUint64(o[:], uint64(l.size))
	if _, err := l.ow.Write(o[:]); err != nil {
		return ioErr(offsetName, "write the step log", err)
	}
	if _, err := l.w.Write(l.buf); err != nil {
		return ioErr(logName, "write the step log", err)
	}
	if h, ok := peekStep(l.buf[4 : 4+n]); ok {
		if l.heads == nil {
			l.heads = map[stepHead]struct{}{}
		}
		l.heads[h] = struct{}{}
		if h.flags2&recDropped != 0 {
			h.flags2 = 0
			l.heads[h] = struct{}{}
		}
	}
	l.lastAt = l.size
	l.n++
	l.size += int64(len(l.buf))
	return nil
}

// flush makes every added record readable.
func (l *stepLog) flush() error {
	if l.wait != nil {
		if err := l.wait(); err != nil {
			return err
		}
	}
	if err := l.w.Flush(); err != nil {
		return ioErr(logName, "write the step log", err)
	}
	if err := l.ow.Flush(); err != nil {
		return ioErr(offsetName, "write the step log", err)
	}
	return nil
}

// keep turns the dropped step of the record at offset off into one the
// passes take (see Options.Only): the one byte of its flags that says so
// is written over in place.
func (l *stepLog) keep(off int64) error {
	if err := l.flush(); err != nil {
		return err
	}
	if _, err := l.f.WriteAt([]byte{0}, off+4+recDroppedAt); err != nil {
		return ioErr(logName, "write the step log", err)
	}
	return nil
}

// at reads the record at offset off.
func (l *stepLog) at(off int64) (*step, error) {
	var hdr [4]byte
	if _, err := l.f.ReadAt(hdr[:], off); err != nil {
		return nil, l.readErr(err)
	}
	n := int64(binary.LittleEndian.Uint32(hdr[:]))
	if n > maxRecord || off+8+n > l.size {
		return nil, l.readErr(errBadRecord)
	}
	b := make([]byte, n)
	if _, err := l.f.ReadAt(b, off+4); err != nil {
		return nil, l.readErr(err)
	}
	return l.decode(b)
}

// find returns the step at path p, or nil if the archive has none (so
// far) or it is dropped.
func (l *stepLog) find(p string) (*step, error) {
	if err := l.flush(); err != nil {
		return nil, err
	}
	var ferr error
	var found *step
	var o [8]byte
	i := sort.Search(int(l.n), func(i int) bool {
		if ferr != nil {
			return true
		}
		if _, err := l.off.ReadAt(o[:], int64(i)*8); err != nil {
			ferr = l.readErr(err)
			return true
		}
		s, err := l.at(int64(binary.LittleEndian.Uint64(o[:])))
		if err != nil {
			ferr = err
			return true
		}
		if s.c.Path() >= p {
			if s.c.Path() == p {
				found = s
			}
			return true
		}
		return false
	})
	if ferr != nil {
		return nil, ferr
	}
	if i < int(l.n) && found != nil && found.c.Path() == p && !found.dropped {
		return found, nil
	}
	return nil, nil
}

// any says whether a record of the log may be one need accepts: a head
// like its own was added. A pass that none is for skips the log unread.
func (l *stepLog) any(need func(stepHead) bool) bool {
	for h := range l.heads {
		if need(h) {
			return true
		}
	}
	return false
}

// cursor reads the log forwards. The steps it returns live in two slots
// that it decodes into in turn: a step stays valid until two more have
// been returned, so that a pass holds the step it is at and the next one
// without allocating for every record.
type cursor struct {
	l     *stepLog
	r     *bufio.Reader
	cur   *step
	err   error
	buf   []byte // the record being read; decodeStepInto keeps none of it
	slots [2]*decoded
	k     int // the slot the next record is decoded into
	// need, if set, is asked about each record's head; a record it
	// declines is passed over undecoded (next returns only the others)
	need func(stepHead) bool
}

// forward returns a cursor at the first record.
func (l *stepLog) forward() (*cursor, error) {
	if err := l.flush(); err != nil {
		return nil, err
	}
	return &cursor{l: l, r: bufio.NewReaderSize(io.NewSectionReader(l.f, 0, l.size), 64<<10)}, nil
}

// next returns the next step, or nil at the end or on an error (see err).
// Dropped steps are passed over.
func (c *cursor) next() *step {
	for {
		s := c.record()
		if s == nil || !s.dropped {
			c.k ^= 1 // s keeps its slot; a dropped step's was reused
			return s
		}
	}
}

// record returns the next record's step, dropped or not.
func (c *cursor) record() *step {
	if c.err != nil {
		return nil
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		if err != io.EOF {
			c.err = c.l.readErr(err)
		}
		c.cur = nil
		return nil
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > maxRecord {
		c.err = c.l.readErr(errBadRecord)
		return nil
	}
	if uint32(cap(c.buf)) < n+4 {
		c.buf = make([]byte, n+4)
	}
	b := c.buf[:n+4]
	if _, err := io.ReadFull(c.r, b); err != nil {
		c.err = c.l.readErr(err)
		return nil
	}
	if c.need != nil {
		if h, ok := peekStep(b[:n]); ok && !c.need(h) {
			return skippedStep
		}
	}
	if c.slots[c.k] == nil {
		c.slots[c.k] = new(decoded)
	}
	c.cur, c.err = c.l.decodeInto(c.slots[c.k], b[:n])
	return c.cur
}

// skippedStep stands for a record a cursor's need declined: dropped, so
// that next passes it over.
var skippedStep = &step{dropped: true}

// each calls fn for every step, in path order. fn must not keep s, whose
// memory the next steps reuse.
func (l *stepLog) each(fn func(s *step) error) error {
	return l.eachWhere(nil, fn)
}

// eachWhere is each for the steps whose records need, if not nil, accepts
// (see stepHead): a pass with nothing to do for most steps does not decode
// them, and one with nothing to do reads nothing.
func (l *stepLog) eachWhere(need func(stepHead) bool, fn func(s *step) error) error {
	if err := l.flush(); err != nil {
		return err
	}
	if need != nil && !l.any(need) {
		return nil
	}
	c, err := l.forward()
	if err != nil {
		return err
	}
	c.need = need
	for s := c.next(); s != nil; s = c.next() {
		if err := fn(s); err != nil {
			return err
		}
	}
	return c.err
}

// backwardWhere calls fn for every step whose record need, if not nil,
// accepts (see eachWhere), in reverse path order, reading the log a window
// at a time from its end. fn must not keep s, whose memory the next steps
// reuse.
func (l *stepLog) backwardWhere(need func(stepHead) bool, fn func(s *step) error) error {
	if err := l.flush(); err != nil {
		return err
	}
	if need != nil && !l.any(need) {
		return nil
	}
	var win []byte
	all := new(decoded) // every step of the pass is decoded into it
	winStart := l.size  // win holds the log's bytes [winStart, winStart+len(win))
	end := l.size
	// get returns the log's bytes [off, off+n), from the window if there.
	get := func(off, n int64) ([]byte, error) {
		if off >= winStart && off+n <= winStart+int64(len(win)) {
			return win[off-winStart : off-winStart+n], nil
		}
		start := max(0, off+n-max(logWindow, n))
		if int64(cap(l.win)) < off+n-start {
			l.win = make([]byte, off+n-start)
		}
		b := l.win[:off+n-start]
		if _, err := l.f.ReadAt(b, start); err != nil {
			return nil, l.readErr(err)
		}
		win, winStart = b, start
		return win[off-start : off-start+n], nil
	}
	for end > 0 {
		if end < 8 {
			return l.readErr(errBadRecord)
		}
		t, err := get(end-4, 4)
		if err != nil {
			return err
		}
		n := int64(binary.LittleEndian.Uint32(t))
		if n > maxRecord || end-8-n < 0 {
			return l.readErr(errBadRecord)
		}
		b, err := get(end-4-n, n)
		if err != nil {
			return err
		}
		if need != nil {
			if h, ok := peekStep(b); ok && !need(h) {
				end -= 8 + n
				continue
			}
		}
		s, err := l.decodeInto(all, b)
		if err != nil {
			return err
		}
		if !s.dropped {
			if err := fn(s); err != nil {
				return err
			}
		}
		end -= 8 + n
	}
	return nil
}

var errBadRecord = errors.New("malformed record")

func (l *stepLog) readErr(err error) error {
	return ioErr(logName, "read the step log", err)
}

func (l *stepLog) decode(b []byte) (*step, error) {
	return l.decodeInto(new(decoded), b)
}

// decodeInto decodes the record b into all, whose earlier step it replaces.
func (l *stepLog) decodeInto(all *decoded, b []byte) (*step, error) {
	s, err := decodeStepInto(all, b)
	if err != nil {
		return nil, l.readErr(err)
	}
	return s, nil
}

// Flags of a record.
const (
	recOld = 1 << iota
	recNew
	recLate
	recDone
	recLink
	recStaged
	recOldXattrs
	recOldSource
)

// Flags of the second byte of a record. keep clears the byte: a dropped
// step is a directory, which has no other of these flags.
const (
	recDropped = 1 << iota
	recLateLink
	recInside
)

// recDroppedAt is the offset of the second byte of flags in a record.
const recDroppedAt = 1

// appendStep encodes what the commit and the verification need of s.
func appendStep(b []byte, s *step) []byte {
	c := s.c
	var flags byte
	set := func(bit byte, on bool) {
		if on {
			flags |= bit
		}
	}
	set(recOld, c.Old != nil)
	set(recNew, c.New != nil)
	set(recLate, s.late)
	set(recDone, s.done)
	set(recLink, s.link)
	set(recStaged, s.staged != "")
	set(recOldXattrs, c.Old != nil && len(c.Old.Xattrs) > 0)
	set(recOldSource, c.From != "" && !c.FromNew)
	var oldType format.Type
	if c.Old != nil {
		oldType = c.Old.Type
	}
	var flags2 byte
	if s.dropped {
		flags2 |= recDropped
	}
	if s.lateLink {
		flags2 |= recLateLink
	}
	if s.inside {
		flags2 |= recInside
	}
	b = append(b, flags, flags2, byte(c.Op), byte(s.state), byte(oldType))
	b = binary.AppendUvarint(b, uint64(s.i))
	b = appendBytes(b, []byte(c.Path()))
	if e := c.New; e != nil {
		skipped := byte(0)
		if e.Skipped {
			skipped = 1
		}
		b = append(b, byte(e.Type), skipped)
		b = binary.AppendUvarint(b, uint64(e.Mode))
		b = binary.AppendVarint(b, e.MTime)
		b = binary.AppendVarint(b, e.Size)
		b = binary.AppendUvarint(b, uint64(e.UID))
		b = binary.AppendUvarint(b, uint64(e.GID))
		b = appendBytes(b, []byte(e.LinkTo))
		b = appendBytes(b, []byte(e.Target))
		b = binary.AppendUvarint(b, e.Rdev)
		b = appendBytes(b, e.Hash)
		b = binary.AppendUvarint(b, uint64(len(e.Xattrs)))
		for _, x := range e.Xattrs {
			b = appendBytes(b, []byte(x.Name))
			b = appendBytes(b, x.Value)
		}
	}
	if c.From != "" && !c.FromNew {
		b = appendBytes(b, []byte(c.From))
	}
	if s.inside {
		b = appendBytes(b, []byte(s.staged))
		b = binary.AppendUvarint(b, s.dev)
		b = binary.AppendUvarint(b, s.ino)
		b = binary.AppendVarint(b, s.ctime)
	}
	return b
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// recDecoder reads a record, failing on anything short or too long.
type recDecoder struct {
	b   []byte
	err error
}

func (d *recDecoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.err = errBadRecord
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *recDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if d.err != nil || n <= 0 {
		d.err = errBadRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if d.err != nil || n <= 0 {
		d.err = errBadRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recDecoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errBadRecord
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// stepHead is what a record tells of its step without being decoded: its
// flags, operation and state, and the new entry's type (0 without one).
type stepHead struct {
	flags, flags2 byte
	op            format.Op
	state         state
	newType       format.Type
}

// peekStep reads the head of a record made by appendStep; ok is false if
// the record is too short to hold one (decodeStepInto then says what is wrong).
func peekStep(b []byte) (h stepHead, ok bool) {
	d := recDecoder{b: b}
	h.flags, h.flags2, h.op, h.state = d.byte(), d.byte(), format.Op(d.byte()), state(d.byte())
	d.byte() // the old entry's type
	d.uvarint()
	d.bytes() // the path
	if h.flags&recNew != 0 {
		h.newType = format.Type(d.byte())
	}
	return h, d.err == nil
}

// decoded is a step as decodeStepInto makes it: its change and new entry in
// the same allocation, and room for the usual hash.
type decoded struct {
	s    step
	c    format.Change
	e    format.Entry
	hash [32]byte
}

// decodeStepInto decodes a record made by appendStep into all, whose
// earlier step, change and entry it overwrites. The step keeps no part of
// b, which the caller may reuse.
func decodeStepInto(all *decoded, b []byte) (*step, error) {
	d := &recDecoder{b: b}
	flags := d.byte()
	flags2 := d.byte()
	op := format.Op(d.byte())
	st := state(d.byte())
	oldType := format.Type(d.byte())
	i := d.uvarint()
	p := string(d.bytes())
	all.c = format.Change{Op: op}
	s := &all.s
	*s = step{c: &all.c, state: st, i: int(i),
		late: flags&recLate != 0, done: flags&recDone != 0, link: flags&recLink != 0,
		oldXattrs: flags&recOldXattrs != 0, dropped: flags2&recDropped != 0, lateLink: flags2&recLateLink != 0,
		inside: flags2&recInside != 0}
	if flags&recOld != 0 {
		s.c.Old = &format.Entry{Path: p, Type: oldType}
	}
	if flags&recNew != 0 {
		e := &all.e
		*e = format.Entry{Path: p, Type: format.Type(d.byte()), Skipped: d.byte() == 1}
		e.Mode = uint32(d.uvarint())
		e.MTime = d.varint()
		e.Size = d.varint()
		e.UID = uint32(d.uvarint())
		e.GID = uint32(d.uvarint())
		e.LinkTo = string(d.bytes())
		e.Target = string(d.bytes())
		e.Rdev = d.uvarint()
		switch h := d.bytes(); {
		case len(h) == len(all.hash):
			e.Hash = all.hash[:]
			copy(e.Hash, h)
		case len(h) > 0:
			e.Hash = bytes.Clone(h)
		}
		nx := d.uvarint()
		if nx > uint64(len(d.b)) {
			d.err = errBadRecord
		}
		for range nx {
			if d.err != nil {
				break
			}
			e.Xattrs = append(e.Xattrs, format.Xattr{Name: string(d.bytes()), Value: bytes.Clone(d.bytes())})
		}
		s.c.New = e
	}
	if flags&recOldSource != 0 {
		s.c.From = string(d.bytes())
	}
	var staged string
	if s.inside {
		staged = string(d.bytes())
		s.dev, s.ino, s.ctime = d.uvarint(), d.uvarint(), d.varint()
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errBadRecord
	}
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case s.inside:
		s.staged = staged
	case flags&recStaged != 0:
		s.staged = stageName(s.i)
	}
	return s, nil
}
