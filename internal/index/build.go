// Building an index: ibt-sign's pipeline. The walk emits entries in path
// order, in batches; workers hash the files of a batch while the writer
// takes the batches in walk order, so that the index is sorted and its
// content the same for any number of workers.

package index

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/oserr"
	"github.com/ibt-tools/ibt/internal/tree"
)

// IgnoreFile is the name of the ignore files Build reads in every
// directory of the tree, .gitignore's counterpart.
const IgnoreFile = format.IgnoreFile

// Options says how Build indexes a tree.
type Options struct {
	Tool string // the creating tool, for the index's header
	Name string // the directory as the user named it, in messages
	LZ4  bool   // frame the index in lz4
	// Jobs is how many files are hashed at once (default: one per core).
	Jobs int
	// Exclude holds the patterns, in .gitignore syntax, that leave paths
	// out, before the tree's ignore files; the header records them.
	Exclude []string
	// Prev is a previous index of the tree, or nil: files its quick check
	// finds unchanged keep its hashes and signatures unread, and the new
	// index keeps its signature seed, unless Checksum. PrevName names it in
	// messages.
	Prev     *format.Reader
	PrevName string
	// Checksum reads every file, even those Prev would vouch for.
	Checksum bool
	// SkipChanged does not fail on a file that changes while it is read:
	// it keeps its entry from Prev, or is marked skipped (see
	// format.Entry.Skipped); a file that vanishes is left out.
	SkipChanged bool
	// Warn, if set, is told of what is skipped or kept, and why.
	Warn func(msg string)
	// Progress, if set, is told of the bytes of content as they are read.
	Progress func(n int64)
}

// Stats counts what Build did.
type Stats struct {
	Entries      int64 // entries written
	HashedFiles  int64 // files read, and their bytes
	HashedBytes  int64
	ReusedFiles  int64 // files whose hash and signatures Prev gave
	KeptFiles    int64 // files changed while read, kept as Prev has them
	SkippedFiles int64 // files changed while read, marked skipped
}

// errChangedWhileReading is wrapped by signFileWorkers's error for a file whose
// size or mtime moved while it was read; --skip-changed keeps such a file's
// previous entry, or marks it skipped.
var errChangedWhileReading = errors.New("changed while it was being read")

// signJob is one entry on its way from the walk to the output; files are
// hashed by workers while the output keeps the walk's order.
type signJob struct {
	entry format.Entry
	err   error
	hash  bool // the file's content must be read
	first bool // the first link of a file of several hard links
	// prev is the entry --prev has at the path, kept under --skip-changed
	// for a file to be read, in case it changes while it is
	prev *format.Entry
}

// signBatch is a run of consecutive entries, handed to a worker when any of
// them needs hashing and to the writer in walk order.
type signBatch struct {
	jobs  []signJob
	bytes int64         // content to hash
	done  chan struct{} // closed once hashed; nil when nothing is to hash
}

// A batch closes at batchEntries entries or batchBytes of content to hash,
// so small files share the cost of a hand-off and a large file gets a
// worker of its own.
const (
	batchEntries = 256
	batchBytes   = 4 << 20
)

