package cli

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/ibt-tools/ibt/format"
)

// Version is the version of the ibt tools, as the Go build recorded it: the
// module's version when installed as a module (go install ...@v1.2.0), a
// pseudo-version naming the commit when built from a clone, or "devel" when
// the build recorded none (go run, tests). It is written into every stream's
// header.
var Version = buildVersion(debug.ReadBuildInfo)

func buildVersion(read func() (*debug.BuildInfo, bool)) string {
	bi, ok := read()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "devel"
	}
	return bi.Main.Version
}

// versionText is what --version prints: the version, and the commit and
// time of the build where the build recorded them.
func versionText(name string, read func() (*debug.BuildInfo, bool)) string {
	var extra []string
	if bi, ok := read(); ok {
		var rev, at string
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			c := "commit " + rev
			if at != "" {
				c += " of " + at
			}
			if modified {
				c += ", modified"
			}
			extra = append(extra, c)
		}
		if bi.GoVersion != "" {
			extra = append(extra, "built with "+bi.GoVersion)
		}
	}
	extra = append(extra, fmt.Sprintf("stream format %d", format.Version))
	return fmt.Sprintf("%s %s (%s)", name, buildVersion(read), strings.Join(extra, "; "))
}
