// Package rsync is the rsync engine of ibt: a rolling weak checksum, per-block
// signatures, the whole-file hash, and delta encoding and patching against a
// signature. It does no I/O policy and defines no wire format; callers stream
// content through io.Reader and io.Writer and receive delta operations by callback.
//
// # File hash ("sha256-blocks")
//
// A file of size bytes is cut into blocks of BlockSize(size) bytes; the last
// block may be short and an empty file has no blocks. With
//
//	leaf_i = SHA-256(block_i)
//
// the file hash is
//
//	SHA-256( uint64-LE(size) || uint32-LE(blockSize) || leaf_0 || leaf_1 || ... )
//
// so signing reads and hashes every byte once: the strong sum of block i in a
// signature is leaf_i[:StrongLen].
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
// followed by the first StrongLen bytes of the block's SHA-256. Files that
// Signed reports false for have none.
package rsync
