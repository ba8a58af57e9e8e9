// Package chaintest holds a model-based test of whole backup chains, and
// nothing else: its code is all in _test.go files, built on Linux only (it
// makes and lists extended attributes, ACLs and device nodes as Linux has
// them).
//
// TestChain grows a random tree (seeded math/rand) with files of shared
// blocks, sparse files, directories, symlinks, hard links, odd names, modes,
// owners, extended attributes and ACLs, then applies random sequences of
// named change kinds to it. After every step it runs the tools as a user
// would (ibt-sign, sometimes --prev; ibt-diff; ibt-delta; ibt-pack with a
// random codec), patches a restored tree with the archive, applies the same
// archive again, and compares the restored tree with the source by a listing
// of its own (lstat, content hashes, symlink targets, extended attributes,
// hard-link groups), not by anything ibt computes. Every few steps the whole
// chain is restored from scratch, and at the end `rsync -aHAXc -n -i
// --delete` must find nothing to do.
//
// Short runs with fixed seeds are part of `go test ./...`. Long runs:
//
//	go test ./internal/chaintest -run Chain -long            # many seeds
//	go test ./internal/chaintest -run Chain -seed 7 -steps 500
//	go test ./internal/chaintest -run Chain -seed 7 -kinds=+chown   # re-enable a kind
//
// A failure names the seed, the step, the changes applied and the first
// difference, so that `-seed S -steps N` replays it.
//
// TestMerge and FuzzMerge check ibt-merge on such chains: a merge of any
// run of consecutive archives, applied where the run starts, must give the
// tree the run gives, and ibt-patch --only of a merged full one directory
// of it:
//
//	go test ./internal/chaintest -run '^$' -fuzz FuzzMerge
package chaintest
