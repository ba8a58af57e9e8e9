// Package tree reads a directory tree for ibt: Walk visits every file,
// directory and symlink below a root in bytewise order of their relative
// paths, so the index can be written as a sorted stream without holding the
// tree. OpenFile and Stat read single paths confined to an os.Root; Files
// opens many files in path order, keeping their directory open.
package tree
