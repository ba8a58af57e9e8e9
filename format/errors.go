package format

import (
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

// notStreamHint names what data (the first bytes of an input that is not an
// ibt stream) looks like, as a hint for the user, or returns "".
func notStreamHint(data []byte) string {
	const archiveHint = ": use ibt-patch to apply an archive, ibt-cat to read one"
	switch Sniff(data) {
	case InputEmpty:
		return "the input is empty"
	case InputGzip:
		return "looks like a gzip stream (an ibt archive?)" + archiveHint
	case InputZstd:
		return "looks like a zstd stream (an ibt archive?)" + archiveHint
	case InputTar:
		return "looks like a tar archive (an ibt archive?)" + archiveHint
	case InputAge:
		return "looks like an age-encrypted file: decrypt it first (age -d)"
	case InputJSON:
		return "looks like JSON (ibt-cat output?)"
	}
	return ""
}
