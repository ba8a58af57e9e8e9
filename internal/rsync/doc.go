// Package rsync is the rsync engine of ibt: a rolling weak checksum, per-block
// signatures, the whole-file hash, and delta encoding and patching against a
// signature. It does no I/O policy and defines no wire format; callers stream
// content through io.Reader and io.Writer and receive delta operations by callback.
//
// The algorithms it computes, the file hash ("sha256-blocks"), the weak sum
// ("rabinkarp32"), the keyed strong sum ("sha256-aes-sized"), the block size
// and the signature layout, are specified in package format's doc.go, with
// the rules (format.BlockSize, format.StrongLen, format.StrongKey) that a
// compatible implementation needs; this package is the fast implementation
// of them. Signing reads and hashes every byte once: a block's SHA-256 is
// both the leaf of the file hash and what its strong sum is keyed from.
// Delta keys the SHA-256 of a candidate window the same way before comparing
// it, so it needs the seed of the index the signature comes from; the two
// AES block encryptions cost a hundredth of the SHA-256 of a 4 KiB block
// (BENCHMARKS.md, "Measurements behind design choices").
package rsync
