//go:build linux

package powerloss

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// SyncfsAttr is the extended attribute whose setting stands for a syncfs
// of the whole filesystem.
const SyncfsAttr = "user.powerloss.syncfs"

// Available says why FUSE cannot be mounted here, or "" if it can.
func Available() string {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return "no /dev/fuse"
	}
	if os.Geteuid() != 0 {
		return "mounting FUSE directly needs root"
	}
	return ""
}

// FS is a mounted power-loss filesystem.
type FS struct {
	Mountpoint string
	backing    string
	server     *fuse.Server

	mu         sync.Mutex
	ops        int   // operations that change the filesystem, flushes included
	flushes    []int // the op numbers of the flushes
	syncfs     int   // how many of them were syncfs
	crashAfter int   // the power goes when op crashAfter+1 starts; <0: never
	crashed    bool
	onCrash    func()

	ids     map[uint64]int         // backing inode number -> identity
	next    int                    // the next identity
	inodes  map[int]*inodeState    // the durable state of each identity
	names   map[int]map[string]int // the durable names: directory -> name -> identity
	pending []nameOp               // name changes not yet durable, in order
	root    int
}

// inodeState is what a cut keeps of a file, directory, symlink or node.
type inodeState struct {
	mode     uint32 // type and permission bits, as st_mode
	uid, gid uint32
	mtime    unix.Timespec
	rdev     uint64
	data     []byte // a regular file's content
	target   string // a symlink's
}

// nameOp is one change of names: add (dir[0]/name[0] is identity child),
// remove (dir[0]/name[0]), rename (child moves from dir[0]/name[0] to
// dir[1]/name[1]) or exchange (child was at dir[0]/name[0], other at
// dir[1]/name[1]).
type nameOp struct {
	kind         int
	dir          [2]int
	name         [2]string
	child, other int
}

const (
	opAdd = iota
	opRemove
	opRename
	opExchange
)

// Options of Mount.
type Options struct {
	// Crash cuts the power when operation CrashAfter+1 (counted as Ops
	// counts them) starts: it and every later operation fail with EIO,
	// and the function given to OnCrash runs (to kill the process under
	// test).
	Crash      bool
	CrashAfter int
}

// Mount mounts a power-loss filesystem over backing at mountpoint; all of
// backing's current state is durable.
func Mount(backing, mountpoint string, opt Options) (*FS, error) {
	backing, err := filepath.Abs(backing)
	if err != nil {
		return nil, err
	}
	p := &FS{Mountpoint: mountpoint, backing: backing, crashAfter: -1,
		ids: map[uint64]int{}, inodes: map[int]*inodeState{}, names: map[int]map[string]int{}}
	if opt.Crash {
		p.crashAfter = opt.CrashAfter
	}
	if p.root, err = p.scan(backing); err != nil {
		return nil, err
	}
	lr := &fs.LoopbackRoot{Path: backing}
	var st syscall.Stat_t
	if err := syscall.Stat(backing, &st); err != nil {
		return nil, err
	}
	lr.Dev = uint64(st.Dev)
	lr.NewNode = func(r *fs.LoopbackRoot, _ *fs.Inode, _ string, _ *syscall.Stat_t) fs.InodeEmbedder {
		return &node{LoopbackNode: fs.LoopbackNode{RootData: r}, p: p}
	}
	lr.RootNode = lr.NewNode(lr, nil, "", &st)
	// the kernel may cache: only the process under test changes the files
	ttl := time.Second
	raw := fs.NewNodeFS(lr.RootNode, &fs.Options{EntryTimeout: &ttl, AttrTimeout: &ttl, NegativeTimeout: &ttl})
	p.server, err = fuse.NewServer(&gate{RawFileSystem: raw, p: p}, mountpoint, &fuse.MountOptions{
		DirectMount: true, FsName: "powerloss", Name: "powerloss", AllowOther: true,
	})
	if err != nil {
		return nil, err
	}
	go p.server.Serve()
	if err := p.server.WaitMount(); err != nil {
		p.server.Unmount()
		return nil, err
	}
	return p, nil
}

