package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/ibt-tools/ibt/format"
)

// Kind is the kind recorded in an archive's header.
const Kind = "archive"

// Version is the version of the archive layout this package writes and reads.
const Version = 2

// Bounds of a batch member (see the package doc).
const (
	MaxBatch     = 4096    // changes in one batch
	BatchSize    = 1 << 20 // a writer closes a batch once it holds this many bytes
	MaxBatchSize = 4 << 20 // a reader refuses a larger batch member
)

// maxSmallMember bounds the header and trailer members.
const maxSmallMember = 64 << 10

// Member names.
const (
	headerName  = "ibt/header"
	trailerName = "ibt/trailer"
)

// memberTime is every member's modification time: fixed, so that the same
// input gives the same archive.
var memberTime = time.Unix(0, 0)

// Header is the content of ibt/header.
type Header struct {
	Kind    string        `msgpack:"kind"`    // always "archive"
	Version int           `msgpack:"version"` // Version
	Tool    string        `msgpack:"tool"`    // the tool that packed it, e.g. "ibt-pack 0.2.0"
	Delta   format.Header `msgpack:"delta"`   // header of the delta stream it was packed from
	Codec   Codec         `msgpack:"codec"`   // the codec it was written with
}

// Trailer is the content of ibt/trailer.
type Trailer struct {
	Changes  uint64 `msgpack:"changes"`             // changes in all batches
	Members  uint64 `msgpack:"members"`             // members before ibt/trailer, ibt/header included
	TreeHash []byte `msgpack:"tree_hash,omitempty"` // the delta stream's Trailer.TreeHash
	Checksum uint64 `msgpack:"checksum"`            // xxh64 of ibt/header, every ibt/changes member and TreeHash
}

func batchName(seq int) string { return fmt.Sprintf("ibt/changes/%06d", seq) }

// dataName is the name of the data member of c, which has data.
func dataName(c *format.Change) string {
	sum := sha256.Sum256([]byte(c.Path()))
	dir := "created/"
	if c.HasDelta() {
		dir = "updated/"
	}
	return dir + hex.EncodeToString(sum[:])
}

// dataWhat describes a data member for error messages.
func dataWhat(name string, c *format.Change) string {
	return dataWhatOf(name, c.Path(), c.HasDelta())
}

func dataWhatOf(name, path string, delta bool) string {
	what := "content"
	if delta {
		what = "delta"
	}
	return fmt.Sprintf("member %q (%s of %q)", name, what, path)
}
