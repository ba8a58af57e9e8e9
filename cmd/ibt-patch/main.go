// Command ibt-patch is one of the ibt incremental backup filters; see
// 'ibt-patch --help' and the project's README.
package main

import (
	"os"

	"github.com/ibt-tools/ibt/internal/cli"
)

func main() { os.Exit(cli.Main("ibt-patch", os.Args[1:], cli.OSEnv())) }
