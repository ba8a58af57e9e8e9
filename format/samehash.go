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
// (CheckChange). The decoded Change is the same as before the elision.
// Other encodings of a Change, such as the batches of an ibt archive, do
// the same with ElideNewHash and RestoreNewHash.

// elidesNewHash reports whether c's new entry is written without its hash.
func elidesNewHash(c *Change) bool {
	return c.Old != nil && c.New != nil && c.New.Type == TypeFile &&
		len(c.Old.Hash) > 0 && bytes.Equal(c.Old.Hash, c.New.Hash)
}

// ElideNewHash returns c as a body encodes it: c itself, or a copy (sharing
// all but the new entry) whose new entry has no hash where it repeats the
// old entry's.
func ElideNewHash(c *Change) *Change {
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

// RestoreNewHash undoes ElideNewHash on a decoded change: a new file
// without a hash next to an old entry with one takes the old entry's.
func RestoreNewHash(c *Change) {
	if c.Old != nil && c.New != nil && c.New.Type == TypeFile && len(c.Old.Hash) > 0 && len(c.New.Hash) == 0 {
		c.New.Hash = bytes.Clone(c.Old.Hash)
	}
}

// restoreCanonical is RestoreNewHash for a body held to the canonical
// form: a new hash written out equal to the old one is refused.
func restoreCanonical(c *Change) error {
	if elidesNewHash(c) {
		return errNewHashRepeated
	}
	RestoreNewHash(c)
	return nil
}
