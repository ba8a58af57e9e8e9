package diff

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/ibt-tools/ibt/format"
)

// A created file whose content the old tree already holds is a rename or a
// copy: ibt-diff gives it a source (Change.From) so that the archive carries
// no content for it, and a renamed directory of many files costs a path
// each. The source is a file of the old tree that the diff deletes, changes
// only in metadata or leaves alone, and failing that a file created earlier
// in the diff. An old file that the diff updates or replaces is no source:
// ibt-patch may put its new version in place before the renamed file, and
// a run interrupted in between could then not finish.
//
// Whether an old file is a source is known only once the merge join has
// passed its path, which in a rename to an earlier name comes after the
// created file. So the join writes its changes to a spool file and every
// possible source to a second one, the created files' hash prefixes are
// kept, and at the end the sources are matched against those prefixes and
// the spool is copied out with each match filled in. Memory is 16 bytes per
// created file, whatever the size of the trees; the spool costs a second
// write and read of the changes, not of the unchanged entries.

// renamer finds the sources of created files (see above).
type renamer struct {
	spoolFile *format.TempFile
	spool     *format.Writer
	// the sources: [0] files of the old tree, [1] created files, in the
	// order of the spool's changes
	srcFile [2]*format.TempFile
	src     [2]*bufio.Writer
	cands   []uint64 // hash prefixes of the created files that may have a source
	rec     []byte
	matched int // created files given a source
	saved   int64
}

// minSourced is the smallest file worth a source: below it, the path in
// the change costs about what the content would.
const minSourced = 64

// newRenamer starts the spool of a diff whose output header is h.
func newRenamer(h format.Header) (*renamer, error) {
	r := &renamer{}
	var err error
	if r.spoolFile, err = tempFile("ibt-diff-spool-*"); err != nil {
		return nil, err
	}
	for i := range r.srcFile {
		if r.srcFile[i], err = tempFile("ibt-diff-sources-*"); err != nil {
			r.close()
			return nil, err
		}
		r.src[i] = bufio.NewWriterSize(r.srcFile[i], 256<<10)
	}
	if r.spool, err = format.NewWriter(r.spoolFile, h, format.WriterOptions{}); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// tempFile creates a format.TempFile, which leaves nothing behind however
// the process ends.
func tempFile(pattern string) (*format.TempFile, error) {
	f, err := format.CreateTempFile("", pattern)
	if err != nil {
		return nil, fmt.Errorf("failed to create a temporary file: %w", err)
	}
	return f, nil
}

// close removes the temporary files.
func (r *renamer) close() {
	for _, f := range []*format.TempFile{r.spoolFile, r.srcFile[0], r.srcFile[1]} {
		if f != nil {
			f.Close()
		}
	}
}

// sourced reports whether c creates a regular file that a source could
// provide.
func sourced(c *format.Change) bool {
	return (c.Op == format.OpCreate || c.Op == format.OpReplace) && c.New.Type == format.TypeFile &&
		c.New.LinkTo == "" && c.New.Size >= minSourced && len(c.New.Hash) == 32
}

// change spools c and notes what it says about sources.
func (r *renamer) change(c *format.Change) error {
	switch {
	case sourced(c):
		r.cands = append(r.cands, prefix(c.New.Hash))
		if err := r.source(c.New, true); err != nil {
			return err
		}
	case c.Op == format.OpDelete || c.Op == format.OpMeta:
		if err := r.unchanged(c.Old); err != nil {
			return err
		}
	}
	return r.spool.WriteChange(c)
}

// unchanged notes old, an entry of the old tree whose content stays in
// place until the new tree's files are.
func (r *renamer) unchanged(old *format.Entry) error {
	if old.Type != format.TypeFile || old.Size < minSourced || len(old.Hash) != 32 {
		return nil
	}
	return r.source(old, false)
}

// source appends a possible source to its sources file: the hash, the
// length of the path and the path.
func (r *renamer) source(e *format.Entry, created bool) error {
	b := append(r.rec[:0], e.Hash...)
	b = binary.AppendUvarint(b, uint64(len(e.Path)))
	b = append(b, e.Path...)
	r.rec = b
	if _, err := r.src[kindOf(created)].Write(b); err != nil {
		return fmt.Errorf("failed to write a temporary file: %w", err)
	}
	return nil
}

func kindOf(created bool) int {
	if created {
		return 1
	}
	return 0
}

func prefix(hash []byte) uint64 { return binary.BigEndian.Uint64(hash) }

// finish matches the sources and writes the spooled changes to w, with
// their sources filled in.
func (r *renamer) finish(w *format.Writer) error {
	if err := r.spool.Close(format.Trailer{}); err != nil {
		return fmt.Errorf("failed to write a temporary file: %w", err)
	}
	for _, w := range r.src {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("failed to write a temporary file: %w", err)
		}
	}
	slices.Sort(r.cands)
	r.cands = slices.Compact(r.cands)
	best, err := r.match()
	if err != nil {
		return err
	}
	if _, err := r.spoolFile.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("failed to read a temporary file: %w", err)
	}
	sr, err := format.NewReader(bufio.NewReaderSize(r.spoolFile, 256<<10))
	if err != nil {
		return fmt.Errorf("failed to read a temporary file: %w", err)
	}
	var own int64 // offset of the next created file's own record
	for {
		rec, err := sr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to read a temporary file: %w", err)
		}
		c, ok := rec.(*format.Change)
		if !ok {
			return fmt.Errorf("failed to read a temporary file: unexpected %T record", rec)
		}
		if sourced(c) {
			if err := r.fill(c, best, own); err != nil {
				return err
			}
			own += recordLen(c.New)
		}
		if err := w.WriteChange(c); err != nil {
			return fmt.Errorf("failed to write diff: %w", err)
		}
	}
}

