package format

import (
	"errors"
	"fmt"
	"strings"
)

// The checks in this file hold for every record a Writer writes and a Reader
// returns: a Writer refuses what a Reader would refuse, so no tool can write a
// stream that others cannot read.

// maxExclude bounds Header.Exclude.
const maxExclude = 1 << 16

// checkHeader checks h against what this package implements.
func checkHeader(h *Header) error {
	switch h.Kind {
	case KindIndex, KindDiff, KindDelta:
	default:
		return fmt.Errorf("unknown stream kind %q (want index, diff or delta)", h.Kind)
	}
	if h.Version != Version {
		return fmt.Errorf("format version %d, but this program reads and writes version %d: use an ibt release of the same format version", h.Version, Version)
	}
	if h.Hash != HashAlgorithm {
		return fmt.Errorf("file hash algorithm %q, but this program implements %q", h.Hash, HashAlgorithm)
	}
	if h.Weak != WeakAlgorithm {
		return fmt.Errorf("weak checksum %q, but this program implements %q", h.Weak, WeakAlgorithm)
	}
	if h.Strong != StrongAlgorithm {
		return fmt.Errorf("strong checksum %q, but this program implements %q", h.Strong, StrongAlgorithm)
	}
	switch {
	case len(h.Seed) != 0 && len(h.Seed) != SeedLen:
		return fmt.Errorf("signature seed of %d bytes, want %d", len(h.Seed), SeedLen)
	case len(h.Seed) != 0 && h.Kind == KindDelta:
		// a delta holds no signatures, and an archive keeps its header
		return errors.New("a signature seed in a delta stream, which holds no signatures")
	}
	if len(h.Exclude) > maxExclude {
		return fmt.Errorf("%d exclusion patterns, more than %d", len(h.Exclude), maxExclude)
	}
	for _, p := range h.Exclude {
		if p == "" || strings.IndexByte(p, 0) >= 0 {
			return fmt.Errorf("exclusion pattern %q is empty or holds a NUL byte", p)
		}
	}
	if h.Xattrs != "" && h.Xattrs != "user" && h.Xattrs != "all" {
		return fmt.Errorf("extended attributes %q, want \"user\" or \"all\"", h.Xattrs)
	}
	if h.DirMode&^(0o7777|DirRecorded) != 0 {
		return fmt.Errorf("top directory mode %#o has bits beyond 07777 and the directory bit %#o", h.DirMode, DirRecorded)
	}
	if h.DirMode&DirRecorded == 0 && (h.DirUID != 0 || h.DirGID != 0 || len(h.DirXattrs) > 0) {
		return errors.New("a top directory's owner or extended attributes without its mode recorded whole")
	}
	top, _ := h.TopDir()
	top.Path = "."
	if err := checkXattrs(&top); err != nil {
		return fmt.Errorf("top directory: %w", err)
	}
	return nil
}

