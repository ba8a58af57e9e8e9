package patch

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
	"github.com/ibt-tools/ibt/internal/tree"
)

// One subtree back: with Options.Only a run restores, from a full backup
// (or ibt-merge of a full and the incrementals since: its header, too, has
// no old index time), just the entries the patterns select and their
// parent directories, into an empty or missing DIR (or one the same
// selection of the same tree restored: the run finds it applied). An
// incremental, or a DIR holding anything else, is refused before DIR
// changes: what it would leave is no version of the tree.
//
// Such a tree is no tree the archive records a hash of, so what is
// verified is this instead:
//   - before anything in DIR changes, the tree hash of all the archive's
//     entries, selected or not, must be the one its trailer records: the
//     entries restored are the backed-up tree's;
//   - every restored file's content is checked against its entry's hash
//     before the commit, as in every run;
//   - after the commit DIR must hold exactly the selected entries and their
//     parents, each with its entry's type, mode, mtime, size, content hash,
//     symlink target, device number and hard links (and owner, as root):
//     the archive's tree cut down to them.
//
// The staging, the journal, the commit and the resume of an interrupted
// run are every run's; the journal names the patterns with the archive, so
// that only the same selection finishes an interrupted one.
//
// The archive is a stream read once, and two things come later than they
// are needed:
//   - a parent: a directory comes before what lies beneath it. So every
//     directory outside the selection is logged as a dropped step, and kept
//     in place (stepLog.keep) when a selected entry beneath it comes; the
//     passes skip dropped steps. Only the directories on the current path
//     can still be kept, so only their frames remember where they are.
//   - content that a selected file shares with an earlier file outside the
//     selection: a hard link to it, or a copy of it (Change.From with
//     FromNew, which full backups use for duplicates). The first selected
//     file of such a hard-link group becomes a file of its own, the group's
//     later selected ones links to it; it and such a copy wait for their
//     content, which readAgain takes, by content hash, from a second
//     reading of the archive once the first is done, before the commit.
//     That reading is of Options.Reread, or else of the copy of the archive
//     kept as it was read (copyName), whatever is found to wait. The paths
//     waiting, and the first path of each hard-link group the selection
//     cuts, are held in memory: as many as there are such files.

// pick is what a run with Options.Only does with a change.
type pick uint8

const (
	pickApply pick = iota // apply it as any change
	pickSkip              // outside the selection, not a directory: read past it
	pickDrop              // a directory outside the selection: log it dropped
	pickWait              // selected, its content to come from readAgain
)

// copyName holds the copy of an archive read from a pipe, unlinked as soon
// as it is created (it goes with the run, whatever happens).
const copyName = stageDir + "/archive"

// errNothingSelected: the patterns of Options.Only select nothing.
var errNothingSelected = errors.New("nothing selected")

// fixOnlyEmpty is the fix for a DIR that --only cannot restore into.
const fixOnlyEmpty = "restore into a new or empty directory: the selected entries among other files would match no version of the tree"

// contentKey names a file's content.
type contentKey struct {
	hash string
	size int64
}

// only is the state of a run with Options.Only.
type only struct {
	patterns []string
	sel      *tree.Selector
	reread   func() (io.ReadCloser, error)
	copy     *archiveCopy       // the archive as read, without reread
	temp     *format.TempFile   // copy's file, in a dry run
	tree     *format.TreeHasher // of every entry of the archive
	selected int                // entries selected
	// links maps the first path of a hard-link group outside the
	// selection to the first selected path of the group.
	links map[string]string
	// waiting lists the paths of the files waiting for each content, in
	// path order; waits holds the same paths.
	waiting map[contentKey][]string
	waits   map[string]bool
	// rerun: DIR was not empty, which only a run again on what the same
	// selection restored may find (checkEmpty)
	rerun bool
}

func newOnly(patterns []string, reread func() (io.ReadCloser, error)) *only {
	return &only{patterns: patterns, sel: tree.NewSelector(patterns), reread: reread, tree: format.NewTreeHasher(),
		links: map[string]string{}, waiting: map[contentKey][]string{}, waits: map[string]bool{}}
}

// tee returns the archive to read, copying it as it goes when it cannot be
// read again.
func (o *only) tee(in io.Reader) io.Reader {
	if o.reread != nil {
		return in
	}
	o.copy = &archiveCopy{r: in}
	return o.copy
}

