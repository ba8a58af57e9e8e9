package cli

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoNetworkCode keeps network code out of the tools: a backup tool has
// no use for it, and a dependency that brings net/http also brings a DNS
// resolver that links the C library when cgo is on.
func TestNoNetworkCode(t *testing.T) {
	if testing.Short() {
		t.Skip("lists the dependencies of every tool")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not installed")
	}
	out, err := exec.Command(goTool, "list", "-deps", "../../cmd/...").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		// net/url and net/netip are plain parsers; net is the resolver.
		switch pkg {
		case "net", "net/http", "crypto/tls":
			t.Errorf("the tools link %s", pkg)
		}
	}
}

// TestCLIWiresEngines keeps the algorithm and the walk out of this package:
// flags go to the engines, and the engines call internal/rsync and
// internal/tree.
func TestCLIWiresEngines(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not installed")
	}
	out, err := exec.Command(goTool, "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasSuffix(pkg, "/internal/rsync") || strings.HasSuffix(pkg, "/internal/tree") {
			t.Errorf("internal/cli imports %s", pkg)
		}
	}
}
