package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/internal/index"
	"github.com/ibt-tools/ibt/internal/tree"
)

const signHelp = `Index a directory: every file, directory and symlink with its metadata,
content hash and rsync block signatures, sorted by path.

Named pipes, devices and sockets are recorded with their metadata only (a
device with its major and minor numbers), never opened, as rsync -a keeps
them; ibt-patch makes them again (devices only as root).

Hard links are recorded once: each further link names the first. Extended
attributes are recorded on Linux (user.*, and every namespace as root).

Exclusion follows .gitignore: --exclude and --exclude-from patterns, then
.ibtignore files in the tree, each applying to its directory and below. An
excluded path is not in the index at all, so excluding a path that an older
index holds makes the next diff delete it on restore, like rsync's
--delete-excluded.

A file that changes while it is read fails the command, unless
--skip-changed: the file then keeps its entry from --prev, so that the
backup keeps its old version, or without one is marked skipped, which
ibt-diff leaves as the old index has it (and the next backup, diffed
against this index, writes whole). Either way a warning names it.

Block signatures are keyed by a secret seed drawn for every index (--prev
keeps the previous index's), so that nobody who cannot read the index can
craft files whose blocks are taken for others. Keep indexes as private as
the backups.

Example:
  ibt-sign ~/data > v1.idx
  ibt-sign --exclude-vcs --exclude '*.tmp' ~/src > src.idx
  ibt-diff --full v1.idx | ibt-delta | ibt-pack > full.tar.gz`

type signCmd struct {
	commonFlags
	Dir string `arg:"" help:"Directory to index."`
	outputFlag
	Jobs     int    `short:"j" placeholder:"N" help:"Hash N files at once (default: one per core)."`
	LZ4      bool   `name:"lz4" default:"true" negatable:"" help:"Frame the index in lz4 (the default: it halves the index of a source tree; --no-lz4 writes it plain)."`
	Prev     string `placeholder:"OLD.idx" help:"Reuse the hashes and signatures of OLD.idx for files whose size, mtime, ctime and inode are unchanged, without reading them; the new index keeps OLD.idx's signature seed, which they were made with (with --checksum, which reads every file, it draws a new one)."`
	Checksum bool   `short:"c" help:"Read every file, even those --prev would reuse."`
	excludeFlags
	SkipChanged bool `name:"skip-changed" help:"Do not fail on a file that changes while it is read: warn, and keep its entry from --prev (its old version stays in the backup), or without one mark it skipped, which ibt-diff leaves as the old index has it. A file that vanishes while it is read is left out, as deleted. The index is complete and the exit status 0."`
}

// errChangedWhileReading is wrapped by signFile's error for a file whose
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

// GC settings for ibt-sign, unless GOGC or GOMEMLIMIT say otherwise. A
// walk of many small files allocates a little for every entry and holds
// almost nothing, so collecting at five times the live heap instead of
// twice cut the time of sign --prev on 200,000 files by a sixth. The
// limit makes the collector work harder as the heap nears it, keeping the
// process under the 64 MiB a command may use when large files' signatures
// make the live heap grow (13 MB for a 20 GiB file, held twice meanwhile).
const (
	signGCPercent = 400
	signHeapLimit = 48 << 20
)

// tuneGC applies the settings above and returns what undoes them: tests run
// the commands in one process.
func tuneGC(percent int, limit int64) (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	oldPercent := debug.SetGCPercent(percent)
	oldLimit := debug.SetMemoryLimit(limit)
	return func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}
}

