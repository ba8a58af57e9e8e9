package tree

import (
	"errors"
	"fmt"
	"io/fs"
)

// StagingName is the directory ibt-patch stages new files in, at the root of
// the tree it patches. Walk never visits an entry of this name at the root.
const StagingName = ".ibt-patch"

// ErrChanged is wrapped by the error for an entry that changed type or was
// replaced while it was being read, which a rerun usually fixes.
var ErrChanged = errors.New("changed while it was being read")

// Options tune Walk. The zero value walks everything and warns nobody.
type Options struct {
	// Warn, if set, is told about every entry skipped without an error:
	// files of a type ibt does not record (named pipes, devices and
	// sockets it does), and vanished entries under AllowVanished. path is relative and slash-separated.
	Warn func(path, reason string)
	// Exclude, if set, is asked about every entry before it is read; an
	// excluded entry is not visited and an excluded directory not descended
	// into. isDir is what the directory listing says.
	Exclude func(rel string, isDir bool) bool
	// Ignore, if set, takes the place of Exclude with its Exclude method,
	// and reads each directory's ignore file through the walk's own handle
	// of it, where the directory's listing has one (Excluder.listed).
	Ignore *Excluder
	// AllowVanished makes an entry that disappeared between the listing of
	// its directory and its lstat a warning instead of an error.
	AllowVanished bool
	// Xattrs makes Walk read every entry's extended attributes (Linux only):
	// user.* always, every namespace when running as root.
	Xattrs bool
	// KnownXattrs, if set along with Xattrs, is asked about every entry
	// once it has been lstat'ed, before its attributes are read; when it
	// returns ok, they are the entry's attributes and the walk does not
	// read them. It is called in walk order, but the walk reads entries in
	// runs, so it may be asked about several entries before fn
	// gets the first of them, and about entries fn never gets.
	KnownXattrs func(n *Node) (xattrs []Xattr, ok bool)
}

// Walk calls fn for every file, directory, symlink, named pipe, device and
// socket below root, root itself excluded, in bytewise order of their
// slash-separated relative paths. It never opens anything but directories.
// root must be a directory; a symlink to one is followed, symlinks below it
// never are. Memory is bounded by the listings of the directories on the
// current path. fn may keep the Node; an error from fn stops the walk and is
// returned as is.
func Walk(root string, opt Options, fn func(n *Node) error) error {
	d, err := openRootDir(root)
	if err != nil {
		return fmt.Errorf("open %q: %w", root, err)
	}
	defer d.close()
	w := &walker{opt: opt, fn: fn, buf: make([]byte, 64<<10), root: root, links: map[fileID]string{}}
	w.readers = make([]*entryReader, readers())
	for i := range w.readers {
		w.readers[i] = &entryReader{buf: make([]byte, 4<<10)}
		if opt.Xattrs {
			w.readers[i].xattrs = newXattrReader()
		}
	}
	l := w.level(0)
	if err := d.list(l, &w.buf); err != nil {
		return fmt.Errorf("read directory %q: %w", root, err)
	}
	l.sort()
	if opt.Ignore != nil {
		opt.Ignore.listed("", d, l)
	}
	return w.visit(d, 0, 0)
}

type walker struct {
	opt    Options
	fn     func(n *Node) error
	levels []*listing // one per depth, reused by every directory at that depth
	path   []byte     // the current directory's relative path and '/', then the entry's name
	buf    []byte     // directory reads
	root   string
	// links maps the identity of every file of several hard links seen so
	// far to the path it was first emitted at; single-link files never
	// enter it, so it stays small on ordinary trees.
	links   map[fileID]string
	readers []*entryReader // one per goroutine reading a run
	run     []pending      // the run being read
}

// fileID identifies an inode.
type fileID struct{ dev, inode uint64 }

func (w *walker) level(depth int) *listing {
	for len(w.levels) <= depth {
		w.levels = append(w.levels, &listing{})
	}
	l := w.levels[depth]
	l.reset()
	return l
}

func (w *walker) warn(rel, reason string) {
	if w.opt.Warn != nil {
		w.opt.Warn(rel, reason)
	}
}