// keepCopy gives the copy of the archive its file: in the staging
// directory of root, or for a dry run (root nil) in the system's
// temporary directory.
func (o *only) keepCopy(root *os.Root) error {
	if o == nil || o.copy == nil {
		return nil
	}
	var f *os.File
	var err error
	if root == nil {
		var t *format.TempFile
		if t, err = format.CreateTempFile("", "ibt-patch-archive-*"); err == nil {
			f, o.temp = t.File, t
		}
	} else if f, err = root.OpenFile(copyName, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		root.Remove(copyName)
	}
	if err != nil {
		return ioErr(copyName, "create the copy of the archive", err)
	}
	return o.copy.attach(f)
}

func (o *only) close() {
	if o.temp != nil {
		o.temp.Close() // and removes its name where it could not be removed at once
	} else if o.copy != nil && o.copy.f != nil {
		o.copy.f.Close()
	}
}

// checkFull refuses an archive that is not a full backup.
func (o *only) checkFull(h format.Header) error {
	if o == nil || h.Time == 0 {
		return nil
	}
	return &Error{Class: ErrWrongBase, Detail: "the archive is an incremental backup, and --only restores from a full one",
		Fix: "an incremental holds only what changed, and a subtree of it alone would match no version of the tree: " +
			"merge the full backup and the incrementals since into one, ibt-merge FULL INC... | ibt-patch --only PATTERN DIR"}
}

// checkEmpty refuses, with Options.Only, a DIR that holds anything but the
// workspace of an interrupted run (which the claim finds to be this run's,
// or refuses), or what the same selection of the same tree restored: a run
// again on what it restored finds it applied. predictOnly refuses anything
// else before the commit, as the checks of the changes refuse a selected
// path that DIR holds otherwise.
func (a *applier) checkEmpty() error {
	if a.only == nil || a.root == nil {
		return nil
	}
	d, err := a.root.Open(".")
	if err != nil {
		return ioErr("", "list DIR", err)
	}
	names, err := d.Readdirnames(2)
	d.Close()
	if err != nil && err != io.EOF {
		return ioErr("", "list DIR", err)
	}
	for _, name := range names {
		if name == stagingName {
			continue
		}
		if pending, err := readJournal(a.root); err != nil || pending != nil {
			return err
		}
		if !treeVerified {
			// no check before the commit (predict) to refuse the rest
			return pathErr(ErrConflict, name, fixOnlyEmpty, "is in DIR, and --only restores into an empty or missing directory")
		}
		a.only.rerun = true
		return nil
	}
	return nil
}

// selectChange decides what the run does with c. A selected hard link or
// copy whose content is in a file outside the selection is rewritten here
// (see the top of this file).
func (a *applier) selectChange(c *format.Change) (pick, error) {
	o := a.only
	if o == nil {
		return pickApply, nil
	}
	p, e := c.Path(), c.New
	if c.Old != nil || e == nil {
		return 0, pathErr(ErrCorrupt, p, "", "changes an entry of an older tree, but the archive is a full backup")
	}
	o.tree.Add(e)
	if !o.sel.Selects(p, e.Type == format.TypeDir) {
		if e.Type == format.TypeDir {
			return pickDrop, nil
		}
		return pickSkip, nil
	}
	o.selected++
	if err := a.keepParents(p); err != nil {
		return 0, err
	}
	switch {
	case e.LinkTo != "":
		if err := a.checkLink(p, e); err != nil {
			return 0, err
		}
		if first, ok := o.links[e.LinkTo]; ok {
			e.LinkTo = first
			return pickApply, nil
		}
		if o.sel.Selects(e.LinkTo, false) {
			return pickApply, nil
		}
		o.links[e.LinkTo] = p
		e.LinkTo = ""
		return pickWait, nil
	case c.From != "" && c.FromNew && c.From < p:
		if o.sel.Selects(c.From, false) && !o.waits[c.From] {
			return pickApply, nil
		}
		c.From, c.FromNew = "", false
		return pickWait, nil
	}
	return pickApply, nil
}

