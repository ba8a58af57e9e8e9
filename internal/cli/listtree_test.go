package cli

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// listTree is the testscript command "listtree DIR": one line per path below
// DIR with what a user would compare after a restore — type, permission bits,
// size, mtime in nanoseconds, SHA-256 of the content, symlink target — so two
// trees are equal exactly when their listings are. The root itself is left
// out; anything ibt-patch left in DIR is listed.
func listTree(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: listtree DIR")
	}
	root := ts.MkAbs(args[0])
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		mode := fi.Mode()
		line := fmt.Sprintf("%s %04o", strconv.Quote(filepath.ToSlash(rel)), mode.Perm()|specialBits(mode))
		switch {
		case mode.IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" file %d %d %x", fi.Size(), fi.ModTime().UnixNano(), sha256.Sum256(data))
		case mode.IsDir():
			line += fmt.Sprintf(" dir %d", fi.ModTime().UnixNano())
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += " symlink -> " + strconv.Quote(target)
		default:
			line += specialLine(fi)
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		ts.Fatalf("listtree: %v", err)
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintln(ts.Stdout(), l)
	}
}

func specialBits(m fs.FileMode) fs.FileMode {
	var b fs.FileMode
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}
