package patch

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	faults.noSync = true
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
