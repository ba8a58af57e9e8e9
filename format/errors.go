package format

import (
	"bytes"
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is through a ParseError.
var (
	// ErrTruncated means the input ended before the stream's trailer: the
	// program writing it died or the file was cut short.
	ErrTruncated = errors.New("truncated")
	// ErrNotStream means the input does not start like an ibt stream.
	ErrNotStream = errors.New("not an ibt stream")
	// ErrChecksum means the trailer's checksum does not match the bytes read.
	ErrChecksum = errors.New("checksum mismatch")
)

// ParseError is an error in the content of a stream: what is wrong, and where.
type ParseError struct {
	// Offset is the byte offset in the decoded stream (after lz4 decoding)
	// of the record or field at fault.
	Offset int64
	Err    error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("at byte %d: %v", e.Offset, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// sniff names what data (the first bytes of an input that is not an ibt
// stream) looks like, as a hint for the user, or returns "".
func sniff(data []byte) string {
	const archiveHint = ": use ibt-patch to apply an archive, ibt-cat to read one"
	switch {
	case len(data) == 0:
		return "the input is empty"
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		return "looks like a gzip stream (an ibt archive?)" + archiveHint
	case bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "looks like a zstd stream (an ibt archive?)" + archiveHint
	case len(data) >= 262 && string(data[257:262]) == "ustar":
		return "looks like a tar archive (an ibt archive?)" + archiveHint
	case bytes.HasPrefix(data, []byte("age-encryption.org/")), bytes.HasPrefix(data, []byte("-----BEGIN AGE")):
		return "looks like an age-encrypted file: decrypt it first (age -d)"
	case data[0] == '{':
		return "looks like JSON (ibt-cat output?)"
	}
	return ""
}
