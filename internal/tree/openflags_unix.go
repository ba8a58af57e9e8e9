//go:build linux || darwin || freebsd

package tree

import "syscall"

const openFlags = syscall.O_NONBLOCK
