package patch

import (
	"os"
	"testing"
)

// powerLossEnv, set in the environment of a crash test's ibt-patch, makes
// it flush to disk, announcing each syncfs with the xattr the power-loss
// filesystem watches (powerloss_linux_test.go).
const powerLossEnv = "IBT_PATCH_POWERLOSS"

func TestMain(m *testing.M) {
	// only the power-loss tests' subprocesses flush to disk
	faults.noSync = os.Getenv(powerLossEnv) == ""
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	dir, err := os.MkdirTemp("", "ibt-patch-known-")
	if err != nil {
		panic(err)
	}
	testKnownDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