func (s *signCmd) run(c *runContext) error {
	defer tuneGC(signGCPercent, signHeapLimit)()
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return fmt.Errorf("failed to resolve directory %q: %w", s.Dir, err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("failed to open directory %q: %w", s.Dir, unwrapPathError(err))
	} else if !fi.IsDir() {
		return withHint(fmt.Errorf("%q is not a directory", s.Dir), "ibt-sign indexes a directory tree; put a single file in a directory of its own")
	}
	if s.excludesStdin() && isStdin(s.Prev) && !s.Checksum {
		return withHint(usagef("--exclude-from - and --prev - both read standard input"),
			"give the previous index or the patterns as a file")
	}
	var prev *prevIndex
	var seed []byte
	// With --checksum nothing is reused, but --skip-changed still keeps
	// the previous entry of a file that changes while it is read.
	if s.Prev != "" && (!s.Checksum || s.SkipChanged) {
		p, closePrev, err := c.openPrev(s.Prev)
		if err != nil {
			return err
		}
		defer closePrev()
		prev = p
		if !s.Checksum {
			// The signatures it reuses were keyed with the previous seed. An
			// index without one holds no signatures (a reader refuses them), so
			// what it offers does not depend on the seed.
			seed = p.seed
		}
	}
	if seed == nil {
		if seed, err = newSeed(); err != nil {
			return err
		}
	}
	key, err := format.NewStrongKey(seed)
	if err != nil {
		return err
	}
	start := time.Now().UnixNano()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("failed to open directory %q: %w", s.Dir, unwrapPathError(err))
	}
	defer root.Close()
	ex, patterns, err := s.excluder(root, c.env.Stdin)
	if err != nil {
		return err
	}

	out, err := c.openOutput(s.outputFlag)
	if err != nil {
		return err
	}
	out.private = true // it holds (or hands on) the signatures' secret seed
	defer out.abort()
	top, err := tree.Stat(root, ".")
	if err != nil {
		return fmt.Errorf("failed to read directory %q: %w", s.Dir, unwrapPathError(err))
	}
	hdr := format.Header{Kind: format.KindIndex, Seed: seed, Tool: c.name + " " + Version, Root: dir, Time: start, Exclude: patterns,
		DirMode: top.Mode, DirMTime: top.MTime, Xattrs: tree.XattrScope()}
	w, err := format.NewWriter(out, hdr,
		format.WriterOptions{LZ4: s.LZ4})
	if err != nil {
		return err
	}

	jobs := s.Jobs
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
		opt := tree.Options{
			Warn:          func(p, why string) { c.warnf("skipping %q: %s", p, why) },
			Exclude:       ex.Exclude,
			AllowVanished: s.SkipChanged,
			Xattrs:        true,
		}
		if prev != nil && !s.Checksum {
			opt.KnownXattrs = prev.known
		}
		walkErr = tree.Walk(dir, opt,
			func(n *tree.Node) error {
				if err := ex.Err(); err != nil {
					return err
				}
				j := signJob{entry: index.FromNode(n), first: n.Nlink > 1 && n.LinkTo == ""}
				reused := false
				var o *format.Entry
				if prev != nil && (j.entry.LinkTo == "" || s.SkipChanged) {
					var err error
					if o, err = prev.take(n); err != nil {
						return err
					}
				}
				if j.entry.LinkTo != "" {
					reused = true // it repeats the first link's hash, written by then
				} else if prev != nil && !s.Checksum {
					reused = prev.reuse(&j.entry, o)
				}
				if j.entry.Type == format.TypeFile && !reused {
					j.hash = true
					b.bytes += j.entry.Size
					if b.done == nil {
						b.done = make(chan struct{})
					}
				}
				if s.SkipChanged && (j.hash || j.entry.LinkTo != "") {
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
			for b := range work {
				for i := range b.jobs {
					if j := &b.jobs[i]; j.hash && ctx.Err() == nil {
						j.err = signFileWorkers(root, &j.entry, jobs, key, c.addBytes)
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
	c.startBar(-1, "signing")
	var entries, hashedFiles, hashedBytes, reusedFiles, keptFiles, skippedFiles int64
	// keep records the file of j, which could not be read, as --prev has
	// it, or else as skipped.
	keep := func(j *signJob, why string) {
		if j.prev != nil && !j.prev.Skipped {
			c.warnf("%q %s: kept its entry from %q, so the backup keeps its old version", j.entry.Path, why, s.Prev)
			e := *j.prev
			if s.Checksum {
				e.Sig = nil // keyed with the previous seed, not this index's
			}
			j.entry = e
			keptFiles++
			return
		}
		switch {
		case j.prev != nil:
			c.warnf("%q %s, and %q has it as skipped too: recorded as skipped, so ibt-diff leaves it as the old index has it", j.entry.Path, why, s.Prev)
		case prev != nil:
			c.warnf("%q %s, and %q has no entry for it: recorded as skipped, so ibt-diff leaves it as the old index has it", j.entry.Path, why, s.Prev)
		default:
			c.warnf("%q %s: recorded as skipped, so ibt-diff leaves it as the old index has it (with --prev it would keep the previous entry)", j.entry.Path, why)
		}
		j.entry = format.Entry{Path: j.entry.Path, Type: format.TypeFile, Mode: j.entry.Mode, MTime: j.entry.MTime, Size: j.entry.Size,
			UID: j.entry.UID, GID: j.entry.GID, Dev: j.entry.Dev, Inode: j.entry.Inode, CTime: j.entry.CTime, Skipped: true}
		skippedFiles++
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
				case !s.SkipChanged || why == "":
					return j.err
				case errors.Is(j.err, fs.ErrNotExist):
					c.warnf("skipping %q: %s, so it is left out, as deleted", j.entry.Path, why)
					continue
				}
				keep(j, why)
				kept = true
			} else if j.entry.LinkTo != "" {
				if first, ok := links[j.entry.LinkTo]; ok {
					j.entry = linkEntry(first, &j.entry)
				} else if s.SkipChanged {
					keep(j, fmt.Sprintf("is a hard link to %q, which was not read", j.entry.LinkTo))
					kept = true
				} else {
					return fmt.Errorf("failed to index %q: hard link to %q, which was not read", j.entry.Path, j.entry.LinkTo)
				}
			}
			if j.first && j.entry.Type == format.TypeFile && j.entry.LinkTo == "" && !j.entry.Skipped {
				// further links follow it, kept from --prev or not
				e := j.entry
				e.Sig = nil
				links[e.Path] = &e
			}
			th.Add(&j.entry)
			entries++
			if j.entry.Type == format.TypeFile && j.entry.LinkTo == "" && !kept {
				if j.hash {
					hashedFiles++
					hashedBytes += j.entry.Size
				} else {
					reusedFiles++
				}
			}
			if err := w.WriteEntry(&j.entry); err != nil {
				return fmt.Errorf("failed to write index: %w", err)
			}
		}
	}
	if walkErr == nil {
		walkErr = ex.Err()
	}
	if walkErr != nil {
		return fmt.Errorf("failed to index %q: %w", s.Dir, walkErr)
	}
	c.summary = fmt.Sprintf("indexed %d entries, hashed %s in %d files", entries, humanBytes(hashedBytes), hashedFiles)
	if prev != nil && !s.Checksum {
		c.summary += fmt.Sprintf(", %d files reused from %q unread", reusedFiles, s.Prev)
	}
	if keptFiles > 0 {
		c.summary += fmt.Sprintf("; %d files changed while read kept as %q has them", keptFiles, s.Prev)
	}
	if skippedFiles > 0 {
		c.summary += fmt.Sprintf("; %d files changed while read recorded as skipped", skippedFiles)
	}
	if err := w.Close(format.Trailer{TreeHash: th.Sum()}); err != nil {
		return fmt.Errorf("failed to write index: %w", err)
	}
	return out.commit()
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
