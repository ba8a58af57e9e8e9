package index

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
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
//
// The walk looks entries up through its KnownXattrs hook (see known), which
// it calls in walk order but runs ahead of the entries it emits; sign then
// takes each emitted entry's match back with take.
type prevIndex struct {
	name    string
	seed    []byte                        // of the previous index's strong sums; nil if it has none
	next    func() (*format.Entry, error) // the previous index's next entry; nil at its end
	cur     *format.Entry
	end     bool   // next has returned the last entry
	err     error  // reading the previous index failed; take returns it
	cutoff  int64  // entries whose ctime is at or after this are racy
	xattrs  bool   // unchanged inodes' attributes may be taken from it
	scope   string // the attributes this walk reads (tree.XattrScope)
	matches []prevMatch
	reused  int64
}

// prevMatch is the previous entry of the walk's node n, nil if it has none.
type prevMatch struct {
	n *tree.Node
	o *format.Entry
}

func newPrevIndex(name string, next func() (*format.Entry, error), walkTime int64, scope string) *prevIndex {
	p := &prevIndex{name: name, next: next, cutoff: walkTime - int64(racyWindow)}
	if walkTime == 0 {
		p.cutoff = 0 // an index without a walk time: nothing can be trusted
	}
	// Attributes are reused only where the previous index recorded what
	// this walk reads: user.* (filtered below) needs an index that holds
	// at least those, which an index that does not say also did if made
	// here; every namespace needs an index made with every namespace.
	p.scope = tree.XattrScope()
	p.xattrs = xattrsReusable(p.scope, scope)
	return p
}

// xattrsReusable reports whether a walk that reads the attributes walk
// (tree.XattrScope) may take them from an index that records index
// (format.Header.Xattrs).
func xattrsReusable(walk, index string) bool {
	return walk == "user" || walk == "all" && index == "all"
}

// readAhead decodes r's entries on a goroutine of its own, in batches, so
// that decoding the previous index does not slow the walk: next returns
// them in order, nil at the end. stop lets the goroutine end early.
func readAhead(r *format.Reader) (next func() (*format.Entry, error), stop func()) {
	// A batch closes at prevBatch entries or prevBatchSig bytes of
	// signatures, so that little more than a batch of signatures is held.
	const prevBatch, prevBatchSig = 256, 1 << 20
	type batch struct {
		entries []*format.Entry
		err     error
	}
	ch := make(chan batch, 2)
	done := make(chan struct{})
	go func() {
		defer close(ch)
		var b batch
		sig := 0
		for {
			rec, err := r.Next()
			if err == nil {
				e, ok := rec.(*format.Entry)
				if !ok {
					err = fmt.Errorf("unexpected %T record", rec)
				} else {
					b.entries = append(b.entries, e)
					sig += len(e.Sig)
				}
			}
			if err != nil || len(b.entries) == prevBatch || sig >= prevBatchSig {
				if err != io.EOF {
					b.err = err
				}
				select {
				case ch <- b:
				case <-done:
					return
				}
				if err != nil {
					return
				}
				b, sig = batch{entries: make([]*format.Entry, 0, prevBatch)}, 0
			}
		}
	}()
	var cur batch
	next = func() (*format.Entry, error) {
		for len(cur.entries) == 0 {
			if cur.err != nil {
				return nil, cur.err
			}
			var ok bool
			if cur, ok = <-ch; !ok {
				return nil, nil
			}
		}
		e := cur.entries[0]
		cur.entries[0] = nil
		cur.entries = cur.entries[1:]
		return e, nil
	}
	return next, func() { close(done) }
}

// lookup returns the previous entry at path, or nil. Calls come in
// increasing path order.
func (p *prevIndex) lookup(path string) *format.Entry {
	for !p.end && p.err == nil && (p.cur == nil || p.cur.Path < path) {
		e, err := p.next()
		if err != nil {
			p.err = fmt.Errorf("failed to read previous index %q: %w", inputName(p.name), err)
			return nil
		}
		if e == nil {
			p.end = true
			return nil
		}
		p.cur = e
	}
	if p.cur != nil && p.cur.Path == path {
		return p.cur
	}
	return nil
}

// known is the walk's KnownXattrs hook: it looks up n's previous entry for
// take, and returns that entry's attributes if they are n's. Every change
// to an inode's attributes moves its ctime (setxattr, removexattr and ACL
// changes included), so an inode whose ctime is unchanged, and was not
// racy at the previous walk, still has the attributes recorded then.
func (p *prevIndex) known(n *tree.Node) ([]tree.Xattr, bool) {
	o := p.lookup(n.Path)
	p.matches = append(p.matches, prevMatch{n, o})
	if !p.xattrs || o == nil || format.Type(n.Type) != o.Type || n.Inode == 0 || n.Inode != o.Inode ||
		n.Dev != o.Dev || n.CTime != o.CTime || n.CTime >= p.cutoff {
		return nil, false
	}
	var x []tree.Xattr
	for _, a := range o.Xattrs {
		if p.scope == "all" || strings.HasPrefix(a.Name, "user.") {
			x = append(x, tree.Xattr{Name: a.Name, Value: a.Value})
		}
	}
	return x, true
}

// take returns the previous entry that known found for n, the walk
// emitting nodes in the order known saw them, some of them skipped.
func (p *prevIndex) take(n *tree.Node) (*format.Entry, error) {
	for len(p.matches) > 0 {
		m := p.matches[0]
		p.matches[0] = prevMatch{}
		p.matches = p.matches[1:]
		if m.n == n {
			return m.o, p.err
		}
	}
	// Not seen by known: looked up now, or nil if the walk has gone past.
	return p.lookup(n.Path), p.err
}

// reuse fills in e's hash and signatures from o, its previous entry, when
// the quick check says the file is unchanged, and reports whether it did.
func (p *prevIndex) reuse(e, o *format.Entry) bool {
	if o == nil || o.Path != e.Path || o.Type != format.TypeFile || e.Type != format.TypeFile ||
		o.Size != e.Size || o.MTime != e.MTime || o.CTime != e.CTime || o.Inode != e.Inode || o.Dev != e.Dev ||
		e.Inode == 0 || e.CTime >= p.cutoff || len(o.Hash) == 0 ||
		int(o.BlockSize) != format.BlockSize(e.Size) || (len(o.Sig) > 0) != format.Signed(e.Size) {
		return false
	}
	e.Hash, e.BlockSize, e.Sig = o.Hash, o.BlockSize, o.Sig
	p.reused++
	return true
}
