//go:build linux

package powerloss

import (
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// gate counts the operations that change the filesystem, runs them one at
// a time, and cuts the power before operation crashAfter+1.
type gate struct {
	fuse.RawFileSystem
	p *FS
}

// pass runs op as one operation unless the power is cut; flush says it
// is a flush.
func (g *gate) pass(flush bool, op func() fuse.Status) fuse.Status {
	p := g.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.crashed {
		return fuse.EIO
	}
	if p.crashAfter >= 0 && p.ops >= p.crashAfter {
		p.crashed = true
		if p.onCrash != nil {
			p.onCrash()
		}
		return fuse.EIO
	}
	p.ops++
	if flush {
		p.flushes = append(p.flushes, p.ops)
	}
	return op()
}

func (g *gate) SetAttr(c <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	return g.pass(false, func() fuse.Status { return g.RawFileSystem.SetAttr(c, in, out) })
}

func (g *gate) Mknod(c <-chan struct{}, in *fuse.MknodIn, name string, out *fuse.EntryOut) fuse.Status {
	return g.pass(false, func() fuse.Status { return g.RawFileSystem.Mknod(c, in, name, out) })
}

func (g *gate) Mkdir(c <-chan struct{}, in *fuse.MkdirIn, name string, out *fuse.EntryOut) fuse.Status {
	return g.pass(false, func() fuse.Status { return g.RawFileSystem.Mkdir(c, in, name, out) })
}

func (g *gate) Unlink(c <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	return g.pass(false, func() fuse.Status { return g.RawFileSystem.Unlink(c, h, name) })
}

func (g *gate) Rmdir(c <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	return g.pass(false, func() fuse.Status { return g.RawFileSystem.Rmdir(c, h, name) })
}

func (g *gate) Rename(c <-chan struct{}, in *fuse.RenameIn, from, to string) fuse.Status {
	return g.pass(false, func() fuse.Status { return g.RawFileSystem.Rename(c, in, from, to) })
}

func (g *gate) Link(c <-chan struct{}, in *fuse.LinkIn, name string, out *fuse.EntryOut) fuse.Status {
	return g.pass(false, func() fuse.Status { return g.RawFileSystem.Link(c, in, name, out) })
}

func (g *gate) Symlink(c <-chan struct{}, h *fuse.InHeader, target, name string, out *fuse.EntryOut) fuse.Status {
	return g.pass(false, func() fuse.Status { return g.RawFileSystem.Symlink(c, h, target, name, out) })
}

func (g *gate) SetXAttr(c <-chan struct{}, in *fuse.SetXAttrIn, attr string, data []byte) fuse.Status {
	return g.pass(attr == SyncfsAttr, func() fuse.Status { return g.RawFileSystem.SetXAttr(c, in, attr, data) })
}

func (g *gate) RemoveXAttr(c <-chan struct{}, h *fuse.InHeader, attr string) fuse.Status {
	return g.pass(false, func() fuse.Status { return g.RawFileSystem.RemoveXAttr(c, h, attr) })
}

func (g *gate) Create(c <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	return g.pass(false, func() fuse.Status { return g.RawFileSystem.Create(c, in, name, out) })
}

func (g *gate) Open(c <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	if in.Flags&syscall.O_TRUNC == 0 {
		return g.RawFileSystem.Open(c, in, out)
	}
	return g.pass(false, func() fuse.Status { return g.RawFileSystem.Open(c, in, out) })
}

func (g *gate) Write(c <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	var n uint32
	st := g.pass(false, func() (st fuse.Status) { n, st = g.RawFileSystem.Write(c, in, data); return st })
	return n, st
}

func (g *gate) Writev(c <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	var n uint32
	st := g.pass(false, func() (st fuse.Status) { n, st = g.RawFileSystem.Writev(c, in, data); return st })
	return n, st
}

func (g *gate) CopyFileRange(c <-chan struct{}, in *fuse.CopyFileRangeIn) (uint32, fuse.Status) {
	var n uint32
	st := g.pass(false, func() (st fuse.Status) { n, st = g.RawFileSystem.CopyFileRange(c, in); return st })
	return n, st
}

func (g *gate) Fallocate(c <-chan struct{}, in *fuse.FallocateIn) fuse.Status {
	return g.pass(false, func() fuse.Status { return g.RawFileSystem.Fallocate(c, in) })
}

func (g *gate) Fsync(c <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	return g.pass(true, func() fuse.Status { return g.RawFileSystem.Fsync(c, in) })
}

func (g *gate) FsyncDir(c <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	return g.pass(true, func() fuse.Status { return g.RawFileSystem.FsyncDir(c, in) })
}
