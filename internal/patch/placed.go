package patch

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"

	"github.com/ibt-tools/ibt/internal/tree"
)

// The verification takes the hash of a file the commit placed from the
// archive rather than reading it (the staged file was checked against it),
// but something may have rewritten the file between its rename and the
// walk. That is no reason to read it, yet such a hash must not go into the
// known file, where later runs would trust it for good. So the commit
// notes, right after each rename, what lstat says of the placed file
// (device, inode, ctime), and the walk records a placed file's hash only
// if the file is still exactly that inode with that ctime: any write since
// the rename moved the ctime. The notes go to a file in the staging
// directory, in path order, and are read side by side with the walk, so
// memory does not grow with the changes.
const placedName = stageDir + "/placed"

// placedLog is the commit's record of placed files.
type placedLog struct {
	f   *os.File
	w   *bufio.Writer
	buf []byte
}

func newPlacedLog(root *os.Root) (*placedLog, error) {
	f, err := root.OpenFile(placedName, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, ioErr(placedName, "create the list of placed files", err)
	}
	return &placedLog{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// add notes the regular file just placed at p, with what lstat says of it
// now. A failed write only means the file is not recorded in the known
// file.
func (l *placedLog) add(p string, dev, ino uint64, ctime int64) {
	if l == nil {
		return
	}
	b := binary.AppendUvarint(l.buf[:0], uint64(len(p)))
	b = append(b, p...)
	b = binary.AppendUvarint(b, dev)
	b = binary.AppendUvarint(b, ino)
	b = binary.AppendVarint(b, ctime)
	l.buf = b
	l.w.Write(b)
}

// reader returns a reader of the notes from the start, or nil if they
// cannot be read back.
func (l *placedLog) reader() *placedReader {
	if l == nil || l.w.Flush() != nil {
		return nil
	}
	if _, err := l.f.Seek(0, io.SeekStart); err != nil {
		return nil
	}
	return &placedReader{r: bufio.NewReaderSize(l.f, 64<<10)}
}

func (l *placedLog) close() {
	if l != nil {
		l.f.Close()
	}
}

// placedReader reads the notes forward.
type placedReader struct {
	r        *bufio.Reader
	path     string
	dev, ino uint64
	ctime    int64
	end      bool
}

// at reports whether the commit placed a file at p. Paths must come in
// increasing order, as for unchanged.
func (r *placedReader) at(p string) bool {
	if r == nil {
		return false
	}
	for !r.end && r.path < p {
		r.next()
	}
	return !r.end && r.path == p
}

// unchanged reports whether the file n was placed by the commit and is
// still the inode it placed, unchanged since. Paths must come in
// increasing order.
func (r *placedReader) unchanged(n *tree.Node) bool {
	return r.at(n.Path) && n.Inode != 0 &&
		r.dev == n.Dev && r.ino == n.Inode && r.ctime == n.CTime
}

func (r *placedReader) next() {
	k, err := binary.ReadUvarint(r.r)
	if err != nil || k > maxKnownRecord {
		r.end = true
		return
	}
	b := make([]byte, k)
	if _, err := io.ReadFull(r.r, b); err != nil {
		r.end = true
		return
	}
	p := string(b)
	dev, err1 := binary.ReadUvarint(r.r)
	ino, err2 := binary.ReadUvarint(r.r)
	ctime, err3 := binary.ReadVarint(r.r)
	if err1 != nil || err2 != nil || err3 != nil || p <= r.path {
		r.end = true
		return
	}
	r.path, r.dev, r.ino, r.ctime = p, dev, ino, ctime
}