// Ops returns how many operations changed the filesystem so far, and the
// numbers of those that were flushes (fsync, fsync of a directory, syncfs).
func (p *FS) Ops() (int, []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ops, append([]int(nil), p.flushes...)
}

// Syncfs returns how many flushes were syncfs.
func (p *FS) Syncfs() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.syncfs
}

// OnCrash sets the function run when the power is cut.
func (p *FS) OnCrash(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onCrash = fn
}

// Crashed reports whether the power was cut.
func (p *FS) Crashed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.crashed
}

// Unmount unmounts the filesystem, leaving the backing directory as the
// processes left it (no power cut).
func (p *FS) Unmount() error {
	var err error
	for range 50 {
		if err = p.server.Unmount(); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// Cut unmounts the filesystem and turns the backing directory into what
// survives a power cut now: the durable state, with the first survive name
// changes that are not durable yet applied too (all of them if survive is
// larger than their number). It returns how many were pending.
func (p *FS) Cut(survive int) (pending int, err error) {
	p.mu.Lock()
	p.crashed = true
	p.mu.Unlock()
	if err := p.Unmount(); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pending = len(p.pending)
	for _, op := range p.pending[:min(survive, len(p.pending))] {
		p.apply(op)
	}
	ents, err := os.ReadDir(p.backing)
	if err != nil {
		return pending, err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(p.backing, e.Name())); err != nil {
			return pending, err
		}
	}
	seen := map[int]string{}
	if err := p.build(p.backing, p.root, seen, 0); err != nil {
		return pending, fmt.Errorf("rebuild the durable state: %w", err)
	}
	return pending, nil
}

// build makes the durable identity id at path (which, for the root,
// exists) and, for a directory, its durable entries.
func (p *FS) build(path string, id int, seen map[int]string, depth int) error {
	st := p.inodes[id]
	if st == nil {
		return fmt.Errorf("%s: no durable state", path)
	}
	if first, ok := seen[id]; ok {
		if st.mode&syscall.S_IFMT == syscall.S_IFDIR {
			return fmt.Errorf("%s: a directory also named %s", path, first)
		}
		return os.Link(first, path)
	}
	seen[id] = path
	switch st.mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		if depth > 0 {
			if err := os.Mkdir(path, 0o700); err != nil {
				return err
			}
		}
		names := make([]string, 0, len(p.names[id]))
		for n := range p.names[id] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if err := p.build(filepath.Join(path, n), p.names[id][n], seen, depth+1); err != nil {
				return err
			}
		}
	case syscall.S_IFREG:
		if err := os.WriteFile(path, st.data, 0o600); err != nil {
			return err
		}
	case syscall.S_IFLNK:
		if err := os.Symlink(st.target, path); err != nil {
			return err
		}
	default:
		if err := unix.Mknod(path, st.mode, int(st.rdev)); err != nil {
			return err
		}
	}
	if err := os.Lchown(path, int(st.uid), int(st.gid)); err != nil {
		return err
	}
	if st.mode&syscall.S_IFMT != syscall.S_IFLNK {
		if err := unix.Chmod(path, st.mode&0o7777); err != nil {
			return err
		}
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, path, []unix.Timespec{st.mtime, st.mtime}, unix.AT_SYMLINK_NOFOLLOW)
}

// scan takes the whole tree under path as durable and returns the
// identity of path.
func (p *FS) scan(path string) (int, error) {
	st, err := capture(path)
	if err != nil {
		return 0, err
	}
	id, err := p.identity(path)
	if err != nil {
		return 0, err
	}
	p.inodes[id] = st
	if st.mode&syscall.S_IFMT == syscall.S_IFDIR {
		ents, err := os.ReadDir(path)
		if err != nil {
			return 0, err
		}
		p.names[id] = map[string]int{}
		for _, e := range ents {
			c, err := p.scan(filepath.Join(path, e.Name()))
			if err != nil {
				return 0, err
			}
			p.names[id][e.Name()] = c
		}
	}
	return id, nil
}

// identity returns the identity of the backing file at path, giving it a
// new one if its inode number has none.
func (p *FS) identity(path string) (int, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return 0, err
	}
	if id, ok := p.ids[st.Ino]; ok {
		return id, nil
	}
	return p.newIdentity(path)
}

