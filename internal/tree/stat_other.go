//go:build !(linux || darwin || freebsd || openbsd || netbsd)

package tree

import "io/fs"

// NodeFromInfo converts what an lstat (or fstat) of rel returned into a Node;
// target is the symlink's target and is ignored for other types. It is the
// one conversion Walk, Stat and OpenFile callers share. Owners, device and
// inode numbers are left zero on this system.
func NodeFromInfo(rel string, fi fs.FileInfo, target string) *Node {
	n := &Node{Path: rel}
	fillFromFileInfo(n, fi)
	if n.Type == TypeSymlink {
		n.Target = target
	}
	return n
}
