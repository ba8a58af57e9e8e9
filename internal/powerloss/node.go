//go:build linux

package powerloss

import (
	"context"
	"path/filepath"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// node is a loopback node that tells the model of every change of names
// and every flush. Its methods run under the gate's lock.
type node struct {
	fs.LoopbackNode
	p *FS
}

var (
	_ fs.NodeMkdirer        = (*node)(nil)
	_ fs.NodeMknoder        = (*node)(nil)
	_ fs.NodeCreater        = (*node)(nil)
	_ fs.NodeSymlinker      = (*node)(nil)
	_ fs.NodeLinker         = (*node)(nil)
	_ fs.NodeUnlinker       = (*node)(nil)
	_ fs.NodeRmdirer        = (*node)(nil)
	_ fs.NodeRenamer        = (*node)(nil)
	_ fs.NodeFsyncer        = (*node)(nil)
	_ fs.NodeSetxattrer     = (*node)(nil)
	_ fs.NodeTmpfiler       = (*node)(nil)
	_ fs.NodeCopyFileRanger = (*node)(nil)
)

// backing returns the backing path of the node.
func (n *node) backing() string {
	return filepath.Join(n.p.backing, n.EmbeddedInode().Path(nil))
}

// added records that name was created in n.
func (n *node) added(name string) syscall.Errno {
	dir, err := n.p.identity(n.backing())
	if err != nil {
		return errno(err)
	}
	child, err := n.p.newIdentity(filepath.Join(n.backing(), name))
	if err != nil {
		return errno(err)
	}
	n.p.record(nameOp{kind: opAdd, dir: [2]int{dir}, name: [2]string{name}, child: child})
	return 0
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	in, e := n.LoopbackNode.Mkdir(ctx, name, mode, out)
	if e == 0 {
		e = n.added(name)
	}
	return in, e
}

func (n *node) Mknod(ctx context.Context, name string, mode, rdev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	in, e := n.LoopbackNode.Mknod(ctx, name, mode, rdev, out)
	if e == 0 {
		e = n.added(name)
	}
	return in, e
}

func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	in, fh, ff, e := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if e == 0 {
		e = n.added(name)
	}
	return in, fh, ff, e
}

func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	in, e := n.LoopbackNode.Symlink(ctx, target, name, out)
	if e == 0 {
		e = n.added(name)
	}
	return in, e
}

func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	in, e := n.LoopbackNode.Link(ctx, target, name, out)
	if e != 0 {
		return in, e
	}
	dir, err := n.p.identity(n.backing())
	if err != nil {
		return in, errno(err)
	}
	child, err := n.p.identity(filepath.Join(n.backing(), name))
	if err != nil {
		return in, errno(err)
	}
	n.p.record(nameOp{kind: opAdd, dir: [2]int{dir}, name: [2]string{name}, child: child})
	return in, 0
}

// Tmpfile (O_TMPFILE) is refused: its linkat through /proc would name a
// file the model never saw created.
func (n *node) Tmpfile(context.Context, uint32, uint32, *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EOPNOTSUPP
}

// CopyFileRange is refused, so that copies are plain reads and writes
// that the gate counts one by one.
func (n *node) CopyFileRange(context.Context, fs.FileHandle, uint64, *fs.Inode, fs.FileHandle, uint64, uint64, uint64) (uint32, syscall.Errno) {
	return 0, syscall.EXDEV
}

func (n *node) removed(name string) syscall.Errno {
	dir, err := n.p.identity(n.backing())
	if err != nil {
		return errno(err)
	}
	n.p.record(nameOp{kind: opRemove, dir: [2]int{dir}, name: [2]string{name}})
	return 0
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	if e := n.LoopbackNode.Unlink(ctx, name); e != 0 {
		return e
	}
	return n.removed(name)
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	if e := n.LoopbackNode.Rmdir(ctx, name); e != 0 {
		return e
	}
	return n.removed(name)
}

func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	np := filepath.Join(n.p.backing, newParent.EmbeddedInode().Path(nil))
	child, err := n.p.identity(filepath.Join(n.backing(), name))
	if err != nil {
		return errno(err)
	}
	other, _ := n.p.identity(filepath.Join(np, newName))
	if e := n.LoopbackNode.Rename(ctx, name, newParent, newName, flags); e != 0 {
		return e
	}
	from, err := n.p.identity(n.backing())
	if err != nil {
		return errno(err)
	}
	to, err := n.p.identity(np)
	if err != nil {
		return errno(err)
	}
	kind := opRename
	if flags&unix.RENAME_EXCHANGE != 0 {
		kind = opExchange
	}
	n.p.record(nameOp{kind: kind, dir: [2]int{from, to}, name: [2]string{name, newName}, child: child, other: other})
	return 0
}

// Fsync makes the node durable; the backing file is not flushed, as the
// model, not the backing disk, is what a cut keeps.
func (n *node) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	return errno(n.p.flushFile(n.backing()))
}

// Setxattr of SyncfsAttr is a syncfs.
func (n *node) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	if attr == SyncfsAttr {
		return errno(n.p.flushAll())
	}
	return n.LoopbackNode.Setxattr(ctx, attr, data, flags)
}

// dirHandle is a directory handle whose fsync flushes the model.
type dirHandle struct {
	ds interface {
		fs.FileReleasedirer
		fs.FileSeekdirer
		fs.FileReaddirenter
	}
	n *node
}

var (
	_ fs.FileReleasedirer = (*dirHandle)(nil)
	_ fs.FileSeekdirer    = (*dirHandle)(nil)
	_ fs.FileReaddirenter = (*dirHandle)(nil)
	_ fs.FileFsyncdirer   = (*dirHandle)(nil)
)

func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, ff, e := n.LoopbackNode.OpendirHandle(ctx, flags)
	if e != 0 {
		return fh, ff, e
	}
	ds, ok := fh.(interface {
		fs.FileReleasedirer
		fs.FileSeekdirer
		fs.FileReaddirenter
	})
	if !ok {
		return fh, ff, e
	}
	return &dirHandle{ds: ds, n: n}, ff, 0
}

func (d *dirHandle) Releasedir(ctx context.Context, flags uint32) { d.ds.Releasedir(ctx, flags) }
func (d *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	return d.ds.Seekdir(ctx, off)
}
func (d *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	return d.ds.Readdirent(ctx)
}
func (d *dirHandle) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	return d.n.Fsync(ctx, nil, flags)
}
