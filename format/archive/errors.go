package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ibt-tools/ibt/format"
)

var (
	// ErrNotArchive is wrapped by every error for input that is no ibt
	// archive at all (as opposed to a damaged one).
	ErrNotArchive = errors.New("not an ibt archive")
	// ErrTruncated is wrapped by every error for an archive that ends early.
	ErrTruncated = errors.New("archive is truncated")
)

// NotArchiveError says what the input looks like instead, and how to get
// an archive from it where that is known.
type NotArchiveError struct {
	What string // what the input seems to be
	Fix  string // a known fix, or ""
}

func (e *NotArchiveError) Error() string { return ErrNotArchive.Error() + ": " + e.What }

// Hint returns the known fix, for a command to print on its own line.
func (e *NotArchiveError) Hint() string { return e.Fix }

// Is makes errors.Is(err, ErrNotArchive) hold.
func (e *NotArchiveError) Is(target error) bool { return target == ErrNotArchive }

func notArchive(what, fix string) error { return &NotArchiveError{What: what, Fix: fix} }

// notArchiveGuess names what the first bytes of a refused input look like.
func notArchiveGuess(head []byte) error {
	// The stream magic's first byte is also a msgpack fixmap code, so this
	// tells a stream by its header's kind, as it does a bare record.
	if len(head) > 0 && isMsgpackMap(head[0]) && bytes.Contains(head, []byte("kind")) {
		const pack = "ibt-pack makes an archive from a delta stream: ibt-pack < DELTA > ARCHIVE"
		switch {
		case bytes.Contains(head, []byte("delta")):
			return notArchive("this is an ibt delta stream", pack)
		case bytes.Contains(head, []byte("diff")):
			return notArchive("this is an ibt diff stream", "ibt-delta turns it into a delta stream, then "+pack)
		case bytes.Contains(head, []byte("index")):
			return notArchive("this is an ibt index", "ibt-diff compares two indexes, ibt-delta and ibt-pack make the archive")
		}
		return notArchive("this looks like an ibt stream, not an archive", pack)
	}
	switch format.Sniff(head) {
	case format.InputAge:
		return notArchive("this is age-encrypted", "decrypt it first: age -d ... | ibt-patch DIR")
	case format.InputZstd:
		return notArchive("this is zstd-compressed", "decompress it first: zstd -d | ibt-patch DIR")
	case format.InputXz:
		return notArchive("this is xz-compressed", "decompress it first: xz -d | ibt-patch DIR")
	case format.InputBzip2:
		return notArchive("this is bzip2-compressed", "decompress it first: bzip2 -d | ibt-patch DIR")
	}
	n := min(len(head), 8)
	return notArchive(fmt.Sprintf("unknown data (first bytes % x)", head[:n]), "an archive is a tar stream (gzip, lz4, zstd or plain) written by ibt-pack")
}

// readErr wraps an error met while reading what, telling an early end of
// the input (which every layer reports as io.EOF or io.ErrUnexpectedEOF)
// from damage.
func readErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: it ends in %s", ErrTruncated, what)
	}
	return fmt.Errorf("failed to read %s: %w", what, err)
}

func isMsgpackMap(b byte) bool { return b&0xf0 == 0x80 || b == 0xde || b == 0xdf }