// checkEntry checks that e is a well-formed entry.
func checkEntry(e *Entry) error {
	if err := ValidPath(e.Path); err != nil {
		return fmt.Errorf("path %q: %w", e.Path, err)
	}
	isFile := e.Type == TypeFile
	switch {
	case e.Type > MaxType:
		return fmt.Errorf("entry %q: unknown type %d", e.Path, e.Type)
	case e.Mode&^0o7777 != 0:
		return fmt.Errorf("entry %q: mode %#o has bits beyond 07777", e.Path, e.Mode)
	case e.Size < 0:
		return fmt.Errorf("entry %q: negative size %d", e.Path, e.Size)
	case !isFile && (e.Size != 0 || len(e.Hash) > 0 || len(e.Sig) > 0 || e.BlockSize != 0):
		return fmt.Errorf("entry %q: a %s has no size, hash, block size or signature", e.Path, e.Type)
	case (e.Type == TypeSymlink) != (e.Target != ""):
		return fmt.Errorf("entry %q: a %s with a symlink target %q", e.Path, e.Type, e.Target)
	case e.Rdev != 0 && !e.Type.IsDevice():
		return fmt.Errorf("entry %q: a %s with a device number", e.Path, e.Type)
	case e.LinkTo != "" && !isFile:
		return fmt.Errorf("entry %q: a %s recorded as a hard link: only files are", e.Path, e.Type)
	case strings.IndexByte(e.Target, 0) >= 0:
		return fmt.Errorf("entry %q: symlink target holds a NUL byte", e.Path)
	case len(e.Hash) != 0 && len(e.Hash) != 32:
		return fmt.Errorf("entry %q: content hash of %d bytes, want 32", e.Path, len(e.Hash))
	case e.Skipped && (!isFile || len(e.Hash) > 0 || len(e.Sig) > 0 || e.BlockSize != 0 || e.LinkTo != ""):
		return fmt.Errorf("entry %q: a skipped entry (content unknown) is a file with no hash, block size, signature or hard link", e.Path)
	}
	if len(e.Sig) > 0 {
		if err := checkSig(e); err != nil {
			return fmt.Errorf("entry %q: %w", e.Path, err)
		}
	}
	if e.LinkTo != "" {
		if err := ValidPath(e.LinkTo); err != nil {
			return fmt.Errorf("entry %q: hard link to %q: %w", e.Path, e.LinkTo, err)
		}
		if e.LinkTo >= e.Path {
			return fmt.Errorf("entry %q: hard link to %q, which does not come before it", e.Path, e.LinkTo)
		}
	}
	return checkXattrs(e)
}

// checkXattrs checks the extended attributes of e: a bounded number, each
// with a name.
func checkXattrs(e *Entry) error {
	if len(e.Xattrs) > maxXattrs {
		return fmt.Errorf("entry %q: %d extended attributes, more than %d", e.Path, len(e.Xattrs), maxXattrs)
	}
	for _, x := range e.Xattrs {
		if x.Name == "" || strings.IndexByte(x.Name, 0) >= 0 {
			return fmt.Errorf("entry %q: extended attribute name %q is empty or holds a NUL byte", e.Path, x.Name)
		}
	}
	return nil
}

// checkSig checks that a non-empty signature has one entry per block, each
// with a strong sum of StrongLen bytes.
func checkSig(e *Entry) error {
	if e.BlockSize == 0 {
		return errors.New("signature without a block size")
	}
	entryLen := SigEntryLen(e.Size, int(e.BlockSize))
	if len(e.Sig)%entryLen != 0 {
		return fmt.Errorf("signature of %d bytes, not a multiple of %d (strong sums of %d bytes for %d bytes in blocks of %d)",
			len(e.Sig), entryLen, entryLen-4, e.Size, e.BlockSize)
	}
	blocks := (e.Size + int64(e.BlockSize) - 1) / int64(e.BlockSize)
	if int64(len(e.Sig)/entryLen) != blocks {
		return fmt.Errorf("signature of %d blocks, but %d bytes in blocks of %d make %d",
			len(e.Sig)/entryLen, e.Size, e.BlockSize, blocks)
	}
	return nil
}

