//go:build !(linux || darwin || freebsd || openbsd || netbsd)

package tree

const openFlags = 0
