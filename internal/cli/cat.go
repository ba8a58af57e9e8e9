package cli

import (
	"fmt"

	"github.com/ibt-tools/ibt/internal/show"
)

const catHelp = `Print any ibt stream (index, diff, delta) or archive as JSON lines, one
record a line, header and trailer included, for jq and for people. A name
that is not valid UTF-8 is printed with U+FFFD in "path" and exactly, in
base64, in "path_base64".

Example:
  ibt-cat v2.diff | jq -r 'select(.op == "update") | .path'
  ibt-cat --summary v2.tar.gz`

type catCmd struct {
	commonFlags
	Input   string `arg:"" optional:"" default:"-" placeholder:"FILE" help:"The stream or archive to print ('-', the default, for standard input)."`
	Summary bool   `help:"Print counts and byte totals as a table instead of the records."`
	Data    bool   `help:"Include literal data and content (base64) in the records."`
}

func (k *catCmd) run(c *runContext) error {
	in, err := c.openInput(k.Input)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := show.Print(c.env.Stdout, in, show.Options{Summary: k.Summary, JSON: k.JSON, Data: k.Data}); err != nil {
		return fmt.Errorf("failed to read %q: %w", displayName(k.Input), err)
	}
	return nil
}

// addString sets a JSON field to a name, exactly (see show.AddString).
var addString = show.AddString