// keepParents keeps the dropped directories above p, which is selected.
func (a *applier) keepParents(p string) error {
	for i := range a.frames {
		f := &a.frames[i]
		if !f.dropped || !strings.HasPrefix(p, f.path+"/") {
			continue
		}
		if err := a.log.keep(f.at); err != nil {
			return err
		}
		f.dropped = false
		s, err := a.log.at(f.at)
		if err != nil {
			return err
		}
		a.count(s)
		a.noteUnrestorable(s.c.New)
	}
	return nil
}

// stageLater names the staged file of s, which waits for its content;
// an empty one is staged at once.
func (a *applier) stageLater(s *step) error {
	if s.state == stNew {
		return nil
	}
	if !a.opt.DryRun {
		s.staged = stageName(s.i)
	}
	if s.c.New.Size == 0 {
		return a.stageContent(s, func(io.Writer) (int64, error) { return 0, nil })
	}
	return nil
}

// waitFor notes s, logged, as waiting for its content if it does.
func (a *applier) waitFor(s *step, k pick) {
	if k != pickWait || s.state == stNew || s.c.New.Size == 0 {
		return
	}
	o, p := a.only, s.c.Path()
	key := contentKey{string(s.c.New.Hash), s.c.New.Size}
	o.waiting[key] = append(o.waiting[key], p)
	o.waits[p] = true
}

// readAgain ends the reading of a run with Options.Only: it checks the
// tree hash of the archive's entries and that something is selected, and
// stages the content of the files that wait for it from a second reading
// of the archive.
func (a *applier) readAgain(src *source) error {
	o := a.only
	if o == nil {
		return nil
	}
	want := src.treeHash()
	if len(want) == 0 {
		return &Error{Class: ErrCorrupt, Detail: "the archive records no tree hash to check its entries against"}
	}
	if got := o.tree.Sum(); !bytes.Equal(got, want) {
		return &Error{Class: ErrCorrupt, Fix: "the archive is damaged; make it again or use another copy",
			Detail: fmt.Sprintf("the archive's entries make the tree hash %s, not the %s it records", short(got), short(want))}
	}
	if o.selected == 0 {
		return &Error{Class: errNothingSelected, Detail: fmt.Sprintf("no entry of the archive matches --only %s", strings.Join(o.patterns, " --only ")),
			Fix: "patterns match the paths of the backed-up tree as a .gitignore does, e.g. home/me/project; ibt-cat ARCHIVE lists them"}
	}
	if len(o.waiting) == 0 {
		return nil
	}
	in, err := o.again()
	if err != nil {
		return err
	}
	defer in.Close()
	r, err := archive.NewReader(in)
	if err != nil {
		return corrupt(err)
	}
	for len(o.waiting) > 0 {
		c, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return corrupt(err)
		}
		if !c.HasData() || c.HasDelta() {
			continue
		}
		key := contentKey{string(c.New.Hash), c.New.Size}
		if paths, ok := o.waiting[key]; ok {
			delete(o.waiting, key)
			if err := a.stageWaiting(paths, r.Content()); err != nil {
				return err
			}
		}
	}
	missing := ""
	for _, paths := range o.waiting {
		if missing == "" || paths[0] < missing {
			missing = paths[0]
		}
	}
	if missing != "" {
		return pathErr(ErrCorrupt, missing, "the archive is damaged; make it again or use another copy",
			"shares its content with a file outside --only, but the archive holds no file of that content")
	}
	return nil
}

// again opens the archive for its second reading.
func (o *only) again() (io.ReadCloser, error) {
	if o.reread != nil {
		in, err := o.reread()
		if err != nil {
			return nil, &Error{Class: errIO, Detail: "failed to open the archive again, for content that selected files share with files outside --only", Err: err}
		}
		return in, nil
	}
	return o.copy.reader()
}

// stageWaiting stages the files at paths, which wait for the content read
// from content: the first from it, the others from the first's staged
// file (in a dry run the content is checked once).
func (a *applier) stageWaiting(paths []string, content io.Reader) error {
	var first *step
	for _, p := range paths {
		s, err := a.log.find(p)
		if err != nil {
			return err
		}
		if s == nil {
			return pathErr(errIO, p, "", "is missing from the step log")
		}
		var fill func(io.Writer) (int64, error)
		switch {
		case first == nil:
			fill = func(w io.Writer) (int64, error) { return copyContent(w, content, s.c.New.Size) }
		case first.staged == "":
			continue
		default:
			fill = func(w io.Writer) (int64, error) {
				f, _, err := tree.OpenFile(a.root, first.staged)
				if err != nil {
					return 0, ioErr(p, fmt.Sprintf("open the staged %q", first.c.Path()), err)
				}
				defer f.Close()
				n, err := io.Copy(w, io.LimitReader(f, s.c.New.Size+1))
				var we *writeError
				if err != nil && !errors.As(err, &we) {
					err = ioErr(p, fmt.Sprintf("read the staged %q", first.c.Path()), err)
				}
				return n, err
			}
		}
		if err := a.stageContent(s, fill); err != nil {
			return err
		}
		if first == nil {
			first = s
		}
	}
	return nil
}

