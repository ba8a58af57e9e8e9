// Package format reads and writes the streams the ibt tools pass to each
// other: an index of a directory tree, a diff of two indexes, and a delta
// carrying the data that turns one tree into the other. It is public so that
// other programs can produce and consume ibt streams; the byte layout below is
// the specification, pinned by the golden streams in testdata.
//
// # Stream layout
//
// A stream is a sequence of bytes, optionally framed in lz4 as a whole
// (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md; a reader
// recognises the frame magic 04 22 4D 18 and decodes it first). Offsets in
// errors count bytes of the decoded stream. Its layout:
//
//	stream  = magic version header record* trailer
//	magic   = 89 49 42 54               ("\x89IBT")
//	version = 02                        (one byte: the format version)
//	header  = frame with tag 'H' (0x48)
//	record  = frame with tag 'E' (0x45, entry), 'C' (0x43, change),
//	          'R' (0x52, copy) or 'L' (0x4C, literal)
//	trailer = frame with tag 'T' (0x54), then end of input
//	frame   = tag length body
//	tag     = one byte
//	length  = the length of body in bytes: an unsigned LEB128 varint
//	          (encoding/binary's Uvarint) in its shortest form, 1 to 4 bytes,
//	          at most MaxRecord (64 MiB)
//	body    = exactly one msgpack value filling length bytes
//
// A reader bounds every frame by MaxRecord before reading it and every
// msgpack length by what is left of the frame before decoding it. Anything
// after the trailer is an error, and so is the end of input before it (a
// "truncated" stream): a stream cut short by a dying producer never reads as
// a complete one.
//
// # Record bodies
//
// Each body is a msgpack map whose keys are the msgpack tags of the record's
// Go type (records.go), as github.com/vmihailenco/msgpack/v5 encodes the
// struct with compact integers: keys are str, in the order of the struct's
// fields; a field tagged omitempty is present if and only if it is not zero
// (an empty slice or string is zero); integers take their shortest msgpack
// form (positive fixint, negative fixint, uint8..uint64, int8..int64, unsigned
// forms for values >= 0); strings are str and byte slices bin in their
// shortest form; a nil pointer is omitted. The encoding is canonical and a
// reader enforces it: a body must be byte for byte the encoding of the value
// it decodes to, so unknown, repeated or misordered keys, zero values written
// out and non-minimal numbers are refused. Floats and ext types appear nowhere.
//
//	header   (H)  Header:  kind, version, hash, weak, strong, [seed] (bin of
//	                       16 bytes; index and diff only), tool, [root],
//	                       [time] (ns: when ibt-sign began the walk of the index,
//	                       or for a diff or delta of its old index),
//	                       [exclude] (array of str), [dir_mode], [dir_mtime],
//	                       [xattrs] ("user" or "all"; index only), [dir_u],
//	                       [dir_g], [dir_x] (array of maps {n, v})
//	entry    (E)  Entry:   p, t, m, mt, [s], [l], [rd], [u], [g], [dv], [in],
//	                       [ct], [h], [x], [H], [b], [S], [sk]; x is an array
//	                       of maps {n, v}, sk true when present
//	change   (C)  Change:  o, [old], [new], [f], [fn], [fs]; old and new are
//	                       entry maps (new without H where it repeats old's,
//	                       below), f a path, fn true when present, fs an int
//	copy     (R)  Copy:    off, len
//	literal  (L)  Literal: d (bin of 1 to MaxChunk bytes)
//	trailer  (T)  Trailer: count, [tree_hash], checksum
//
// The trailer is laid out by hand in the same style but with checksum last,
// always as a msgpack uint64 (CF followed by 8 bytes, big-endian), so that the
// stream's last 8 bytes are its checksum: xxh64 (seed 0) of every byte of the
// decoded stream before them, from the magic to the trailer's own count and
// tree hash. count is the number of records between header and trailer.
//
// # Header
//
// kind is "index", "diff" or "delta"; version is 2, as the version byte;
// hash is "sha256-blocks", weak "rabinkarp32" and strong "sha256-aes-sized":
// the algorithms of Entry.Hash and Entry.Sig. A reader refuses any other
// value rather than misread the stream; in particular a version 1 stream
// (2 KiB blocks and 16-byte strong sums for every file up to 256 MiB, header
// key strong_len) is refused by its version byte, and its file hashes, which
// depend on the block size, differ from version 2's; a version 2 stream of
// unkeyed strong sums ("sha256-sized") is refused by its strong name.
//
// seed is the secret key K of the strong sums: 16 random bytes, drawn by
// ibt-sign for every index (but kept from the previous index by ibt-sign
// --prev, whose signatures it reuses): the AES-128 key of the strong sums
// (see Algorithms). Without K nobody can compute a strong sum, so nobody
// who cannot read the index can craft a block whose sums collide with
// another's (see strong.go). A stream that holds a
// signature must have a seed, and a reader refuses one without; a diff
// carries the seed of its old index, whose signatures its updates carry; a
// delta stream holds no signatures and never has a seed, so that archives
// do not give it away. tool names the program that wrote the
// stream, root the directory it describes. exclude lists the patterns
// (.gitignore syntax, at most 65536, none empty) the tree was signed
// without, besides its .ibtignore files; dir_mode, dir_mtime, dir_u, dir_g
// and dir_x describe the top directory itself: its permission bits, mtime,
// owner and extended attributes. A writer sets the bit 0o40000 (the
// directory type bit of st_mode) in dir_mode, so that every field, a mode
// of 0 and an mtime of 0 included, is recorded even where it is zero and
// so omitted; a reader accepts a dir_mode without it from older writers,
// which recorded a non-zero mode and mtime only, and no owner or
// attributes. Diff and delta streams copy root, exclude and the top
// directory's fields from the new index, and time from the old one: the old
// entries' dv, in and ct are what the old index's walk saw, and ibt-patch
// takes an old entry's hash for a file that still has them only if its ct
// is well before that walk (the quick check of ibt-sign --prev).
//
// # Records
//
// An index holds entry records, a diff and a delta change records, sorted by
// path: each record's path (Entry.Path, Change.Path()) is bytewise greater
// than the previous one's, so every path appears once and two streams merge
// in one pass. Every path satisfies ValidPath. An entry's mode has no bits
// beyond 07777, its type is 0 (file), 1 (dir), 2 (symlink), 3 (fifo: a named
// pipe), 4 (chardev: a character device), 5 (blockdev: a block device) or 6
// (socket), and a reader refuses any other; only a file has a size, content
// hash (32 bytes), block size and signature, and only a file is a hard link
// (h); only a symlink, and every symlink, has a target; only a chardev or a
// blockdev has rd, its device number: the major number times 2^32 plus the
// minor (MakeRdev), whatever the system's dev_t layout, and absent for
// device 0,0. The special types (3 to 6) carry metadata only: mode, mtime,
// owner, extended attributes and, for a device, rd. A signature holds one entry of
// SigEntryLen(size, block size) bytes per block of the file: a 4-byte weak
// sum and a strong sum (the header's seed above) of StrongLen(size, block
// size) bytes, 5 to 16, which grows with the file so that a false block
// match stays below 2^-48 (see strong.go). A hard link's LinkTo names an earlier path.
//
// sk (Entry.Skipped) marks a file that ibt-sign --skip-changed could not
// read whole, because it changed while it was read, and had no previous
// entry for: its content is unknown. Such an entry is a file with no hash,
// block size, signature or h (its other fields are what the walk saw); a
// reader refuses one otherwise. In a new index, ibt-diff neither creates,
// updates nor deletes its path: the old index's entry there, if any, is
// carried over as if unchanged, and a full backup leaves the path out. In an
// old index, it stands for whatever the chain restored there before: a
// regular file of some older content, or nothing. So a skipped entry may be
// in a change only as the old entry of a delete (op 3) or a replace (op 5),
// or as both entries of a meta change (op 4), and a reader refuses it
// anywhere else. Such a change matches any regular file at its path,
// whatever its content, size or metadata, or no entry at all, as its old
// version (never a directory, symlink or other type): a delete removes it,
// a replace puts the new entry in its place (a replacing file has its whole
// content as data, no signature to delta against, or f), and a meta change
// of two skipped entries, which ibt-diff writes where both indexes have the
// path skipped, leaves whatever is there alone, out of the tree hash and of
// an applier's check of the tree.
// In a change holding both entries, where old has a hash and new is a file,
// new's H is left out when it equals old's: an absent H there stands for
// old's hash, and a reader refuses one written out. A metadata change of a
// file so carries its hash once, and such a new file always has a hash
// (a writer refuses one without). The change decodes as if H were present.
// A change's op is 1 (create: new only), 2 (update: old and new, both files),
// 3 (delete: old only), 4 (meta: old and new of the same type and device
// number) or 5 (replace: old and new); old and new have the same path.
//
// f (Change.From), only on a create or replace of a regular file that is not
// a hard link, names a file that already holds the new content, so the
// change has no data: a rename or a copy. Without fn it is a path of the old
// tree, whose old content the new file takes whatever the same stream does
// at that path (an applier keeps it until the new file is in place; an
// applier of this format before FromSize refused a stream that updates or
// replaces it); with fn it is a file created earlier in the stream (its
// path comes before the change's). Either way the content is New.Hash,
// which an applier checks.
//
// fs (Change.FromSize), an integer of at least 1, only with an f of the old
// tree (no fn), says the change has data after all: a delta against the
// source's content, which is fs bytes. ibt-merge so writes a file renamed
// or copied by one archive and updated by the next.
//
// In a delta stream a change that has data (Change.HasData: a created or
// replacing file that is not a hard link and has no f, or has an fs, or an
// update) is followed by data records producing exactly New.Size bytes:
// literals of 1 to MaxChunk bytes, and for an update or a change with an fs
// copies of 1 or more bytes from within the old file or the source
// (off >= 0, off+len <= Old.Size or fs). The data ends when New.Size bytes are
// produced; there is no end marker. No other stream holds data records.
//
// # Algorithms
//
// Everything below is exact: a program that follows it computes the same
// bytes as ibt. Integers are unsigned unless said otherwise; u32le(x) and
// u64le(x) are x in 4 and 8 bytes little-endian, u32be(x) and u64be(x)
// big-endian; ceil(a/b) rounds up; "bit length" of x > 0 is the position
// of its highest set bit counting from 1 (Go's bits.Len64); a byte is a
// value 0..255. Test vectors are in testdata/vectors (see vectors_test.go),
// and testdata/vectors/spec.py recomputes them from this text alone.
//
// Block size (BlockSize). The block size b of a file of size bytes is a
// function of size, and Entry.BlockSize records it for every file with a
// content hash:
//
//	if size < 262144:  b = 576
//	else:              b = 2048
//	                   while b < 4194304 and
//	                         (floor(size/16) >= 4*b*b or ceil(size/b) > 1048576):
//	                       b = 2*b
//
// so b is 576, or a power of two from 2 KiB to 4 MiB (MaxBlockSize): 2 KiB
// from 256 KiB, 4 KiB from 256 MiB, 8 KiB from 1 GiB, 128 KiB at 100 GiB.
// A file of n = ceil(size/b) blocks (BlockCount; 0 for an empty file) is
// cut into blocks of b bytes in order, the last one short when b does not
// divide size. Only a file of more than one block (size > b: Signed) gets
// a signature. The file hash depends on b, so a program that checks a file
// hash against content (ibt-patch) refuses an entry with a hash whose
// BlockSize is not this b (CheckBlockSize), rather than take the file for a
// damaged one; a Reader, which computes no hash, reads it as data.
//
// File hash ("sha256-blocks", Entry.Hash). With leaf_i = SHA-256(block_i),
//
//	Hash = SHA-256( u64le(size) || u32le(b) || leaf_0 || leaf_1 || ... || leaf_(n-1) )
//
// 32 bytes; an empty file hashes the 12 header bytes alone. The leaves are
// independent, so a writer may hash blocks in parallel, and the leaves are
// what the strong sums are keyed from.
//
// Weak sum ("rabinkarp32"). The weak sum of the bytes x_0 .. x_(m-1) is
//
//	h = 1; for each byte x in order: h = (h*M + x) mod 2^32,   M = 0x08104225
//
// that is M^m + x_0*M^(m-1) + ... + x_(m-1) mod 2^32 (the RabinKarp sum of
// librsync 2.2 and later). A window of m bytes moved one byte on, x_out
// leaving and x_in entering, rolls as
//
//	h' = (h*M + x_in - M^m*(x_out + M - 1)) mod 2^32
//
// Strong sum ("sha256-aes-sized"). With K = Header.Seed (16 bytes) and E_K
// AES-128 encryption of one 16-byte block under K, the strong sum of a
// block whose SHA-256 is leaf is
//
//	S = E_K( E_K(leaf[0:16]) XOR leaf[16:32] )
//
// the CBC-MAC of the 32-byte leaf (equally, the last 16 bytes of the
// AES-128-CBC encryption of leaf with a zero IV). A signature keeps its
// first k bytes, k = StrongLen(size, b):
//
//	if b = 0 or size = 0: p = 1
//	else:                 p = the bit length of size * ceil(size/b), a product of up to 128 bits
//	k = min(max(ceil((p + 32)/8), 4), 16)
//
// so that matching a file of P bytes against its n blocks passes a false
// match with a chance of at most 2^-48 (see strong.go): 6 bytes for 1.5
// KB, 8 for 100 KB, 9 for 4 MiB, 10 for 256 MiB, 12 for 100 GiB.
//
// Signature (Entry.Sig). For every block i in order, u32be(weak sum of
// block_i) followed by S_i[0:k]: n*(4+k) bytes (SigLen). Sig is optional
// (a diff's new entries and a delta's carry none); when present it is
// complete, and its b is Entry.BlockSize. A delta writer may match a new
// file of newSize bytes against it only while
// p' + 40 <= 16 + 8*k, p' the bit length of newSize * n (StrongCovers),
// and sends a bigger file whole; a reader need not know this.
//
// # Tree hash
//
// Trailer.TreeHash (32 bytes, when present) is the tree hash of an index's
// entries, or of the new index of a diff or delta. It is SHA-256 over the
// 17 bytes "ibt tree hash v1\x00" (the last one a zero byte) followed, for
// each entry in stream order (bytewise by path) but skipped entries (sk), by
//
//	u64(len(Path))   Path
//	u8(Type)
//	u32(Mode)
//	u64(MTime)       two's complement
//	u64(Size)
//	u64(len(Target)) Target
//	u64(len(Hash))   Hash
//	u64(len(LinkTo)) LinkTo
//	u64(Rdev)        for a chardev or blockdev (types 4 and 5) only
//
// with every integer big-endian, an absent field zero or empty (Target of
// a non-symlink, Hash of a non-file, LinkTo of a file that is not a hard
// link), and Hash the 32-byte file hash above. The device number is there for devices
// alone, so a tree without devices hashes as it did before special files
// were recorded. Owners, extended attributes, device, inode,
// ctime, block size and signature are left out: a tree restored by a user who
// cannot set owners, or signed with other block sizes, hashes the same. An
// index's tree hash so describes what a full backup of it restores; a diff
// against an old index hashes, in a skipped entry's place, the old entry that
// it carries over (nothing where the old index has none, or has it skipped
// too).
package format
