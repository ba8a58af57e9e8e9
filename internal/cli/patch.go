package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ibt-tools/ibt/internal/oserr"
	"github.com/ibt-tools/ibt/internal/patch"
)

const patchHelp = `Apply an archive made by ibt-pack to DIR, turning the old tree into the new
one: every file is staged and verified before anything in DIR changes, and
the whole tree is verified afterwards. On any failure DIR is left as it was;
an interrupted run is finished by running the same command again.

Named pipes and sockets are made by anyone; device nodes only by root: run
by another user, ibt-patch refuses an archive that must create a device,
before DIR changes, rather than leave DIR unlike the backup.

--only restores from a full backup (or ibt-merge of a full and the
incrementals since) just what its patterns select, and their parent
directories, into an empty or missing DIR. The tree hash then checked is
the archive's, over all its entries; each restored file is checked against
its own hash, and afterwards DIR must hold exactly the selected entries,
each as the archive records it. A selected file that shares its content
with one outside the selection (a hard link, a duplicate) takes it from a
second reading of the archive: of ARCHIVE, or from a pipe, of a copy kept
in DIR/.ibt-patch while it is read.

Exit codes: 0 success, 1 failure, 2 usage error, 3 DIR is busy: another
ibt-patch holds its lock (nothing was changed; try again once it is done).

Example:
  mkdir restore && ibt-patch restore < full.tar.gz
  ibt-patch restore < v2.tar.gz && ibt-patch restore < v3.tar.gz
  ibt-merge full.tar.gz v2.tar.gz v3.tar.gz | ibt-patch --only home/me/project tuesday/`

type patchCmd struct {
	commonFlags
	Dir      string   `arg:"" help:"The directory to patch (created if missing, for a full backup)."`
	Input    string   `short:"i" default:"-" placeholder:"ARCHIVE" help:"Read the archive from ARCHIVE ('-', the default, for standard input)."`
	DryRun   bool     `short:"n" help:"Report what would change, and change nothing."`
	NoCache  bool     `name:"no-cache" aliases:"no-known" help:"Read every file the patch checks or verifies instead of trusting the known file of DIR (the hashes the last run verified, kept in the cache directory) or the archive's old entries where DIR is the tree they were signed from, and keep no known file: for filesystems whose attributes a client caches (NFS). --no-known is the same."`
	CacheDir string   `name:"cache-dir" placeholder:"DIR" help:"Keep the known files and the leaves of large files in DIR instead of ibt/ in the user's cache directory ($XDG_CACHE_HOME or ~/.cache). Each known file is named by the SHA-256 of the patched directory's absolute path and vouches only for files whose device, inode, size, mtime and ctime it recorded."`
	NoSync   bool     `name:"no-sync" help:"Do not flush the staged files, the journal and the patched tree to disk: faster, as rdiff and rsync do by default. A killed run is still finished by the next one, but a power failure or system crash soon after may leave files empty."`
	Only     []string `placeholder:"PATTERN" sep:"none" help:"Restore from a full backup only the paths matching PATTERN, in .gitignore syntax as ibt-sign's --exclude (a directory with everything beneath it), and their parent directories, into an empty or missing DIR; repeatable."`
}

// patchGCPercent is ibt-patch's GOGC, unless GOGC or GOMEMLIMIT say
// otherwise: a restore of many small files allocates a little for each and
// holds almost nothing, as ibt-sign's walk does; streamHeapLimit still
// bounds the heap of a large file's delta.
// Measurements: BENCHMARKS.md, "Measurements behind design choices".
const patchGCPercent = 400

func (p *patchCmd) run(c *runContext) error {
	defer tuneGC(patchGCPercent, streamHeapLimit)()
	in, err := c.openInput(p.Input)
	if err != nil {
		return err
	}
	defer in.Close()
	opt := patch.Options{DryRun: p.DryRun, NoSync: p.NoSync, NoKnown: p.NoCache, KnownDir: p.cacheDir(), Warn: func(msg string) { c.warnf("%s", msg) }}
	if len(p.Only) > 0 {
		for _, o := range p.Only {
			if !patch.IsPattern(o) {
				return usagef("--only takes a pattern, as a line of a .gitignore; got %q", o)
			}
		}
		opt.Only = p.Only
		opt.Reread = rereader(p.Input, c.env.Stdin)
	}
	if p.DryRun {
		opt.Report = func(action, path string) { fmt.Fprintf(c.env.Stdout, "%s %s\n", action, quotePath(path)) }
		if p.JSON {
			enc := json.NewEncoder(c.env.Stdout)
			opt.Report = func(action, path string) {
				m := map[string]any{"action": action}
				addString(m, "path", path)
				enc.Encode(m)
			}
		}
	}
	sum, err := patch.Apply(p.Dir, in, opt)
	if err != nil {
		return err
	}
	c.summary = fmt.Sprintf("created %d, updated %d, deleted %d, metadata %d, replaced %d, already applied %d",
		sum.Created, sum.Updated, sum.Deleted, sum.Meta, sum.Replaced, sum.AlreadyApplied)
	c.stats = map[string]any{"created": sum.Created, "updated": sum.Updated, "deleted": sum.Deleted,
		"metadata": sum.Meta, "replaced": sum.Replaced, "already_applied": sum.AlreadyApplied, "dry_run": p.DryRun}
	if p.DryRun {
		c.summary += " (dry run: nothing changed)"
	}
	return nil
}

// cacheDir is --cache-dir, or knownDir.
func (p *patchCmd) cacheDir() string {
	if p.CacheDir != "" {
		return p.CacheDir
	}
	return knownDir()
}

// knownDir is where ibt-patch keeps the known files of the trees it
// patches: ibt/ in the user's cache directory, or nowhere if there is none.
func knownDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "ibt")
}

// rereader opens the archive named name again from where it starts, for
// --only: the file named, or standard input if it is a regular file
// (read with ReadAt, from the offset it has now). It returns nil for a
// pipe, which ibt-patch copies instead.
func rereader(name string, stdin io.Reader) func() (io.ReadCloser, error) {
	if name != "-" && name != "" {
		return func() (io.ReadCloser, error) {
			f, err := os.Open(name)
			if err != nil {
				return nil, fmt.Errorf("open %q: %w", name, oserr.Cause(err))
			}
			return f, nil
		}
	}
	f, ok := stdin.(*os.File)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	at, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil
	}
	return func() (io.ReadCloser, error) {
		return io.NopCloser(io.NewSectionReader(f, at, 1<<62)), nil
	}
}
