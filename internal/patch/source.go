package patch

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
	"github.com/ibt-tools/ibt/internal/rsync"
)

// source is the archive being applied: its changes in path order and, for
// each change with data, the data.
type source struct {
	r *archive.Reader
}

// openSource opens the archive read from in; ahead decompresses it on a
// goroutine of its own, which in must then allow.
func openSource(in io.Reader, ahead bool) (*source, error) {
	open := archive.NewReader
	if ahead {
		open = archive.NewReadAheadReader
	}
	r, err := open(in)
	if err != nil {
		return nil, corrupt(err)
	}
	return &source{r: r}, nil
}

// close stops the archive's decompression.
func (s *source) close() { s.r.Close() }

// corrupt classes an archive reading error, keeping the reader's own
// classes (truncated, not an archive) and hint in the chain.
func corrupt(err error) error {
	return &Error{Class: ErrCorrupt, Detail: "failed to read the archive", Err: err}
}

// next returns the next change, or io.EOF after a verified trailer.
func (s *source) next() (*format.Change, error) {
	c, err := s.r.Next()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, corrupt(err)
	}
	if err := format.CheckBlockSize(c); err != nil {
		return nil, corrupt(err)
	}
	return c, nil
}

// content returns the content of the created file of the current change.
func (s *source) content() io.Reader { return s.r.Content() }

// nextOp returns the next delta op of the current updated file, or io.EOF.
func (s *source) nextOp() (rsync.Op, error) {
	op, err := s.r.NextOp()
	if err != nil {
		if err == io.EOF {
			return rsync.Op{}, io.EOF
		}
		return rsync.Op{}, corrupt(err)
	}
	if op.Copy {
		return rsync.Op{Kind: rsync.OpCopy, Offset: op.Offset, Length: op.Length}, nil
	}
	return rsync.Op{Kind: rsync.OpLiteral, Length: int64(len(op.Data)), Data: op.Data}, nil
}

// identity names the archive for the journal: two archives with the same
// identity hold the same changes and the same new tree. It is only known
// once the trailer has been read.
func (s *source) identity() string {
	t := s.r.Trailer()
	h := sha256.New()
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], t.Changes)
	binary.LittleEndian.PutUint64(b[8:], t.Members)
	binary.LittleEndian.PutUint64(b[16:], t.Checksum)
	h.Write(b[:])
	h.Write(t.TreeHash)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// treeHash returns the new tree's hash recorded in the trailer.
func (s *source) treeHash() []byte { return s.r.Trailer().TreeHash }

// errNoTreeHash is returned when a trailer has no tree hash to verify.
var errNoTreeHash = errors.New("the archive records no tree hash")
