package format

import (
	"errors"
	"strings"
)

// ValidPath reports whether p is acceptable as the path of an entry: a
// relative, slash-separated path that names something inside the tree. It
// refuses the empty path, absolute paths, NUL bytes, empty, "." and ".."
// components and a trailing slash, so that joining p to a directory can never
// leave that directory nor name it twice. Every reader of an ibt stream
// applies it; programs that take paths from elsewhere should too.
func ValidPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.IndexByte(p, 0) >= 0:
		return errors.New("path holds a NUL byte")
	case p[0] == '/':
		return errors.New("absolute path")
	case p[len(p)-1] == '/':
		return errors.New("trailing slash")
	}
	for rest := p; ; {
		comp, tail, more := strings.Cut(rest, "/")
		switch comp {
		case "":
			return errors.New("empty path component")
		case ".":
			return errors.New(`"." path component`)
		case "..":
			return errors.New(`".." path component`)
		}
		if !more {
			return nil
		}
		rest = tail
	}
}
