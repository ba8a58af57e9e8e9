package cli

import (
	"fmt"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	cmds := map[string]func(){}
	for _, name := range Tools() {
		cmds[name] = func() { os.Exit(Main(name, os.Args[1:], OSEnv())) }
	}
	testscript.Main(m, cmds)
}

// TestScripts runs the end-to-end scripts in testdata/scripts: each is one
// behaviour of the tools, as a user would run them in a shell.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/scripts",
		RequireExplicitExec: true,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"listtree": listTree, "cijob": ciJob, "mkspecial": mkSpecial},
		// [root]: running as root, who can give owners and make devices
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(e *testscript.Env) error {
			e.Setenv("GOCOVERDIR", os.Getenv("GOCOVERDIR"))
			// ibt-patch keeps its known files in the user's cache directory
			e.Setenv("XDG_CACHE_HOME", e.WorkDir+"/.cache")
			return nil
		},
	})
}
