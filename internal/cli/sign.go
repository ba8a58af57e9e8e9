package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/ibt-tools/ibt/internal/index"
	"github.com/ibt-tools/ibt/internal/oserr"
	"github.com/ibt-tools/ibt/internal/progress"
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

// GC settings for ibt-sign, unless GOGC or GOMEMLIMIT say otherwise. A
// walk of many small files allocates a little for every entry and holds
// almost nothing, so collecting at five times the live heap instead of
// twice saves time. The limit makes the collector work harder as the heap
// nears it, keeping the process under the 64 MiB a command may use when
// large files' signatures make the live heap grow.
// Measurements: BENCHMARKS.md, "Measurements behind design choices".
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
		return fmt.Errorf("failed to open directory %q: %w", s.Dir, oserr.Cause(err))
	} else if !fi.IsDir() {
		return withHint(fmt.Errorf("%q is not a directory", s.Dir), "ibt-sign indexes a directory tree; put a single file in a directory of its own")
	}
	if s.excludesStdin() && isStdin(s.Prev) && !s.Checksum {
		return withHint(usagef("--exclude-from - and --prev - both read standard input"),
			"give the previous index or the patterns as a file")
	}
	opt := index.Options{Tool: c.name + " " + Version, Name: s.Dir, LZ4: s.LZ4, Jobs: s.Jobs, PrevName: s.Prev,
		Checksum: s.Checksum, SkipChanged: s.SkipChanged, Warn: func(msg string) { c.warnf("%s", msg) }, Progress: c.addBytes}
	// With --checksum nothing is reused, but --skip-changed still keeps
	// the previous entry of a file that changes while it is read.
	if s.Prev != "" && (!s.Checksum || s.SkipChanged) {
		in, err := c.openIndex(s.Prev)
		if err != nil {
			return err
		}
		defer in.close()
		opt.Prev = in.Reader
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("failed to open directory %q: %w", s.Dir, oserr.Cause(err))
	}
	defer root.Close()
	if opt.Exclude, err = s.patterns(c.env.Stdin); err != nil {
		return err
	}
	out, err := c.openOutput(s.outputFlag)
	if err != nil {
		return err
	}
	out.private = true // it holds (or hands on) the signatures' secret seed
	defer out.abort()
	c.startBar(-1, "signing")
	st, err := index.Build(root, opt, out)
	if err != nil {
		return err
	}
	c.summary = fmt.Sprintf("indexed %d entries, hashed %s in %d files", st.Entries, progress.HumanBytes(st.HashedBytes), st.HashedFiles)
	if opt.Prev != nil && !s.Checksum {
		c.summary += fmt.Sprintf(", %d files reused from %q unread", st.ReusedFiles, s.Prev)
	}
	if st.KeptFiles > 0 {
		c.summary += fmt.Sprintf("; %d files changed while read kept as %q has them", st.KeptFiles, s.Prev)
	}
	if st.SkippedFiles > 0 {
		c.summary += fmt.Sprintf("; %d files changed while read recorded as skipped", st.SkippedFiles)
	}
	return out.commit()
}
