//go:build linux || darwin || freebsd || openbsd || netbsd

package tree

import "syscall"

const openFlags = syscall.O_NONBLOCK