// visit walks the sorted listing of d, whose relative path and '/' are the
// first plen bytes of w.path: the entries between two descents are read as
// runs (see readRun).
func (w *walker) visit(d dirHandle, depth, plen int) error {
	l := w.levels[depth]
	items := l.items
	for len(items) > 0 {
		if it := items[0]; it.descend {
			items = items[1:]
			if l.dirs[it.dir].skip {
				continue
			}
			if err := w.descend(d, l.name(it), depth, plen, l.dirs[it.dir]); err != nil {
				return err
			}
			continue
		}
		k := 1
		for k < len(items) && k < runLen && !items[k].descend {
			k++
		}
		if err := w.readRun(d, l, items[:k], depth, plen); err != nil {
			return err
		}
		items = items[k:]
	}
	return nil
}

// prepare decides whether an entry is read at all and, if so, returns its
// Node with the path filled in; nil means skip it.
func (w *walker) prepare(l *listing, it item, depth, plen int) *Node {
	name := l.name(it)
	if it.kind == kindDir {
		l.dirs[it.dir].skip = true // until the entry has been emitted
	}
	if depth == 0 && string(name) == StagingName {
		return nil
	}
	w.path = append(w.path[:plen], name...)
	rel := string(w.path)
	switch {
	case w.opt.Ignore != nil:
		if w.opt.Ignore.Exclude(rel, it.kind == kindDir) {
			return nil
		}
	case w.opt.Exclude != nil:
		if w.opt.Exclude(rel, it.kind == kindDir) {
			return nil
		}
	}
	return &Node{Path: rel}
}

// result is what read found.
type result struct {
	kind kind
	op   string // the call that failed
	err  error
}

// read lstats the prepared entry n of d, and reads its target if it is a
// symlink.
func read(d dirHandle, n *Node, plen int, buf *[]byte) result {
	name := n.Path[plen:]
	k, err := d.lstat(name, n)
	if err != nil {
		return result{k, "lstat", err}
	}
	if k == kindSymlink {
		if n.Target, err = d.readlink(name, buf); err != nil {
			return result{k, "readlink", err}
		}
	}
	return result{kind: k}
}

// finish reports what read found about one entry and hands it to fn.
func (w *walker) finish(l *listing, it item, n *Node, r result) error {
	if r.err != nil {
		if w.opt.AllowVanished && errors.Is(r.err, fs.ErrNotExist) {
			w.warn(n.Path, "vanished during the walk")
			return nil
		}
		return fmt.Errorf("%s %q: %w", r.op, n.Path, r.err)
	}
	if (r.kind == kindDir) != (it.kind == kindDir) {
		// Its place in the order was decided by the listing.
		return fmt.Errorf("%q %w", n.Path, ErrChanged)
	}
	switch r.kind {
	case kindDir:
		l.dirs[it.dir] = dirState{dev: n.Dev, inode: n.Inode}
	case kindFile:
		w.link(n)
	case kindOther:
		w.warn(n.Path, r.kind.String())
		return nil
	}
	return w.fn(n)
}

// link sets n.LinkTo if n is a further hard link to a file already emitted.
func (w *walker) link(n *Node) {
	if n.Nlink < 2 || n.Inode == 0 {
		return
	}
	id := fileID{n.Dev, n.Inode}
	if first, ok := w.links[id]; ok {
		n.LinkTo = first
		return
	}
	w.links[id] = n.Path
}

// descend walks the subtree of the directory name in d, whose own entry was
// emitted with the identity in state.
func (w *walker) descend(d dirHandle, name []byte, depth, plen int, state dirState) error {
	w.path = append(append(w.path[:plen], name...), '/')
	clen := len(w.path)
	rel := func() string { return string(w.path[:clen-1]) }
	child, err := d.openChild(string(name))
	if err != nil {
		if w.opt.AllowVanished && errors.Is(err, fs.ErrNotExist) {
			w.warn(rel(), "vanished during the walk")
			return nil
		}
		if errors.Is(err, ErrChanged) {
			return fmt.Errorf("%q %w", rel(), ErrChanged)
		}
		return fmt.Errorf("open directory %q: %w", rel(), err)
	}
	defer child.close()
	dev, inode, err := child.identity()
	if err != nil {
		return fmt.Errorf("stat directory %q: %w", rel(), err)
	}
	if dev != state.dev || inode != state.inode {
		return fmt.Errorf("%q %w", rel(), ErrChanged)
	}
	l := w.level(depth + 1)
	if err := child.list(l, &w.buf); err != nil {
		return fmt.Errorf("read directory %q: %w", rel(), err)
	}
	l.sort()
	if w.opt.Ignore != nil {
		w.opt.Ignore.listed(rel(), child, l)
	}
	return w.visit(child, depth+1, clen)
}
