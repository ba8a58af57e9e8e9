package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/rsync"
)

// racyWindow is how long before the previous walk a file must have last
// changed for its previous hash to be trusted. File timestamps come from a
// coarse kernel clock, so a file written again within a tick of being read
// can keep both its mtime and ctime; such a "racy" file is read again.
const racyWindow = 2 * time.Second

// prevIndex walks a previous index alongside a new walk (both are sorted by
// path), offering the hash and signatures of files that provably did not
// change: same size, mtime, ctime, inode and device. ctime cannot be set by
// programs, so a tree unpacked with fixed mtimes (release archives) is still
// caught: unpacking it again gives every file a new ctime and inode.
type prevIndex struct {
	r      *format.Reader
	name   string
	cur    *format.Entry
	cutoff int64 // files whose ctime is at or after this are racy
	reused int64
}

func (c *runContext) openPrev(name string) (*prevIndex, func() error, error) {
	in, err := c.openIndex(name)
	if err != nil {
		return nil, nil, err
	}
	h := in.Header()
	p := &prevIndex{r: in.Reader, name: name, cutoff: h.Time - int64(racyWindow)}
	if h.Time == 0 {
		p.cutoff = 0 // an index without a walk time: nothing can be trusted
	}
	return p, in.close, p.advance()
}

func (p *prevIndex) advance() error {
	rec, err := p.r.Next()
	if err == io.EOF {
		p.cur = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read previous index %q: %w", displayName(p.name), err)
	}
	e, ok := rec.(*format.Entry)
	if !ok {
		return fmt.Errorf("failed to read previous index %q: unexpected %T record", displayName(p.name), rec)
	}
	p.cur = e
	return nil
}

// reuse fills in e's hash and signatures from the previous index when the
// quick check says the file is unchanged, and reports whether it did.
// Calls come in increasing path order.
func (p *prevIndex) reuse(e *format.Entry) (bool, error) {
	for p.cur != nil && p.cur.Path < e.Path {
		if err := p.advance(); err != nil {
			return false, err
		}
	}
	o := p.cur
	if o == nil || o.Path != e.Path || o.Type != format.TypeFile || e.Type != format.TypeFile ||
		o.Size != e.Size || o.MTime != e.MTime || o.CTime != e.CTime || o.Inode != e.Inode || o.Dev != e.Dev ||
		e.Inode == 0 || e.CTime >= p.cutoff || len(o.Hash) == 0 ||
		int(o.BlockSize) != rsync.BlockSize(e.Size) || (len(o.Sig) > 0) != rsync.Signed(e.Size) {
		return false, nil
	}
	e.Hash, e.BlockSize, e.Sig = o.Hash, o.BlockSize, o.Sig
	p.reused++
	return true, nil
}
