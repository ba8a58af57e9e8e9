// Package index builds the index of a tree, the work of ibt-sign (see
// Build): the walk, the hashing workers and the reuse of a previous index's
// hashes. Its conversion of a walked node into an entry (FromNode) is shared
// with ibt-patch, which verifies a patched tree against such entries, so the
// two can never drift apart.
package index

import (
	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/tree"
)

// symlinkMode is the one mode an index records for a symlink. Linux gives
// every symlink 0777 and cannot change it, while macOS and FreeBSD give one
// the umask's mode: recording what lstat says would make an archive made
// there fail verification when restored on Linux. POSIX leaves the mode
// unspecified and only macOS consults it, so a restored symlink may end up
// more open there than it was, never less readable.
const symlinkMode = 0o777

// FromNode converts a walked node into an index entry, without the content
// hash and block signatures, which need the file's content.
func FromNode(n *tree.Node) format.Entry {
	e := format.Entry{
		Path:  n.Path,
		Mode:  n.Mode,
		MTime: n.MTime,
		UID:   n.UID,
		GID:   n.GID,
		Dev:   n.Dev,
		Inode: n.Inode,
		CTime: n.CTime,
	}
	for _, x := range n.Xattrs {
		e.Xattrs = append(e.Xattrs, format.Xattr{Name: x.Name, Value: x.Value})
	}
	switch n.Type {
	case tree.TypeDir:
		e.Type = format.TypeDir
	case tree.TypeSymlink:
		e.Type = format.TypeSymlink
		e.Mode = symlinkMode
		e.Target = n.Target
	case tree.TypeFIFO, tree.TypeCharDev, tree.TypeBlockDev, tree.TypeSocket:
		// metadata only: never opened, no content
		e.Type = format.Type(n.Type)
		if e.Type.IsDevice() {
			e.Rdev = n.Rdev
		}
	default:
		e.Type = format.TypeFile
		e.Size = n.Size
		e.LinkTo = n.LinkTo
	}
	return e
}
