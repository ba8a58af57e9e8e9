package format

// Record is one record of a stream, as returned by Reader.Next: an *Entry, a
// *Change, a *Copy or a *Literal. The interface is sealed: no other type
// implements it.
type Record interface {
	isRecord()
}

func (*Entry) isRecord()   {}
func (*Change) isRecord()  {}
func (*Copy) isRecord()    {}
func (*Literal) isRecord() {}

// Kind names what a stream carries.
type Kind string

const (
	KindIndex Kind = "index" // Entry records: a DirIndex
	KindDiff  Kind = "diff"  // Change records: a DiffIndex
	KindDelta Kind = "delta" // Change records, each created or updated file followed by its data
)

// Version is the version of the wire format this package reads and writes.
const Version = 2

// Algorithm names recorded in every header, so that a reader can refuse
// what it does not implement instead of misreading it.
const (
	HashAlgorithm   = "sha256-blocks"    // file hash: see the spec in doc.go
	WeakAlgorithm   = "rabinkarp32"      // rolling weak checksum of a block
	StrongAlgorithm = "sha256-aes-sized" // a keyed sum of a block's SHA-256 (Header.Seed) cut to StrongLen(size, block size) bytes
)

// Header opens every stream.
type Header struct {
	Kind    Kind   `msgpack:"kind"`
	Version int    `msgpack:"version"`
	Hash    string `msgpack:"hash"`
	Weak    string `msgpack:"weak"`
	Strong  string `msgpack:"strong"`
	// Seed is the secret key of the strong sums of the stream's
	// signatures (SeedLen random bytes; see strong.go): ibt-sign draws a
	// new one for every index but reuses the previous index's with
	// --prev, and a diff carries the old index's, which its signatures
	// were made with. A stream holding a signature has one; a delta
	// stream, which holds none, never does, so that archives do not give
	// it away.
	Seed []byte `msgpack:"seed,omitempty"`
	Tool string `msgpack:"tool"`           // creating tool and version, e.g. "ibt-sign 0.2.0"
	Root string `msgpack:"root,omitempty"` // absolute path of the signed directory (index; diff and delta copy the new index's)
	// Time is when ibt-sign started a walk (ns since the Unix epoch): for
	// an index, its own; for a diff or a delta, the old index's, whose walk
	// recorded the changes' old entries (zero for a diff against no
	// index). ibt-sign --prev trusts an entry of an index, and ibt-patch
	// an old entry's device, inode and ctime, only if its file was last
	// changed well before this time.
	Time int64 `msgpack:"time,omitempty"`
	// Exclude lists the patterns ibt-sign was told to leave out, in
	// .gitignore syntax and in the order given (a later one overrides an
	// earlier one, and all of them the tree's .ibtignore files, which
	// apply too). ibt-patch leaves the paths they exclude alone.
	Exclude []string `msgpack:"exclude,omitempty"`
	// DirMode, DirMTime, DirUID, DirGID and DirXattrs describe the
	// signed directory itself, which ibt-patch gives DIR (see TopDir):
	// its permission bits with DirRecorded set, so that a mode of 0 is
	// recorded too, its mtime (ns), owner and extended attributes.
	DirMode  uint32 `msgpack:"dir_mode,omitempty"`
	DirMTime int64  `msgpack:"dir_mtime,omitempty"`
	// Xattrs says which extended attributes an index records: "all"
	// namespaces, "user" (user.* only) or "" (none, or not said).
	// ibt-sign --prev reuses recorded attributes only where they cover
	// what its own walk reads.
	Xattrs    string  `msgpack:"xattrs,omitempty"`
	DirUID    uint32  `msgpack:"dir_u,omitempty"`
	DirGID    uint32  `msgpack:"dir_g,omitempty"`
	DirXattrs []Xattr `msgpack:"dir_x,omitempty"`
}

// DirRecorded, in Header.DirMode, says that the header describes the top
// directory whole: mode, mtime, owner and extended attributes, each even
// where it is zero. A DirMode without it (from a writer before it existed)
// records the permission bits alone, and 0 records none; a zero DirMTime
// there records no mtime either. It is the directory type bit of st_mode.
const DirRecorded = 0o40000

// SetTopDir records e, the entry of the signed directory itself (its mode,
// mtime, owner and extended attributes), in h.
func (h *Header) SetTopDir(e *Entry) {
	h.DirMode, h.DirMTime = DirRecorded|e.Mode, e.MTime
	h.DirUID, h.DirGID, h.DirXattrs = e.UID, e.GID, e.Xattrs
}

// TopDir returns what h records of the top directory as an entry of path
// "" and type directory, and whether it records it whole (DirRecorded).
// Otherwise only a non-zero Mode and a non-zero MTime are recorded.
func (h Header) TopDir() (e Entry, whole bool) {
	e = Entry{Type: TypeDir, Mode: h.DirMode &^ DirRecorded, MTime: h.DirMTime,
		UID: h.DirUID, GID: h.DirGID, Xattrs: h.DirXattrs}
	return e, h.DirMode&DirRecorded != 0
}

