// Package powerloss is a filesystem for tests that loses power: a FUSE
// passthrough to a backing directory that records what each write, create,
// rename, unlink, mkdir, chmod and truncate left volatile, and on a cut
// keeps only what an fsync or a syncfs made durable. Only tests import it,
// and only on Linux.
//
// The model is the one POSIX promises and ext4 (data=ordered) keeps, with
// nothing ext4 gives beyond it (an fsync of one file committing every
// other change):
//
//   - A file's content and metadata (mode, owner, mtime) are durable once
//     it is fsynced, or the filesystem is synced; until then a cut leaves
//     what the last such flush saw, and a file created since is empty.
//   - Names (create, mkdir, symlink, mknod, link, unlink, rmdir, rename)
//     are durable once their directory is fsynced, or the filesystem
//     synced. A rename is atomic: an fsync of either directory makes it
//     durable in both, with the earlier changes of both, so that each
//     directory's changes stay in order. A symlink's or special file's
//     own state is made durable with its directory's fsync.
//   - syncfs never reaches a FUSE filesystem, so the process under test
//     announces it by setting the extended attribute SyncfsAttr on any
//     path of the mount (see the syncfs hooks of the programs tested).
//
// A cut may also keep some name changes past the durable ones, in order,
// as a journal that committed more than it had to would (Cut's survive):
// the content of the files they name is still only what was flushed.
// Extended attributes are passed through and not modelled: a cut keeps
// them as they are.
package powerloss
