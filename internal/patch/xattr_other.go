//go:build !linux

package patch

import (
	"os"

	"github.com/ibt-tools/ibt/format"
)

// Extended attributes are restored on Linux only: ibt-sign records Linux's
// namespaces (user.*, trusted.*, ...), which other systems name and guard
// differently. noteUnrestorable warns once when the archive holds some.
const xattrsRestored = false

func (a *applier) restorable(string) bool { return false }

func (a *applier) xattrsOnFd(*os.File, *format.Entry) error { return nil }

func (a *applier) syncXattrs(string, *format.Entry) error { return nil }

// xattrsEqual is true: attributes are neither read nor compared here.
func (a *applier) xattrsEqual(string, *format.Entry, *format.Entry) bool { return true }

func dropDefaultACL(*os.Root, string) {}
