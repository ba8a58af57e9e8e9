// Command ibt-pack is one of the ibt incremental backup filters; see
// 'ibt-pack --help' and the project's README.
package main

import (
	"os"

	"github.com/ibt-tools/ibt/internal/cli"
)

func main() { os.Exit(cli.Main("ibt-pack", os.Args[1:], cli.OSEnv())) }
