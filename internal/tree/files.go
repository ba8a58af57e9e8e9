package tree

import (
	"io/fs"
	"os"
	"strings"
)

// Files opens regular files of one tree as OpenFile does, for a caller that
// reads them in path order (ibt-sign's workers, ibt-delta). It keeps the
// os.Root of the last file's directory open, so that a file of the same
// directory as the one before it is lstat'ed and opened by its name alone:
// one system call each, where OpenFile resolves every component of the path
// anew, opening and closing each directory on the way, twice. On a tree of
// small files that resolution cost more than reading the files.
//
// The confinement is os.Root's, as for OpenFile: the directory is opened
// through the tree's root, and the file in it by a name of one component,
// never through a symlink. A directory replaced while its files are being
// read is read as it was when its first file was opened; callers check what
// they read against their index (size, mtime, hash) either way. A Files is
// used by one goroutine at a time.
type Files struct {
	root *os.Root
	dir  string   // the slash-separated path of sub, "" when sub is nil
	sub  *os.Root // the directory of the last file opened
}

// NewFiles returns a Files of the tree at root; Close releases it.
func NewFiles(root *os.Root) *Files { return &Files{root: root} }

// Open is OpenFile(root, rel), with the same results and errors: any
// failure of the short way is answered by OpenFile itself.
func (f *Files) Open(rel string) (*os.File, fs.FileInfo, error) {
	i := strings.LastIndexByte(rel, '/')
	if i <= 0 || i == len(rel)-1 {
		return OpenFile(f.root, rel)
	}
	if dir := rel[:i]; dir != f.dir {
		f.Close()
		sub, err := f.root.OpenRoot(dir)
		if err != nil {
			return OpenFile(f.root, rel)
		}
		f.dir, f.sub = dir, sub
	}
	file, fi, err := OpenFile(f.sub, rel[i+1:])
	if err != nil {
		return OpenFile(f.root, rel)
	}
	return file, fi, nil
}

// Close closes the directory kept open, if any.
func (f *Files) Close() {
	if f.sub != nil {
		f.sub.Close()
		f.dir, f.sub = "", nil
	}
}