// IgnoreFile is the name of the ignore files ibt-sign reads in every
// directory of a tree, .gitignore's counterpart; Header.Exclude adds to them.
const IgnoreFile = ".ibtignore"

// WithTree returns h describing the same tree as src, the header of the
// stream h's stream is made from: its root, exclusions and top directory.
func (h Header) WithTree(src Header) Header {
	h.Root, h.Exclude, h.DirMode, h.DirMTime = src.Root, src.Exclude, src.DirMode, src.DirMTime
	h.DirUID, h.DirGID, h.DirXattrs = src.DirUID, src.DirGID, src.DirXattrs
	return h
}

// Trailer closes every stream. Count and Checksum are filled in by the Writer.
type Trailer struct {
	Count    uint64 `msgpack:"count"`    // records between header and trailer
	Checksum uint64 `msgpack:"checksum"` // xxh64 of the stream bytes before the checksum itself (the trailer's other fields included; see doc.go)
	// TreeHash is the hash of the whole tree (see TreeHasher): for an index,
	// of its own entries; for a diff or delta, of the new index.
	TreeHash []byte `msgpack:"tree_hash,omitempty"`
}

// Type is the type of a tree entry.
type Type uint8

const (
	TypeFile    Type = 0
	TypeDir     Type = 1
	TypeSymlink Type = 2
	// Special files: no content, only metadata; a device also has its
	// device number (Entry.Rdev).
	TypeFIFO     Type = 3 // named pipe
	TypeCharDev  Type = 4 // character device
	TypeBlockDev Type = 5 // block device
	TypeSocket   Type = 6 // Unix domain socket (only its node: no listener comes back)
)

// MaxType is the highest entry type this package knows.
const MaxType = TypeSocket

// IsDevice reports whether t is a character or block device, the types
// with a device number.
func (t Type) IsDevice() bool { return t == TypeCharDev || t == TypeBlockDev }

// IsSpecial reports whether t is a named pipe, a device or a socket: an
// entry of metadata only, never opened for its content.
func (t Type) IsSpecial() bool { return t >= TypeFIFO && t <= MaxType }

func (t Type) String() string {
	switch t {
	case TypeFile:
		return "file"
	case TypeDir:
		return "dir"
	case TypeSymlink:
		return "symlink"
	case TypeFIFO:
		return "fifo"
	case TypeCharDev:
		return "chardev"
	case TypeBlockDev:
		return "blockdev"
	case TypeSocket:
		return "socket"
	}
	return "unknown"
}

// maxXattrs bounds the extended attributes of one entry; Linux allows 64 KiB
// of names per file, so a real file never comes near it.
const maxXattrs = 1 << 16

// Xattr is one extended attribute.
type Xattr struct {
	Name  string `msgpack:"n"`
	Value []byte `msgpack:"v"`
}

// Entry is one file, directory, symlink or special file (named pipe, device
// or socket) of a tree. Path is the slash-separated
// path relative to the tree's root, as the filesystem spells it (it may hold any
// byte but NUL and is not necessarily UTF-8).
type Entry struct {
	Path   string `msgpack:"p"`
	Type   Type   `msgpack:"t"`
	Mode   uint32 `msgpack:"m"`           // permission bits with setuid, setgid and sticky (07777)
	MTime  int64  `msgpack:"mt"`          // modification time, nanoseconds since the Unix epoch
	Size   int64  `msgpack:"s,omitempty"` // files: content length in bytes
	Target string `msgpack:"l,omitempty"` // symlinks: the target, verbatim
	// Rdev, for a character or block device only, is its device number
	// as MakeRdev(major, minor) encodes it, the same on every system.
	Rdev  uint64 `msgpack:"rd,omitempty"`
	UID   uint32 `msgpack:"u,omitempty"`  // owner, as a number
	GID   uint32 `msgpack:"g,omitempty"`  // group, as a number
	Dev   uint64 `msgpack:"dv,omitempty"` // device, inode and ctime serve the quick check of ibt-sign --prev
	Inode uint64 `msgpack:"in,omitempty"`
	CTime int64  `msgpack:"ct,omitempty"`
	// LinkTo, for a hard link, is the path of the first entry (in stream order)
	// of the same inode; the entry's content fields then repeat that entry's.
	LinkTo string  `msgpack:"h,omitempty"`
	Xattrs []Xattr `msgpack:"x,omitempty"`
	// Hash is the file's content hash (HashAlgorithm, 32 bytes); files only.
	Hash []byte `msgpack:"H,omitempty"`
	// BlockSize is the block length used for Hash and Sig (files only).
	BlockSize uint32 `msgpack:"b,omitempty"`
	// Sig holds the block signatures, one per block of BlockSize bytes (the
	// last may be short): a 4-byte big-endian weak sum followed by the first
	// StrongLen(Size, BlockSize) bytes of the block's keyed strong sum
	// (StrongAlgorithm, keyed by Header.Seed). Empty for
	// files too small to gain from them.
	Sig []byte `msgpack:"S,omitempty"`
	// Skipped marks a file that ibt-sign --skip-changed could not read
	// whole (it changed while it was read) and for which it had no
	// previous entry to keep: its content is unknown, so it has no hash,
	// block size, signature or LinkTo. ibt-diff leaves the path as the old
	// index has it (neither creating, updating nor deleting it), and the
	// tree hash leaves the entry out. Besides an index, only a delete's or
	// replace's Old holds one: the diff from an index that had it skipped,
	// which matches any regular file or nothing at the path.
	Skipped bool `msgpack:"sk,omitempty"`
}

