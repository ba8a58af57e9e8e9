// Package patch applies an ibt archive to a directory so that it becomes the
// archive's new tree, losing nothing on any input: every change is checked
// against what is on disk and every new version staged and verified before
// DIR changes, the commit is journaled renames that a second run finishes,
// and the result is verified against the archive's tree hash.
package patch