// match reads the sources files and returns, for each created file's hash
// prefix in r.cands, where its best source is: 0 for none, else the
// source's offset in its file plus one, shifted left once, with the low bit
// set for a file of the old tree. A file of the old tree is best, then the
// first created file.
func (r *renamer) match() ([]int64, error) {
	best := make([]int64, len(r.cands))
	if len(r.cands) == 0 {
		return best, nil
	}
	for kind, f := range r.srcFile {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("failed to read a temporary file: %w", err)
		}
		br := bufio.NewReaderSize(f, 256<<10)
		var off int64
		var hash [32]byte
		for {
			if _, err := io.ReadFull(br, hash[:]); err == io.EOF {
				break
			} else if err != nil {
				return nil, fmt.Errorf("failed to read a temporary file: %w", err)
			}
			n, err := binary.ReadUvarint(br)
			if err == nil {
				_, err = br.Discard(int(n))
			}
			if err != nil {
				return nil, fmt.Errorf("failed to read a temporary file: %w", err)
			}
			if i, ok := slices.BinarySearch(r.cands, prefix(hash[:])); ok && best[i] == 0 {
				best[i] = (off+1)<<1 | int64(1-kind)
			}
			off += 32 + int64(uvarintLen(n)) + int64(n)
		}
	}
	return best, nil
}

func uvarintLen(n uint64) int { return len(binary.AppendUvarint(nil, n)) }

// fill gives c its source, if the best match of its hash prefix holds the
// same content and, if created, comes before it. own is the offset of c's
// own record in the sources file: a best match there means none before it.
func (r *renamer) fill(c *format.Change, best []int64, own int64) error {
	i, ok := slices.BinarySearch(r.cands, prefix(c.New.Hash))
	if !ok || best[i] == 0 {
		return nil
	}
	off, old := best[i]>>1-1, best[i]&1 == 1
	if !old && off >= own {
		return nil // c's own record: no created file before it has the prefix
	}
	f := r.srcFile[kindOf(!old)]
	rec := r.rec[:cap(r.rec)]
	if len(rec) < 512 {
		rec = make([]byte, 512)
		r.rec = rec
	}
	n, err := f.ReadAt(rec, off)
	if n < 33 && err != nil {
		return fmt.Errorf("failed to read a temporary file: %w", err)
	}
	rec = rec[:n]
	size, k := binary.Uvarint(rec[32:])
	if k <= 0 {
		return errors.New("failed to read a temporary file: bad record")
	}
	if !bytes.Equal(rec[:32], c.New.Hash) {
		return nil // another content with the same prefix
	}
	path := make([]byte, size)
	if m := copy(path, rec[32+k:]); uint64(m) < size {
		if _, err := f.ReadAt(path[m:], off+32+int64(k)+int64(m)); err != nil {
			return fmt.Errorf("failed to read a temporary file: %w", err)
		}
	}
	c.From, c.FromNew = string(path), !old
	r.matched++
	r.saved += c.New.Size
	return nil
}

// recordLen is the length of e's record in the sources file.
func recordLen(e *format.Entry) int64 {
	return 32 + int64(uvarintLen(uint64(len(e.Path)))) + int64(len(e.Path))
}

// maxDupes bounds the contents a dupFinder remembers: some 8 MiB.
const maxDupes = 1 << 16

// dupFinder gives a created file whose content an earlier created file has
// that file as its source, as the changes flow out. It serves a full
// backup: with no old tree every source comes earlier in the stream, so
// nothing need wait for the join's end, and ibt-delta starts on the first
// change while ibt-sign is still walking. It remembers the first maxDupes
// contents it sees; a duplicate of a later one is stored whole.
type dupFinder struct {
	seen    map[[32]byte]string
	emit    func(*format.Change) error
	matched int
	saved   int64
}

func newDupFinder(emit func(*format.Change) error) *dupFinder {
	return &dupFinder{seen: map[[32]byte]string{}, emit: emit}
}

func (d *dupFinder) change(c *format.Change) error {
	if sourced(c) {
		k := [32]byte(c.New.Hash)
		if p, ok := d.seen[k]; ok {
			c.From, c.FromNew = p, true
			d.matched++
			d.saved += c.New.Size
		} else if len(d.seen) < maxDupes {
			d.seen[k] = c.New.Path
		}
	}
	return d.emit(c)
}
