package merge

import (
	"bytes"
	"fmt"
	"io"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/rsync"
)

// Link is what an archive of a chain does: from which tree (the one before
// it in the chain made) to which, and by how many changes of each kind.
type Link struct {
	Name    string
	Full    bool   // a full backup: its old tree is the empty tree
	NewTree []byte // the tree hash it records of its new tree
	Ops     map[format.Op]int
	Renamed int // created files taken from a file the tree has
}

// EmptyTree is the tree hash of the empty tree, a full backup's old tree.
var EmptyTree = format.NewTreeHasher().Sum()

// Inspect reads the whole archive in, checking what can be checked without
// any tree, beyond what the archive reader checks of every member (the
// layout, sizes and ops, the trailer's checksum): the content of every
// created file against its hash, and, for a full backup, its entries
// against the tree hash it records. The content of an updated file needs
// the old file, which only ibt-patch has.
func Inspect(in Input) (Link, error) {
	r, cl, err := in.Open()
	if err != nil {
		return Link{}, err
	}
	defer cl.Close()
	in.R = r
	l := Link{Name: in.Name, Full: r.Header().Delta.Time == 0, Ops: map[format.Op]int{}}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("archive %q is damaged: %s", in.Name, fmt.Sprintf(format, args...))
	}
	var tree *format.TreeHasher
	if l.Full {
		tree = format.NewTreeHasher()
	}
	for {
		c, err := next(in)
		if err != nil {
			return Link{}, err
		}
		if c == nil {
			break
		}
		l.Ops[c.Op]++
		if c.From != "" {
			l.Renamed++
		}
		if err := format.CheckBlockSize(c); err != nil {
			return Link{}, bad("%v", err)
		}
		if tree != nil {
			if c.Old != nil {
				return Link{}, bad("%q changes an entry of an older tree, but the archive is a full backup", c.Path())
			}
			tree.Add(c.New)
		}
		if tree != nil && c.From != "" && !c.FromNew {
			return Link{}, bad("%q takes its content from %q of an older tree, but the archive is a full backup", c.Path(), c.From)
		}
		if !c.HasData() || c.HasDelta() {
			continue
		}
		h := rsync.NewFileHash(c.New.Size)
		if _, err := io.Copy(h, r.Content()); err != nil {
			return Link{}, fmt.Errorf("failed to read archive %q: %w", in.Name, err)
		}
		if !bytes.Equal(h.Sum(), c.New.Hash) {
			return Link{}, bad("the content of %q does not match its recorded hash", c.Path())
		}
	}
	l.NewTree = r.Trailer().TreeHash
	if tree != nil && l.NewTree != nil && !bytes.Equal(tree.Sum(), l.NewTree) {
		return Link{}, bad("its entries are not the tree whose hash it records")
	}
	return l, nil
}