// CheckChange checks that c is a well-formed change: its Op agrees with the
// entries it carries, and each is a well-formed entry. Stream readers and
// writers and the archive's alike refuse a change that fails it.
func CheckChange(c *Change) error {
	if c.Op < OpCreate || c.Op > OpReplace {
		return fmt.Errorf("change %q: unknown op %d", c.Path(), c.Op)
	}
	wantOld, wantNew := c.Op != OpCreate, c.Op != OpDelete
	if (c.Old != nil) != wantOld || (c.New != nil) != wantNew {
		return fmt.Errorf("change %q: %s with old entry %t and new entry %t: %s",
			c.Path(), c.Op, c.Old != nil, c.New != nil, opWants(c.Op))
	}
	for _, e := range []*Entry{c.Old, c.New} {
		if e == nil {
			continue
		}
		if err := checkEntry(e); err != nil {
			return fmt.Errorf("%s change: %w", c.Op, err)
		}
		if e.Skipped && !skippedAllowed(c, e == c.Old) {
			// ibt-diff resolves them, but for an old index's skipped
			// entry, whose path it must clear or overwrite or leave
			return fmt.Errorf("change %q: a skipped entry (content unknown) as the %s entry of a %s change; only a delete's or replace's old entry, or both entries of a meta change, may be one", c.Path(), oldOrNew(e == c.Old), c.Op)
		}
	}
	if err := CheckFrom(c); err != nil {
		return err
	}
	if c.Old == nil || c.New == nil {
		return nil
	}
	switch {
	case c.New.Type == TypeFile && len(c.Old.Hash) > 0 && len(c.New.Hash) == 0:
		// a body cannot tell it from a new hash equal to the old (samehash.go)
		return fmt.Errorf("change %q: a new file without a content hash, where the old entry has one", c.New.Path)
	case c.Old.Path != c.New.Path:
		return fmt.Errorf("change %q: old entry at another path %q", c.New.Path, c.Old.Path)
	case c.Op == OpUpdate && (c.Old.Type != TypeFile || c.New.Type != TypeFile || c.New.LinkTo != ""):
		return fmt.Errorf("change %q: update of a %s into a %s: only a file's content is updated", c.New.Path, c.Old.Type, c.New.Type)
	case c.Op == OpMeta && c.Old.Type != c.New.Type:
		return fmt.Errorf("change %q: metadata change of a %s into a %s", c.New.Path, c.Old.Type, c.New.Type)
	case c.Op == OpMeta && c.Old.Rdev != c.New.Rdev:
		return fmt.Errorf("change %q: metadata change of a device's number: a new device replaces it", c.New.Path)
	}
	return nil
}

// opWants says which entries a change of op carries.
func opWants(op Op) string {
	switch op {
	case OpCreate:
		return "wants a new entry and no old one"
	case OpDelete:
		return "wants an old entry and no new one"
	case OpUpdate:
		return "wants an old and a new file"
	}
	return "wants an old and a new entry"
}

func oldOrNew(isOld bool) string {
	if isOld {
		return "old"
	}
	return "new"
}

// CheckFrom checks the source of a change's content (Change.From): only a
// created regular file may have one, it must be a valid path, and one
// created in the same stream must come before the change.
func CheckFrom(c *Change) error {
	if c.From == "" {
		if c.FromNew || c.FromSize != 0 {
			return fmt.Errorf("change %q: a source in the new tree or a source size but no source path", c.Path())
		}
		return nil
	}
	switch {
	case c.Op != OpCreate && c.Op != OpReplace, c.New == nil, c.New.Type != TypeFile, c.New.LinkTo != "":
		return fmt.Errorf("change %q: a source path %q on a change other than a created regular file", c.Path(), c.From)
	case ValidPath(c.From) != nil:
		return fmt.Errorf("change %q: source path %q: %w", c.Path(), c.From, ValidPath(c.From))
	case c.FromNew && c.From >= c.New.Path:
		return fmt.Errorf("change %q: content from %q, which is not created before it", c.Path(), c.From)
	case c.FromSize < 0 || c.FromSize > 0 && c.FromNew:
		return fmt.Errorf("change %q: a delta against %q of %d bytes: only a source of the old tree, of at least 1 byte, has one", c.Path(), c.From, c.FromSize)
	}
	return nil
}

// checkTrailer checks the fields of t that its writer chose.
func checkTrailer(t *Trailer) error {
	if len(t.TreeHash) != 0 && len(t.TreeHash) != 32 {
		return fmt.Errorf("tree hash of %d bytes, want 32", len(t.TreeHash))
	}
	return nil
}

// skippedAllowed reports whether c may hold a skipped entry as its old
// entry (old) or its new one: as the old entry of a delete or a replace, or
// as both entries of a meta change (a path both indexes skipped, left
// alone).
func skippedAllowed(c *Change, old bool) bool {
	switch c.Op {
	case OpDelete, OpReplace:
		return old
	case OpMeta:
		return c.Old.Skipped && c.New.Skipped
	}
	return false
}
