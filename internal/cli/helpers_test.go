package cli

import (
	"bytes"
	"testing"

	"github.com/ibt-tools/ibt/internal/streamtest"
)

// indexOf and readAll build an index of entries and read a whole stream.
var indexOf, readAll = streamtest.Index, streamtest.Records

// runToolCode runs one tool in process and returns its exit code, standard
// output and standard error.
func runToolCode(t *testing.T, name string, stdin []byte, args ...string) (int, []byte, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdin: bytes.NewReader(stdin), Stdout: &out, Stderr: &errb, IsTerminal: func(any) bool { return false }}
	code := Main(name, args, env)
	return code, out.Bytes(), errb.String()
}
