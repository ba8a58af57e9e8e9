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
	os.Exit(m.Run())
}
