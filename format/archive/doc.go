// Package archive writes and reads the ibt archive: the self-contained tar
// stream that ibt-pack makes from a delta stream and ibt-patch applies. It
// streams both ways in bounded memory and treats every byte it reads as
// untrusted.
//
// # Layout
//
// An archive is a tar stream (POSIX ustar; a PAX size record only for a
// member of 8 GiB or more) compressed with a [Codec]: "gzip" (the default),
// "lz4" (one or more LZ4 frames), "zstd" (one or more Zstandard frames, of a
// window of 32 MiB at most) or "none" (the plain tar). A reader tells them
// apart by their first bytes: 1f 8b for gzip, 04 22 4d 18 for LZ4, 28 b5 2f
// fd for Zstandard, and "ustar" at offset 257 for tar. A reader takes POSIX
// ustar headers only (with a correct checksum), and a PAX extended header
// only right before a member, of which it applies the size and path
// records; it refuses GNU, v7 and star headers, GNU sparse records and PAX
// global headers, none of which a writer makes. Every member is a
// regular file of mode 0644, owner 0:0, modification time 0 (the Unix
// epoch), so that the same input gives the same archive. Members come in
// this order, and no others:
//
//	ibt/header            the archive Header, msgpack
//	ibt/changes/000001    a batch: msgpack array of 1..MaxBatch format.Change
//	created/<hex>         \ one data member for each change c of the batch
//	updated/<hex>         / with c.HasData(), in batch order
//	ibt/changes/000002    the next batch (the number has 6 digits or more,
//	...                   counting from 1, with no gap), its data members ...
//	ibt/trailer           the archive Trailer, msgpack
//
// <hex> is the lowercase hex SHA-256 of the change's path. A change of
// OpCreate or OpReplace whose new entry is a regular file (not a hard link)
// and that has no source (Change.From) has a created/ member holding its
// content, exactly New.Size bytes. A change of OpUpdate, or one with a
// source and a FromSize, has an updated/ member holding its delta in the op
// encoding below (against the source for the latter). A batch member is at most MaxBatchSize bytes; a writer closes a
// batch at MaxBatch records or once it holds about BatchSize bytes.
//
// The changes of all batches are in strictly increasing order of path
// (bytewise), each path once. Block signatures (Entry.Sig) are left out of
// both Old and New: applying an archive needs none. As in a format stream,
// New.Hash is left out where it repeats Old.Hash of a change to a file
// (format.ElideNewHash; a metadata change), and a reader restores it.
//
// The header is the map {kind: "archive", version: 2, tool, delta: the
// format.Header of the delta stream the archive was packed from (kind
// "delta"), codec}. The trailer is the map {changes: number of changes,
// members: number of members before ibt/trailer, ibt/header included,
// tree_hash: the delta stream's Trailer.TreeHash, checksum: xxh64 (seed 0) of
// the contents of ibt/header and of every ibt/changes member, concatenated in
// archive order, followed by tree_hash}. Both are decoded refusing unknown
// keys. The data members are not in the checksum: ibt-patch checks every
// file it writes against its recorded hash.
//
// After ibt/trailer only the tar end-of-archive blocks and zero padding may
// follow, then the end of the compressed stream.
//
// # Op encoding
//
// An updated/ member is a sequence of ops, nothing else:
//
//	'C' uvarint(offset) uvarint(length)   copy length bytes at offset of the old file
//	'L' uvarint(n) n bytes                 the next n bytes of the new file
//
// where uvarint is encoding/binary's unsigned varint ([binary.AppendUvarint]).
// Every length is at least 1; n is at most format.MaxChunk; a copy lies
// within the old file (offset+length <= Old.Size, or FromSize); and the ops produce
// exactly New.Size bytes, so the member ends with the op that completes the
// file.
//
// # Limits
//
// A reader allocates nothing by a size it has not bounded: the header and
// trailer members are at most 64 KiB, a batch member at most MaxBatchSize
// with at most MaxBatch changes, and a literal at most format.MaxChunk bytes.
// Data members are streamed. An archive that ends before ibt/trailer fails
// with ErrTruncated, and one that is not an archive at all with
// ErrNotArchive.
package archive
