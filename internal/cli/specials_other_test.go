//go:build !linux

package cli

import (
	"os"

	"github.com/rogpeppe/go-internal/testscript"
)

// mkSpecial is the testscript command that makes special files, on Linux
// only.
func mkSpecial(ts *testscript.TestScript, _ bool, _ []string) {
	ts.Fatalf("special files are made on Linux only")
}

// specialLine describes a special file for listtree.
func specialLine(os.FileInfo) string { return " special" }
