package format

// How a stream is framed: the magic, and a tag and a length before every
// record's body (see doc.go). The records themselves are in records.go.

// Magic opens every stream, before lz4 decoding if the stream is not framed
// in lz4, after it if it is. Its first byte is not ASCII so that text tools
// take a stream for binary data, as PNG's magic does.
const Magic = "\x89IBT"

// MaxRecord bounds the body of one record, so that a reader never allocates
// more for a record than this however its input lies. The largest records are
// index entries of big files: the signature of a 100 GiB file is about 20 MB.
const MaxRecord = 64 << 20

// Record tags: the first byte of every frame (see doc.go). They are ASCII
// letters so that a hex dump of a stream is easy to follow.
const (
	tagHeader  byte = 'H'
	tagEntry   byte = 'E'
	tagChange  byte = 'C'
	tagCopy    byte = 'R'
	tagLiteral byte = 'L'
	tagTrailer byte = 'T'
)

// tagName names a record tag in error messages.
func tagName(tag byte) string {
	switch tag {
	case tagHeader:
		return "header"
	case tagEntry:
		return "entry"
	case tagChange:
		return "change"
	case tagCopy:
		return "copy"
	case tagLiteral:
		return "literal"
	case tagTrailer:
		return "trailer"
	}
	return "unknown"
}