// Build writes to w the index of the tree at root: every entry below it,
// sorted by path, with the content hash and block signatures of every file.
func Build(root *os.Root, opt Options, w io.Writer) (Stats, error) {
	var st Stats
	warnf := func(format string, args ...any) {
		if opt.Warn != nil {
			opt.Warn(fmt.Sprintf(format, args...))
		}
	}
	progress := opt.Progress
	if progress == nil {
		progress = func(int64) {}
	}
	var prev *prevIndex
	var seed []byte
	// With --checksum nothing is reused, but --skip-changed still keeps
	// the previous entry of a file that changes while it is read.
	if opt.Prev != nil && (!opt.Checksum || opt.SkipChanged) {
		h := opt.Prev.Header()
		next, stop := readAhead(opt.Prev)
		defer stop()
		prev = newPrevIndex(opt.PrevName, next, h.Time, h.Xattrs)
		prev.seed = h.Seed
		if !opt.Checksum {
			// The signatures it reuses were keyed with the previous seed. An
			// index without one holds no signatures (a reader refuses them), so
			// what it offers does not depend on the seed.
			seed = prev.seed
		}
	}
	if seed == nil {
		var err error
		if seed, err = newSeed(); err != nil {
			return st, err
		}
	}
	key, err := format.NewStrongKey(seed)
	if err != nil {
		return st, err
	}
	start := time.Now().UnixNano()
	dir := root.Name()
	ex := tree.NewExcluder(root, opt.Exclude, IgnoreFile)
	top, err := tree.Stat(root, ".")
	if err != nil {
		return st, fmt.Errorf("failed to read directory %q: %w", opt.Name, oserr.Cause(err))
	}
	hdr := format.Header{Kind: format.KindIndex, Seed: seed, Tool: opt.Tool, Root: dir, Time: start, Exclude: opt.Exclude,
		Xattrs: tree.XattrScope()}
	if top.Xattrs, err = tree.ReadXattrs(dir); err != nil {
		return st, fmt.Errorf("failed to read the extended attributes of %q: %w", opt.Name, err)
	}
	topEntry := FromNode(top)
	hdr.SetTopDir(&topEntry)
	iw, err := format.NewWriter(w, hdr, format.WriterOptions{LZ4: opt.LZ4})
	if err != nil {
		return st, err
	}

	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Entries travel in batches: handing each of a million small entries
	// from goroutine to goroutine would cost more than hashing them.
	queue := make(chan *signBatch, 2*jobs) // in walk order, to the writer
	work := make(chan *signBatch, 2*jobs)  // batches with files to hash, to the workers
	var walkErr error
	go func() {
		defer close(queue)
		defer close(work)
		b := &signBatch{}
		send := func() error {
			if len(b.jobs) == 0 {
				return nil
			}
			if b.done != nil {
				select {
				case work <- b:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			select {
			case queue <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			b = &signBatch{}
			return nil
		}
		wopt := tree.Options{
			Warn:          func(p, why string) { warnf("skipping %q: %s", p, why) },
			Ignore:        ex,
			AllowVanished: opt.SkipChanged,
			Xattrs:        true,
		}
		if prev != nil && !opt.Checksum {
			wopt.KnownXattrs = prev.known
		}
		walkErr = tree.Walk(dir, wopt,
			func(n *tree.Node) error {
				if err := ex.Err(); err != nil {
					return err
				}
				j := signJob{entry: FromNode(n), first: n.Nlink > 1 && n.LinkTo == ""}
				reused := false
				var o *format.Entry
				if prev != nil && (j.entry.LinkTo == "" || opt.SkipChanged) {
					var err error
					if o, err = prev.take(n); err != nil {
						return err
					}
				}
				if j.entry.LinkTo != "" {
					reused = true // it repeats the first link's hash, written by then
				} else if prev != nil && !opt.Checksum {
					reused = prev.reuse(&j.entry, o)
				}
				if j.entry.Type == format.TypeFile && !reused {
					j.hash = true
					b.bytes += j.entry.Size
					if b.done == nil {
						b.done = make(chan struct{})
					}
				}
				if opt.SkipChanged && (j.hash || j.entry.LinkTo != "") {
					j.prev = keepable(o)
				}
				b.jobs = append(b.jobs, j)
				if len(b.jobs) >= batchEntries || b.bytes >= batchBytes {
					return send()
				}
				return nil
			})
		if walkErr == nil {
			walkErr = send()
		}
	}()
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			files := tree.NewFiles(root) // batches are runs of the walk: mostly one directory's files
			defer files.Close()
			for b := range work {
				for i := range b.jobs {
					if j := &b.jobs[i]; j.hash && ctx.Err() == nil {
						j.err = signFileWorkers(files, &j.entry, jobs, key, progress)
					}
				}
				close(b.done)
			}
		}()
	}
	defer wg.Wait()
	defer cancel()

	th := format.NewTreeHasher()
	links := map[string]*format.Entry{} // first links of files of several, as written
	// keep records the file of j, which could not be read, as --prev has
	// it, or else as skipped.
	keep := func(j *signJob, why string) {
		if j.prev != nil && !j.prev.Skipped {
			warnf("%q %s: kept its entry from %q, so the backup keeps its old version", j.entry.Path, why, opt.PrevName)
			e := *j.prev
			if opt.Checksum {
				e.Sig = nil // keyed with the previous seed, not this index's
			}
			j.entry = e
			st.KeptFiles++
			return
		}
		switch {
		case j.prev != nil:
			warnf("%q %s, and %q has it as skipped too: recorded as skipped, so ibt-diff leaves it as the old index has it", j.entry.Path, why, opt.PrevName)
		case prev != nil:
			warnf("%q %s, and %q has no entry for it: recorded as skipped, so ibt-diff leaves it as the old index has it", j.entry.Path, why, opt.PrevName)
		default:
			warnf("%q %s: recorded as skipped, so ibt-diff leaves it as the old index has it (with --prev it would keep the previous entry)", j.entry.Path, why)
		}
		j.entry = format.Entry{Path: j.entry.Path, Type: format.TypeFile, Mode: j.entry.Mode, MTime: j.entry.MTime, Size: j.entry.Size,
			UID: j.entry.UID, GID: j.entry.GID, Dev: j.entry.Dev, Inode: j.entry.Inode, CTime: j.entry.CTime, Skipped: true}
		st.SkippedFiles++
	}
	for b := range queue {
		if b.done != nil {
			<-b.done
		}
		for i := range b.jobs {
			j := &b.jobs[i]
			kept := false // the file could not be read: kept or marked skipped
			if j.err != nil {
				why := skippable(j.err)
				switch {
				case !opt.SkipChanged || why == "":
					return st, j.err
				case errors.Is(j.err, fs.ErrNotExist):
					warnf("skipping %q: %s, so it is left out, as deleted", j.entry.Path, why)
					continue
				}
				keep(j, why)
				kept = true
			} else if j.entry.LinkTo != "" {
				if first, ok := links[j.entry.LinkTo]; ok {
					j.entry = linkEntry(first, &j.entry)
				} else if opt.SkipChanged {
					keep(j, fmt.Sprintf("is a hard link to %q, which was not read", j.entry.LinkTo))
					kept = true
				} else {
					return st, fmt.Errorf("failed to index %q: hard link to %q, which was not read", j.entry.Path, j.entry.LinkTo)
				}
			}
			if j.first && j.entry.Type == format.TypeFile && j.entry.LinkTo == "" && !j.entry.Skipped {
				// further links follow it, kept from --prev or not
				e := j.entry
				e.Sig = nil
				links[e.Path] = &e
			}
			th.Add(&j.entry)
			st.Entries++
			if j.entry.Type == format.TypeFile && j.entry.LinkTo == "" && !kept {
				if j.hash {
					st.HashedFiles++
					st.HashedBytes += j.entry.Size
				} else {
					st.ReusedFiles++
				}
			}
			if err := iw.WriteEntry(&j.entry); err != nil {
				return st, fmt.Errorf("failed to write index: %w", err)
			}
		}
	}
	if walkErr == nil {
		walkErr = ex.Err()
	}
	if walkErr != nil {
		return st, fmt.Errorf("failed to index %q: %w", opt.Name, walkErr)
	}
	if err := iw.Close(format.Trailer{TreeHash: th.Sum()}); err != nil {
		return st, fmt.Errorf("failed to write index: %w", err)
	}
	return st, nil
}

// newSeed draws the secret seed of a new index's strong sums (see
// format.Header.Seed).
func newSeed() ([]byte, error) {
	seed := make([]byte, format.SeedLen)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("failed to draw a signature seed: %w", err)
	}
	return seed, nil
}

