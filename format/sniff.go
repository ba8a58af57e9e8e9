package format

import "bytes"

// Input is what the first bytes of an input say it holds. The stream
// reader, the archive reader and ibt-cat all tell inputs apart with Sniff,
// to pick a decoder or to say what a refused input looks like.
type Input uint8

const (
	InputUnknown Input = iota
	InputEmpty
	InputStream // an ibt stream: Magic
	InputLZ4    // an lz4 frame, around a stream or an archive
	InputGzip   // a gzip stream, as an archive by default
	InputTar    // a tar stream: "ustar" at byte 257
	InputZstd
	InputXz
	InputBzip2
	InputAge  // age-encrypted, binary or armored
	InputJSON // as ibt-cat prints
)

// SniffLen is how many first bytes Sniff needs to tell every Input.
const SniffLen = 262

// lz4Magic opens every lz4 frame.
const lz4Magic = "\x04\x22\x4d\x18"

// Sniff tells what head, the first bytes of an input (SniffLen of them, or
// all there are), holds. Magic numbers at the start are tried first, then
// tar's at byte 257.
func Sniff(head []byte) Input {
	prefix := func(m string) bool { return bytes.HasPrefix(head, []byte(m)) }
	switch {
	case len(head) == 0:
		return InputEmpty
	case prefix("\x1f\x8b"):
		return InputGzip
	case prefix(lz4Magic):
		return InputLZ4
	case prefix(Magic):
		return InputStream
	case prefix("\x28\xb5\x2f\xfd"):
		return InputZstd
	case len(head) >= SniffLen && string(head[257:262]) == "ustar":
		return InputTar
	case prefix("\xfd7zXZ\x00"):
		return InputXz
	case prefix("BZh"):
		return InputBzip2
	case prefix("age-encryption.org/"), prefix("-----BEGIN AGE"):
		return InputAge
	case head[0] == '{':
		return InputJSON
	}
	return InputUnknown
}
