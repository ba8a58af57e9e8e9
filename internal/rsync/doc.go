// Package rsync is the rsync engine of ibt: a rolling weak checksum, per-block
// signatures, the whole-file hash, and delta encoding and patching against a
// signature. It does no I/O policy and defines no wire format; callers stream
// content through io.Reader and io.Writer and receive delta operations by callback.
//
// # File hash ("sha256-blocks")
//
// A file of size bytes is cut into blocks of format.BlockSize(size) bytes;
// the last block may be short and an empty file has no blocks. With
//
//	leaf_i = SHA-256(block_i)
//
// the file hash is
//
//	SHA-256( uint64-LE(size) || uint32-LE(blockSize) || leaf_0 || leaf_1 || ... )
//
// so signing reads and hashes every byte once: the strong sum of block i in a
// signature is keyed from leaf_i (below).
//
// # Weak sum ("rabinkarp32")
//
// The weak sum of a block b_0 .. b_{n-1} is the polynomial
//
//	M^n + b_0*M^(n-1) + b_1*M^(n-2) + ... + b_{n-1}   (mod 2^32), M = 0x08104225
//
// the RabinKarp sum of librsync 2.2 and later (seed 1). It rolls by one byte as
// h' = h*M + in - M^n*(out + M - 1).
//
// # Signature
//
// A signature is, for every block in order, the 4-byte big-endian weak sum
// followed by the first k = format.StrongLen(size, blockSize) bytes of the
// block's strong sum ("sha256-aes-sized")
//
//	S_i = E_K( E_K(leaf_i[0:16]) XOR leaf_i[16:32] )
//
// with E_K AES-128 under the index's secret seed K (see format.StrongKey). Files that
// Signed reports false for have none. Delta keys the SHA-256 of a candidate
// window the same way before comparing it, so it needs the seed of the
// index the signature comes from; two AES block encryptions cost about 40
// ns, against some 4 us for the SHA-256 of a 4 KiB block.
//
// # Strong sum length
//
// ibt cannot ask for a block again, so a false match, a window of the new
// file taken for an old block it differs from, makes a delta that fails at
// restore. k grows with the file, as rsync's does, so that matching a file
// of P bytes against its n blocks, P*n candidate pairs, passes a false one
// with probability at most 2^-48 even if the weak sum gave only 16 of its
// 32 bits: P*n*2^-(16+8k) <= 2^-48. A 1.5 KB file gets 6 bytes, 100 KB 8,
// 4 MiB 9, the 256 MiB db file 10, 100 GiB 12; 16 is the cap. A delta uses
// the signature only for a new file it Covers, one no more than about 2^8
// times bigger, with the bound loosened to 2^-40 (DeltaFile sends anything
// bigger whole). The bound is against chance; against someone who writes
// files in the tree the seed stands: unkeyed, a search of 2^(4k) blocks
// would find a collision and make the restore fail (ibt-patch checks every
// file hash and refuses the whole archive), but without the seed nobody can
// compute a strong sum to search with. Whoever can read the index can, so
// indexes are to be kept as private as the backups.
package rsync