// stageContent stages s with what fill writes.
func (a *applier) stageContent(s *step, fill func(io.Writer) (int64, error)) error {
	return a.stageFile(s, func(f *os.File) (int64, []byte, error) { return a.onePass(f, s.c.New, nil, fill) })
}

// identity names what the run commits, for the journal: the archive, and
// the selection of Options.Only.
func (a *applier) identity(src *source) string {
	id := src.identity()
	if a.only == nil {
		return id
	}
	h := sha256.New()
	for _, p := range a.only.patterns {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%s only %x", id, h.Sum(nil)[:16])
}

// sameRun refuses to finish the interrupted commit of this archive with
// another selection, saying so (the claim refuses another archive).
func (a *applier) sameRun(src *source) error {
	pending := a.ws.pending
	if pending == nil || pending.Archive == a.identity(src) {
		return nil
	}
	id := src.identity()
	wasOnly := strings.HasPrefix(pending.Archive, id+" only ")
	if pending.Archive != id && !wasOnly {
		return nil
	}
	how := "with other --only patterns"
	switch {
	case a.only == nil:
		how = "with --only"
	case !wasOnly:
		how = "without --only"
	}
	return &Error{Class: ErrBusy, Detail: "the directory holds an unfinished ibt-patch of this archive " + how,
		Fix: "run it again as it was run first, with the same --only patterns or none, to finish it"}
}

// predictOnly is the check before the commit of a run with Options.Only:
// DIR must hold nothing the selection does not (it was empty when the run
// began, but for an interrupted run's entries).
func (a *applier) predictOnly() error {
	extra := ""
	err := a.walkMerged(func(n *tree.Node, s *step) error {
		if n != nil && s == nil && extra == "" {
			extra = n.Path
		}
		return nil
	})
	if err != nil {
		return asError(err, ErrConflict, "failed to check DIR")
	}
	if extra != "" && a.only.rerun {
		return pathErr(ErrConflict, extra, fixOnlyEmpty, "is in DIR, and --only restores into an empty or missing directory, or one it restored")
	}
	if extra != "" {
		return pathErr(ErrConflict, extra, fixOnlyEmpty, "is in DIR, but not among the entries --only restores")
	}
	return nil
}

// archiveCopy keeps what is read of the archive, from its first byte, in a
// file: what is read before the file is given (the header) is held until
// then. A failure to write it fails only a second reading that needs it.
type archiveCopy struct {
	r   io.Reader
	buf []byte
	f   *os.File
	w   *bufio.Writer
	n   int64 // bytes written
	err error
}

func (c *archiveCopy) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 && c.err == nil {
		if c.w == nil {
			c.buf = append(c.buf, p[:n]...)
		} else {
			c.write(p[:n])
		}
	}
	return n, err
}

func (c *archiveCopy) write(p []byte) {
	if _, err := c.w.Write(p); err != nil {
		c.err = err
	}
	c.n += int64(len(p))
}

// attach gives the copy its file.
func (c *archiveCopy) attach(f *os.File) error {
	c.f, c.w = f, bufio.NewWriterSize(f, 256<<10)
	c.write(c.buf)
	c.buf = nil
	return nil
}

// reader reads the copy from its start.
func (c *archiveCopy) reader() (io.ReadCloser, error) {
	err := c.err
	if err == nil && c.w != nil {
		err = c.w.Flush()
	}
	if err != nil || c.f == nil {
		return nil, &Error{Class: errIO, Detail: "failed to keep a copy of the archive, for content that selected files share with files outside --only", Err: err,
			Fix: "free space on DIR's filesystem, or give the archive as a file (-i FILE), which is read again instead"}
	}
	return io.NopCloser(io.NewSectionReader(c.f, 0, c.n)), nil
}
