// Command ibt-merge is one of the ibt incremental backup filters; see
// 'ibt-merge --help' and the project's README.
package main

import (
	"os"

	"github.com/ibt-tools/ibt/internal/cli"
)

func main() { os.Exit(cli.Main("ibt-merge", os.Args[1:], cli.OSEnv())) }
