// Package patch applies an ibt archive to a directory so that it becomes the
// archive's new tree, losing nothing on any input: every change is checked
// against what is on disk and every new version staged and verified before
// DIR changes, the commit is journaled renames that a second run finishes,
// and the result is verified against the archive's tree hash.
//
// # The phases of Apply
//
// Apply reads the archive once, as a stream, and holds no step in memory:
// the steps go to a log in the staging directory and are read back from it.
//
//	openWorkspace  create DIR/.ibt-patch, take its lock, empty stage/,
//	               read the journal an interrupted run left     [journal.go]
//	read           check every change against DIR and stage     [check.go,
//	               its new version under stage/, hashed against  stage.go,
//	               the archive; append the step to the step log  steplog.go]
//	predict        hash the tree the commit will leave (DIR      [predict.go]
//	               merged with the steps) and refuse a mismatch
//	               with the archive's tree hash before anything
//	               in DIR changes
//	claim          flush the staged files to disk, write the     [journal.go]
//	               journal: from here on a failure is finished
//	               by the next run, not undone
//	commit         three passes over the step log: place in      [commit.go]
//	               path order, remove deepest first, give modes
//	               and mtimes deepest first
//	topMeta        give DIR the owner and xattrs the archive     [apply.go]
//	               records for it
//	finish         flush the tree, remove the journal and        [journal.go]
//	               stage/, give DIR its mode and mtime
//	verify         walk DIR merged with the step log, compare    [verify.go]
//	               its tree hash with the archive's, write the
//	               known file
//
// With Options.Only the read passes over what the patterns do not select,
// reads the archive a second time for content a selected file shares with
// one outside the selection, and checks the tree hash of the archive's
// entries instead of predict's; verify then checks DIR entry by entry
// (only.go).
//
// A failure before the commit starts (claim included) leaves DIR as it
// was: the workspace is removed (or, if it held an interrupted journal,
// only stage/). A failure or a kill after claim keeps the journal; the
// next run with the same archive finds each change already applied by its
// hash, and refuses any other archive. A dry run does read and predict only, with the step log in
// the system's temporary directory, and touches nothing in DIR.
//
// A directory the archive creates where DIR has nothing is staged whole,
// with everything the archive creates below it, and placed by one rename
// (stageTree in stage.go): a full restore into an empty DIR costs a
// rename a top-level entry, not one a file. The small files below such a
// directory are made by the stage writer, a goroutine of their own, while
// the archive is read on; the reading still checks each one's length and
// hash, and every step reaches the step log through the writer, in order
// (stagewriter.go).
//
// Reading a file is the cost to avoid: a file is taken as unchanged without
// reading it when the known file (the last verified run's hashes, in the
// user's cache directory; known.go) or the archive's old entries
// (recorded.go) vouch for its device, inode, size, mtime and ctime. An
// update of a large file costs its change where DIR's filesystem shares
// extents: the staged file starts as a clone of the old version and only
// what differs is written (clone.go); elsewhere it is written in one pass,
// hashed on all cores as it goes (hashwrite.go), and on Linux flushed to
// disk as it goes, a flush chunk at a time on a goroutine of its own, so
// that the flush before the commit waits for its last piece only
// (sparse.go; a flush that fails fails the run, as the claim's would),
// while the old version's page cache, which the rename would free, is
// dropped. Either way the
// new version is verified before its rename, and an old version nothing
// vouches for is hashed with the leaves it shares with the new one
// (baseleaves.go).
//
// # The files under DIR/.ibt-patch
//
// The workspace sits in DIR so that the commit is renames on one
// filesystem. After a run that succeeded it is gone; it outlives only an
// interrupted run. Paths are relative to DIR/.ibt-patch.
//
//	file              written by                read by          removed by
//	lock              openWorkspace (flock or   a second run,    close, abandon
//	                  LockFileEx)               which refuses    (with the workspace)
//	                                            to wait
//	stage/            openWorkspace, emptied    -                finish, abandon
//	                  on every run
//	stage/<n>         stage: the verified new   commit           commit (renamed over
//	                  version of change n; a                     its path), finish
//	                  directory staged whole
//	                  holds every entry the
//	                  archive creates below it
//	                  (stageTree)
//	stage/steps       read: one record a step   commit, verify   finish (verify reads
//	                  in path order                              the open file)
//	stage/steps.off   read: each record's       stepLog.find:    finish
//	                  offset                    copies, links,
//	                                            directory checks
//	stage/kept        read: mtimes of the       -                claim (renamed to
//	                  directories the archive                    kept); finish in a
//	                  does not describe                          resumed run
//	stage/placed      commit: lstat of each     verify           finish (verify reads
//	                  file after its rename                      the open file)
//	stage/ctime-probe ctimesReal: does the      ctimesReal       ctimesReal, at once
//	                  filesystem keep ctimes?
//	stage/fresh-probe freshFile: the owner and  freshFile        freshFile, at once
//	                  mode a new file gets
//	stage/archive     Options.Only, from a pipe: readAgain         unlinked at once
//	                  a copy of the archive
//	kept              claim (from stage/kept)   commit, and      finish
//	                                            finish's flush
//	sources/<hex>     read, before claim: a     stage of a       finish (and
//	                  hard link to the old      resumed run      openWorkspace,
//	                  version of a file the                      without a
//	                  archive copies and                         journal)
//	                  rewrites (sources.go)
//	journal           claim, by a rename of     the next run's   finish
//	journal.tmp       journal.tmp, after the    openWorkspace;
//	                  staged files are flushed  a dry run
//	verified          predict: hashes of the    verify           close, abandon
//	verified.tmp      files the archive leaves                   (with the workspace)
//	                  alone
//
// The known file is not here but in Options.KnownDir (ibt/ in the user's
// cache directory for ibt-patch), named known-<first 16 bytes of the
// SHA-256 of DIR's absolute path, in hex>: written by verify once the tree
// hash matched (through known-<hex>.tmp and a rename), read by the checks,
// predict and verify of the next run, removed by --no-cache (--no-known). A patched DIR
// thus holds exactly the archive's tree and nothing of ibt's.
//
// The journal lists no operations: the archive is the plan. It keeps what
// the archive cannot give back: which archive was being committed, and
// DIR's mtime before the commit (the other directories' are in kept).
package patch