// newIdentity gives the file just created at path an identity of its own,
// whatever file its inode number belonged to before, durable as empty.
func (p *FS) newIdentity(path string) (int, error) {
	st, err := capture(path)
	if err != nil {
		return 0, err
	}
	var s unix.Stat_t
	if err := unix.Lstat(path, &s); err != nil {
		return 0, err
	}
	p.next++
	id := p.next
	p.ids[s.Ino] = id
	st.data = nil
	p.inodes[id] = st
	return id, nil
}

// capture reads the state of the backing file at path.
func capture(path string) (*inodeState, error) {
	var s unix.Stat_t
	if err := unix.Lstat(path, &s); err != nil {
		return nil, err
	}
	st := &inodeState{mode: s.Mode, uid: s.Uid, gid: s.Gid, mtime: s.Mtim, rdev: s.Rdev}
	switch s.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		st.data = b
	case syscall.S_IFLNK:
		t, err := os.Readlink(path)
		if err != nil {
			return nil, err
		}
		st.target = t
	}
	return st, nil
}

// apply makes the name change op durable.
func (p *FS) apply(op nameOp) {
	dir := func(id int) map[string]int {
		if p.names[id] == nil {
			p.names[id] = map[string]int{}
		}
		return p.names[id]
	}
	switch op.kind {
	case opAdd:
		dir(op.dir[0])[op.name[0]] = op.child
	case opRemove:
		delete(dir(op.dir[0]), op.name[0])
	case opRename:
		delete(dir(op.dir[0]), op.name[0])
		dir(op.dir[1])[op.name[1]] = op.child
	case opExchange:
		dir(op.dir[0])[op.name[0]], dir(op.dir[1])[op.name[1]] = op.other, op.child
	}
}

// flushDir makes durable the pending name changes of the directory id,
// with, to keep each directory's changes in order, the earlier changes of
// every other directory a rename among them touched.
func (p *FS) flushDir(id int) {
	dirs := map[int]bool{id: true}
	touches := func(op nameOp) bool {
		return dirs[op.dir[0]] || (op.kind >= opRename && dirs[op.dir[1]])
	}
	for grown := true; grown; {
		grown = false
		for _, op := range p.pending {
			if touches(op) && op.kind >= opRename && !(dirs[op.dir[0]] && dirs[op.dir[1]]) {
				dirs[op.dir[0]], dirs[op.dir[1]] = true, true
				grown = true
			}
		}
	}
	rest := p.pending[:0:0]
	for _, op := range p.pending {
		if touches(op) {
			p.apply(op)
		} else {
			rest = append(rest, op)
		}
	}
	p.pending = rest
}

// flushFile makes the state of the backing file at path durable; for a
// directory, its names and the state of its symlinks and nodes too.
func (p *FS) flushFile(path string) error {
	id, err := p.identity(path)
	if err != nil {
		return err
	}
	st, err := capture(path)
	if err != nil {
		return err
	}
	p.inodes[id] = st
	if st.mode&syscall.S_IFMT != syscall.S_IFDIR {
		return nil
	}
	p.flushDir(id)
	ents, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if t := e.Type(); t.IsRegular() || t.IsDir() {
			continue
		}
		c := filepath.Join(path, e.Name())
		cid, err := p.identity(c)
		if err != nil {
			return err
		}
		if p.inodes[cid], err = capture(c); err != nil {
			return err
		}
	}
	return nil
}

// flushAll is syncfs: everything is durable.
func (p *FS) flushAll() error {
	p.syncfs++
	for _, op := range p.pending {
		p.apply(op)
	}
	p.pending = nil
	return filepath.WalkDir(p.backing, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		id, err := p.identity(path)
		if err != nil {
			return err
		}
		p.inodes[id], err = capture(path)
		return err
	})
}

// record adds a name change to the journal.
func (p *FS) record(op nameOp) { p.pending = append(p.pending, op) }

// errno turns an error of the model into the status the caller sees.
func errno(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	if err != nil {
		return syscall.EIO
	}
	return 0
}
