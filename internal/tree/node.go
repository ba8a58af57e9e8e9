package tree

import "io/fs"

// Type is the type of a Node.
type Type uint8

// The values match format.Type, so a conversion is a plain cast.
const (
	TypeFile    Type = 0
	TypeDir     Type = 1
	TypeSymlink Type = 2
	// Special files: Walk reports them, never opening them (a named pipe
	// would block the open).
	TypeFIFO     Type = 3
	TypeCharDev  Type = 4
	TypeBlockDev Type = 5
	TypeSocket   Type = 6
	// TypeOther is a file of a type the system has and ibt does not
	// record: Stat reports one, Walk skips them with a warning.
	TypeOther Type = 7
)

func (t Type) String() string {
	switch t {
	case TypeFile:
		return "file"
	case TypeDir:
		return "directory"
	case TypeSymlink:
		return "symlink"
	case TypeFIFO:
		return "named pipe"
	case TypeCharDev:
		return "character device"
	case TypeBlockDev:
		return "block device"
	case TypeSocket:
		return "socket"
	}
	return "special file"
}

// Node is what an lstat of one path found.
type Node struct {
	Path   string // relative to the root, slash-separated, as the filesystem spells it
	Type   Type
	Mode   uint32 // permission bits with setuid, setgid and sticky (07777)
	MTime  int64  // modification time, nanoseconds since the Unix epoch
	Size   int64  // files only; 0 for directories and symlinks
	Target string // symlinks only: the target, verbatim, never followed
	// Rdev, for a character or block device only, is its device number
	// as major<<32 | minor (format.MakeRdev), whatever the system's dev_t.
	Rdev  uint64
	UID   uint32
	GID   uint32
	Dev   uint64
	Inode uint64
	CTime int64 // inode change time, nanoseconds since the Unix epoch
	Nlink uint64
	// LinkTo, set by Walk for a file of several hard links, is the path of
	// the first link the walk emitted, unless that is this one.
	LinkTo string
	// Xattrs are the extended attributes, sorted by name, when
	// Options.Xattrs asked for them and the system has them.
	Xattrs []Xattr
}

// Xattr is one extended attribute.
type Xattr struct {
	Name  string
	Value []byte
}

// kind is the finer type the walk needs to order a listing and to say why it
// skips an entry.
type kind uint8

const (
	kindFile kind = iota
	kindDir
	kindSymlink
	kindFifo
	kindSocket
	kindCharDevice
	kindBlockDevice
	kindOther
)

func (k kind) nodeType() Type {
	switch k {
	case kindFile:
		return TypeFile
	case kindDir:
		return TypeDir
	case kindSymlink:
		return TypeSymlink
	case kindFifo:
		return TypeFIFO
	case kindCharDevice:
		return TypeCharDev
	case kindBlockDevice:
		return TypeBlockDev
	case kindSocket:
		return TypeSocket
	}
	return TypeOther
}

// String is the reason given when the walk skips an entry of this kind.
func (k kind) String() string {
	switch k {
	case kindFile:
		return "regular file"
	case kindDir:
		return "directory"
	case kindSymlink:
		return "symlink"
	case kindFifo:
		return "named pipe"
	case kindSocket:
		return "socket"
	case kindCharDevice:
		return "character device"
	case kindBlockDevice:
		return "block device"
	}
	return "file of unsupported type"
}

func kindOfMode(m fs.FileMode) kind {
	switch {
	case m.IsRegular():
		return kindFile
	case m&fs.ModeDir != 0:
		return kindDir
	case m&fs.ModeSymlink != 0:
		return kindSymlink
	case m&fs.ModeNamedPipe != 0:
		return kindFifo
	case m&fs.ModeSocket != 0:
		return kindSocket
	case m&fs.ModeCharDevice != 0:
		return kindCharDevice
	case m&fs.ModeDevice != 0:
		return kindBlockDevice
	}
	return kindOther
}

// fillFromFileInfo fills n from the portable part of fi, for systems (and
// FileInfos) that carry no stat structure.
func fillFromFileInfo(n *Node, fi fs.FileInfo) kind {
	m := fi.Mode()
	k := kindOfMode(m)
	n.Type = k.nodeType()
	n.Mode = uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		n.Mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		n.Mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		n.Mode |= 0o1000
	}
	n.MTime = fi.ModTime().UnixNano()
	if k == kindFile {
		n.Size = fi.Size()
	}
	return k
}
