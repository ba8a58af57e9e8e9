package cli

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
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
	spoolFile *os.File
	spool     *format.Writer
	srcFile   *os.File
	src       *bufio.Writer
	cands     []uint64 // hash prefixes of the created files that may have a source
	rec       []byte
	matched   int // created files given a source
	saved     int64
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
	if r.srcFile, err = tempFile("ibt-diff-sources-*"); err != nil {
		r.close()
		return nil, err
	}
	r.src = bufio.NewWriterSize(r.srcFile, 256<<10)
	if r.spool, err = format.NewWriter(bufio.NewWriterSize(r.spoolFile, 256<<10), h, format.WriterOptions{}); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// tempFile creates a temporary file and, where the system allows it (not
// on Windows), removes its name at once, so that a kill leaves nothing.
func tempFile(pattern string) (*os.File, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return nil, fmt.Errorf("failed to create a temporary file: %w", err)
	}
	os.Remove(f.Name())
	return f, nil
}

// close removes the temporary files.
func (r *renamer) close() {
	for _, f := range []*os.File{r.spoolFile, r.srcFile} {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
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

// source appends a possible source to the sources file: the hash, whether
// it is a created file, and the path.
func (r *renamer) source(e *format.Entry, created bool) error {
	b := append(r.rec[:0], e.Hash...)
	b = append(b, boolByte(created))
	b = binary.AppendUvarint(b, uint64(len(e.Path)))
	b = append(b, e.Path...)
	r.rec = b
	if _, err := r.src.Write(b); err != nil {
		return fmt.Errorf("failed to write a temporary file: %w", err)
	}
	return nil
}

func boolByte(b bool) byte {
	if b {
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
	if err := r.src.Flush(); err != nil {
		return fmt.Errorf("failed to write a temporary file: %w", err)
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
			if err := r.fill(c, best); err != nil {
				return err
			}
		}
		if err := w.WriteChange(c); err != nil {
			return fmt.Errorf("failed to write diff: %w", err)
		}
	}
}

// match reads the sources file and returns, for each created file's hash
// prefix in r.cands, the offset of its best source plus one, shifted left
// once, with the low bit set for a file of the old tree; 0 if none. A file
// of the old tree is best, then the first created file.
func (r *renamer) match() ([]int64, error) {
	best := make([]int64, len(r.cands))
	if len(r.cands) == 0 {
		return best, nil
	}
	if _, err := r.srcFile.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("failed to read a temporary file: %w", err)
	}
	br := bufio.NewReaderSize(r.srcFile, 256<<10)
	var off int64
	var hash [32]byte
	for {
		if _, err := io.ReadFull(br, hash[:]); err == io.EOF {
			return best, nil
		} else if err != nil {
			return nil, fmt.Errorf("failed to read a temporary file: %w", err)
		}
		kind, err := br.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("failed to read a temporary file: %w", err)
		}
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, fmt.Errorf("failed to read a temporary file: %w", err)
		}
		if _, err := br.Discard(int(n)); err != nil {
			return nil, fmt.Errorf("failed to read a temporary file: %w", err)
		}
		if i, ok := slices.BinarySearch(r.cands, prefix(hash[:])); ok {
			old := kind == 0
			if best[i] == 0 || old && best[i]&1 == 0 {
				best[i] = (off+1)<<1 | int64(boolByte(old))
			}
		}
		off += 32 + 1 + int64(uvarintLen(n)) + int64(n)
	}
}

func uvarintLen(n uint64) int { return len(binary.AppendUvarint(nil, n)) }

// fill gives c its source, if the best match of its hash prefix holds the
// same content and, if created, comes before it.
func (r *renamer) fill(c *format.Change, best []int64) error {
	i, ok := slices.BinarySearch(r.cands, prefix(c.New.Hash))
	if !ok || best[i] == 0 {
		return nil
	}
	off, old := best[i]>>1-1, best[i]&1 == 1
	var head [32 + 1 + binary.MaxVarintLen64]byte
	n, err := r.srcFile.ReadAt(head[:], off)
	if n < 34 {
		return fmt.Errorf("failed to read a temporary file: %w", err)
	}
	size, k := binary.Uvarint(head[33:n])
	if k <= 0 {
		return errors.New("failed to read a temporary file: bad record")
	}
	path := make([]byte, size)
	if _, err := r.srcFile.ReadAt(path, off+33+int64(k)); err != nil {
		return fmt.Errorf("failed to read a temporary file: %w", err)
	}
	if !bytes.Equal(head[:32], c.New.Hash) || !old && string(path) >= c.New.Path {
		return nil
	}
	c.From, c.FromNew = string(path), !old
	r.matched++
	r.saved += c.New.Size
	return nil
}
