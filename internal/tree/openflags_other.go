//go:build !(linux || darwin || freebsd)

package tree

const openFlags = 0
