//go:build linux || darwin || freebsd || openbsd || netbsd

package tree

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// NodeFromInfo converts what an lstat (or fstat) of rel returned into a Node;
// target is the symlink's target and is ignored for other types. It is the
// one conversion Walk, Stat and OpenFile callers share.
func NodeFromInfo(rel string, fi fs.FileInfo, target string) *Node {
	n := &Node{Path: rel}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		fillFromFileInfo(n, fi)
	} else {
		fillRaw(n, uint32(st.Mode), st.Size, fi.ModTime().UnixNano(), statCtime(st),
			st.Uid, st.Gid, uint64(st.Dev), uint64(st.Ino), uint64(st.Nlink), uint64(st.Rdev))
	}
	if n.Type == TypeSymlink {
		n.Target = target
	}
	return n
}

// fillFromStat fills n from a stat the walk made itself.
func fillFromStat(n *Node, st *unix.Stat_t) kind {
	return fillRaw(n, uint32(st.Mode), st.Size, st.Mtim.Nano(), st.Ctim.Nano(),
		st.Uid, st.Gid, uint64(st.Dev), uint64(st.Ino), uint64(st.Nlink), uint64(st.Rdev))
}

// fillRaw maps a raw st_mode and the other stat fields onto n; both stat
// structures (syscall's and x/sys/unix's) go through it.
func fillRaw(n *Node, mode uint32, size, mtime, ctime int64, uid, gid uint32, dev, ino, nlink, rdev uint64) kind {
	k := kindOfRaw(mode)
	n.Type = k.nodeType()
	n.Mode = mode & 0o7777
	n.MTime = mtime
	n.CTime = ctime
	n.UID = uid
	n.GID = gid
	n.Dev = dev
	n.Inode = ino
	n.Nlink = nlink
	switch k {
	case kindFile:
		n.Size = size
	case kindCharDevice, kindBlockDevice:
		n.Rdev = PortableRdev(rdev)
	}
	return k
}

// PortableRdev turns a system's raw device number into major<<32 | minor,
// the form Node.Rdev and the index record.
func PortableRdev(raw uint64) uint64 {
	return uint64(unix.Major(raw))<<32 | uint64(unix.Minor(raw))
}

// SystemRdev turns a Node.Rdev back into the system's raw device number,
// as mknod takes it.
func SystemRdev(rdev uint64) uint64 {
	return unix.Mkdev(uint32(rdev>>32), uint32(rdev))
}

func kindOfRaw(mode uint32) kind {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return kindFile
	case unix.S_IFDIR:
		return kindDir
	case unix.S_IFLNK:
		return kindSymlink
	case unix.S_IFIFO:
		return kindFifo
	case unix.S_IFSOCK:
		return kindSocket
	case unix.S_IFCHR:
		return kindCharDevice
	case unix.S_IFBLK:
		return kindBlockDevice
	}
	return kindOther
}
