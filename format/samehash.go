package format

import (
	"bytes"
	"errors"
)

// A change of metadata only (mode, mtime, owner) keeps a file's content, so
// its new entry's hash repeats the old one's: 32 incompressible bytes that
// made up half of a source tree's gzipped change list. In a change holding
// both entries, where old has a hash and new is a file, new's H is
// therefore left out when it equals old's, and an absent H there stands for
// old's hash. Such a new file always has a hash: one without is refused
// (checkChange). The decoded Change is the same as before the elision.

// elidesNewHash reports whether c's new entry is written without its hash.
func elidesNewHash(c *Change) bool {
	return c.Old != nil && c.New != nil && c.New.Type == TypeFile &&
		len(c.Old.Hash) > 0 && bytes.Equal(c.Old.Hash, c.New.Hash)
}

// wireChange returns c as its body encodes it: c itself, or a copy whose
// new entry has no hash where elidesNewHash.
func wireChange(c *Change) *Change {
	if !elidesNewHash(c) {
		return c
	}
	n := *c.New
	n.Hash = nil
	w := *c
	w.New = &n
	return &w
}

// errNewHashRepeated refuses a body that writes out what it should elide.
var errNewHashRepeated = errors.New("the new entry repeats the old entry's hash, which is written by leaving it out")

// restoreNewHash undoes wireChange on a decoded change: a new file without
// a hash takes the old entry's. A new hash equal to the old one was not
// written canonically.
func restoreNewHash(c *Change) error {
	if c.Old == nil || c.New == nil || c.New.Type != TypeFile || len(c.Old.Hash) == 0 {
		return nil
	}
	if len(c.New.Hash) == 0 {
		c.New.Hash = bytes.Clone(c.Old.Hash)
		return nil
	}
	if bytes.Equal(c.New.Hash, c.Old.Hash) {
		return errNewHashRepeated
	}
	return nil
}