// MakeRdev encodes a device number for Entry.Rdev: the major number in the
// high 32 bits, the minor in the low 32, whatever the system's own dev_t
// layout.
func MakeRdev(major, minor uint32) uint64 { return uint64(major)<<32 | uint64(minor) }

// RdevMajor and RdevMinor take an Entry.Rdev apart.
func RdevMajor(rdev uint64) uint32 { return uint32(rdev >> 32) }

// RdevMinor returns the minor number of an Entry.Rdev.
func RdevMinor(rdev uint64) uint32 { return uint32(rdev) }

// Op is the kind of a Change.
type Op uint8

const (
	OpCreate  Op = 1 // New is created (a file's content follows in a delta stream)
	OpUpdate  Op = 2 // a file's content changed (its rsync delta follows in a delta stream)
	OpDelete  Op = 3 // Old is removed (a directory only once its contents are)
	OpMeta    Op = 4 // same content, other metadata (mode, mtime, owner, xattrs)
	OpReplace Op = 5 // the type changed: Old is removed, then New created (content follows if a file)
)

func (o Op) String() string {
	switch o {
	case OpCreate:
		return "create"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	case OpMeta:
		return "meta"
	case OpReplace:
		return "replace"
	}
	return "unknown"
}

// Change is one difference between two indexes, at one path. Old is the entry
// in the old index (nil for OpCreate), New the entry in the new one (nil for
// OpDelete). In a diff stream Old carries its signature for OpUpdate.
type Change struct {
	Op  Op     `msgpack:"o"`
	Old *Entry `msgpack:"old,omitempty"`
	New *Entry `msgpack:"new,omitempty"`
	// From, on a created file (OpCreate or OpReplace), names a file that
	// already holds its content, which the stream then does not carry: a
	// rename or a copy. Without FromNew it is a file of the old tree, whose
	// old content is taken whatever the same changes do at its path
	// (ibt-patch keeps the old version of one they update or replace until
	// the new file is in place); with FromNew it
	// is a file created earlier in the stream. The content's hash is
	// New.Hash either way, and ibt-patch checks it.
	From    string `msgpack:"f,omitempty"`
	FromNew bool   `msgpack:"fn,omitempty"`
	// FromSize, on a change with a source of the old tree, says that the
	// change's data is a delta against the source's content, which is
	// FromSize (at least 1) bytes: its copies are from the source. ibt-merge
	// writes a rename or a copy followed by an update so; without it the
	// source is the whole content and the change has no data.
	FromSize int64 `msgpack:"fs,omitempty"`
}

// Path is the path the change is about.
func (c *Change) Path() string {
	if c.New != nil {
		return c.New.Path
	}
	if c.Old != nil {
		return c.Old.Path
	}
	return ""
}

// HasData reports whether the change is followed by data records in a delta
// stream (and by a data member in an archive): the content of a created file,
// or the delta of an updated one or of one with a FromSize.
func (c *Change) HasData() bool {
	switch c.Op {
	case OpCreate, OpReplace:
		return c.New != nil && c.New.Type == TypeFile && c.New.LinkTo == "" && (c.From == "" || c.FromSize > 0)
	case OpUpdate:
		return true
	}
	return false
}

// HasDelta reports whether the change's data is a delta, copies from an old
// file and literals (an update, or a change with a FromSize), rather than
// the new content.
func (c *Change) HasDelta() bool {
	return c.Op == OpUpdate || c.FromSize > 0
}

// BaseSize is the size of the old file a delta copies from: the old
// entry's for an update, FromSize for a change with one.
func (c *Change) BaseSize() int64 {
	if c.FromSize > 0 {
		return c.FromSize
	}
	if c.Old != nil {
		return c.Old.Size
	}
	return 0
}

// Copy is a delta operation: copy Length bytes from offset Offset of the old file.
type Copy struct {
	Offset int64 `msgpack:"off"`
	Length int64 `msgpack:"len"`
}

// Literal is a delta operation carrying bytes of the new file verbatim; a
// created file's content is a sequence of Literals. Data is at most MaxChunk bytes.
type Literal struct {
	Data []byte `msgpack:"d"`
}

// MaxChunk bounds the data of one Literal.
const MaxChunk = 1 << 20

// A file's data records end when they have produced exactly New.Size bytes:
// the stream needs no end marker, and a reader refuses a record that would
// produce more.

// WithoutSig returns e without its block signatures (e itself if it has
// none), as a diff's created entries and a delta's entries carry them.
func (e *Entry) WithoutSig() *Entry {
	if e == nil || e.Sig == nil {
		return e
	}
	c := *e
	c.Sig = nil
	return &c
}
