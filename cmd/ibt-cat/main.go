// Command ibt-cat is one of the ibt incremental backup filters; see
// 'ibt-cat --help' and the project's README.
package main

import (
	"os"

	"github.com/ibt-tools/ibt/internal/cli"
)

func main() { os.Exit(cli.Main("ibt-cat", os.Args[1:], cli.OSEnv())) }
