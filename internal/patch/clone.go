package patch

import (
	"bytes"
	"errors"
	"io"
	"os"

	"github.com/ibt-tools/ibt/format"
)

// A large file changed in place (a database, a disk image, a mailbox) is
// patched, where DIR's filesystem can share extents (XFS with reflink,
// btrfs), by cloning its old version into the staged file and writing only
// what differs: a copy from the same offset is there already, a copy from
// elsewhere is made by the kernel (copy_file_range, which shares the
// extents it can), and only literals are written. The staged file is then
// read once, to hash and verify it, and renamed over the old version as
// in every other case, so the crash and refusal guarantees are those of
// the one-pass path; the time beyond that one hashing read grows with the
// change, not with the file. Where the filesystem cannot clone, the first
// attempt tells, and the run writes every update in one pass.

// cloneMin is the smallest base worth a clone: below it, the one-pass path
// writes the file in about the time the clone and the read-back take.
var cloneMin int64 = 1 << 20

// cloneable reports whether the update c is staged by cloning its base.
// Tests that inject write faults take the one-pass path, which they
// exercise.
func (a *applier) cloneable(c *format.Change) bool {
	return !a.noClone && faults.write == nil && c.Old.Size >= cloneMin
}

// tryClone makes f, the empty staged file of the update c, a clone of
// base where that can be done, and reports whether it did. A filesystem
// that cannot clone is not asked again in this run.
func (a *applier) tryClone(f, base *os.File, c *format.Change) (bool, error) {
	if f == nil || !a.cloneable(c) {
		return false, nil
	}
	if err := cloneFile(f, base); err != nil {
		if cloneUnsupported(err) {
			a.noClone = true
		}
		if err := f.Truncate(0); err != nil {
			return false, &writeError{err}
		}
		return false, nil
	}
	return true, nil
}

// stageClone builds the new version of the update of s in f, a clone of
// base (see tryClone), and returns its length and file hash. The leaves go
// to bl, if not nil, to hash the base with.
func (a *applier) stageClone(src *source, s *step, f, base *os.File, baseSize int64, bl *baseLeaves) (int64, []byte, error) {
	c := s.c
	p := c.Path()
	// A base that is the old version, read or vouched for, and whose
	// leaves are cached: the staged file's hash takes them for the blocks
	// the patch leaves alone (see leavescache.go).
	var cached *cachedLeaves
	var merge *baseLeaves
	if bl == nil && s.state == stOld && (!s.unverified || s.baseKnown) {
		if cached = a.disk.leaves.open(c.Old.Hash, baseSize, format.BlockSize(baseSize)); cached != nil {
			if merge = newBaseLeaves(f, c.New.Size, baseSize); merge == nil {
				cached.close()
				cached = nil
			}
		}
		defer cached.close()
	}
	spans := bl
	if merge != nil {
		spans = merge
		defer merge.close()
	}
	w := &cloneWriter{f: f, base: base}
	n, err := applyOps(src, p, base, baseSize, w, c.New.Size, spans)
	if err != nil {
		return 0, nil, err
	}
	// to the length written: shorter than the base, or longer by a hole
	if err := f.Truncate(n); err != nil {
		return 0, nil, &writeError{err}
	}
	tee := a.disk.leaves.create(n)
	defer tee.drop()
	var sum []byte
	if merge != nil && n == c.New.Size {
		merge.tee = tee
		bs := merge.bs
		for i := int64(0); i*bs < min(n, baseSize); i++ {
			leaf := cached.at(i)
			if leaf == nil {
				break // the rest is read
			}
			merge.newLeaves(i*bs, leaf)
		}
		sum, err = merge.sum()
	} else {
		sum, err = hashReaderAt(f, n, bl, tee)
	}
	if err != nil {
		return 0, nil, ioErr(p, "read its staged new version", err)
	}
	tee.keep(sum)
	if cached != nil && bytes.Equal(sum, c.New.Hash) {
		a.disk.leaves.remove(c.Old.Hash) // that version is being replaced
	}
	return n, sum, nil
}

// cloneWriter writes a new version over the clone of its base, in order
// from offset 0, as an rsync.RangeCopier.
type cloneWriter struct {
	f, base *os.File
	off     int64 // where the next byte goes
	buf     []byte
}

// Write writes p at the end of what was written, as holes for its aligned
// blocks of zeros (as the one-pass path leaves them), punched into the
// clone's data where it has some.
func (w *cloneWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), sparseBlock-int(w.off%sparseBlock))
		zero := k == sparseBlock && isZero(p[:k])
		for k < len(p) {
			m := min(len(p)-k, sparseBlock)
			if (m == sparseBlock && isZero(p[k:k+m])) != zero {
				break
			}
			k += m
		}
		var err error
		if zero {
			err = punchHole(w.f, w.off, int64(k))
		}
		if !zero || err != nil && cloneUnsupported(err) {
			_, err = w.f.WriteAt(p[:k], w.off)
		}
		if err != nil {
			return n - len(p), &writeError{err}
		}
		w.off += int64(k)
		p = p[k:]
	}
	return n, nil
}

// CopyRange appends length bytes of the base from off. Bytes from the same
// offset are in the clone already: writes so far touched only what lies
// before w.off.
func (w *cloneWriter) CopyRange(off, length int64) error {
	if off == w.off {
		w.off += length
		return nil
	}
	k, _ := copyRange(w.f, w.base, off, w.off, length)
	w.off += k
	off += k
	length -= k
	// What the kernel did not copy (it may not copy between these files,
	// or failed) is read and written here, so that an error names which.
	if length > 0 && w.buf == nil {
		w.buf = make([]byte, min(length, 1<<20))
	}
	for length > 0 {
		b := w.buf[:min(int64(len(w.buf)), length)]
		if n, err := w.base.ReadAt(b, off); n < len(b) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		off += int64(len(b))
		length -= int64(len(b))
	}
	return nil
}