// skippable says why --skip-changed may skip a file whose signing failed
// with err, or "" if it may not.
func skippable(err error) string {
	switch {
	case errors.Is(err, errChangedWhileReading), errors.Is(err, tree.ErrChanged):
		return "changed while it was being read"
	case errors.Is(err, fs.ErrNotExist):
		return "vanished while it was being read"
	}
	return ""
}

// keepable returns o, the previous entry of a file, if --skip-changed may
// keep it for the file should it change while it is read: a file's entry
// with a hash, or a skipped one (see format.Entry.Skipped). A hard link's
// entry repeats another path's, which may no longer be that file.
func keepable(o *format.Entry) *format.Entry {
	if o == nil || o.Type != format.TypeFile || o.LinkTo != "" || len(o.Hash) == 0 && !o.Skipped {
		return nil
	}
	return o
}

// linkEntry is the entry of a further hard link to first: the same inode,
// so the same content and metadata, recorded as the format asks. The
// signatures are left out: they are first's, and an update of the link is
// written as a new link, never as a delta.
func linkEntry(first, link *format.Entry) format.Entry {
	e := *first
	e.Path = link.Path
	e.LinkTo = first.Path
	e.Dev, e.Inode, e.CTime = link.Dev, link.Inode, link.CTime
	return e
}

// inputName names an input in a message: "-" is standard input.
func inputName(name string) string {
	if name == "-" || name == "" {
		return "standard input"
	}
	return name
}

// ReadPatterns reads a file of exclusion patterns in .gitignore syntax,
// one a line, and returns its patterns, without blank lines and comments.
func ReadPatterns(r io.Reader) ([]string, error) {
	lines, err := tree.ParsePatternFile(r)
	if err != nil {
		return nil, err
	}
	var patterns []string
	for _, l := range lines {
		if tree.IsPattern(l) {
			patterns = append(patterns, l)
		}
	}
	return patterns, nil
}
