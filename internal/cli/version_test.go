package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersionText(t *testing.T) {
	info := func(version string, settings ...string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/ibt-tools/ibt", Version: version}}
			for i := 0; i+1 < len(settings); i += 2 {
				bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
			}
			return bi, true
		}
	}
	tests := []struct {
		read func() (*debug.BuildInfo, bool)
		want string
	}{
		{info("v0.3.0"), "ibt-sign v0.3.0 (built with go1.26.8; stream format 2)"},
		{info("(devel)"), "ibt-sign devel (built with go1.26.8; stream format 2)"},
		{info("v0.0.0-20261207124309-91f4adc0b1d2+dirty", "vcs.revision", "91f4adc0b1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6", "vcs.time", "2026-12-07T12:43:09Z", "vcs.modified", "true"),
			"ibt-sign v0.0.0-20261207124309-91f4adc0b1d2+dirty (commit 91f4adc0b1d2 of 2026-12-07T12:43:09Z, modified; built with go1.26.8; stream format 2)"},
		{func() (*debug.BuildInfo, bool) { return nil, false }, "ibt-sign devel (stream format 2)"},
	}
	for _, tt := range tests {
		if got := versionText("ibt-sign", tt.read); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}
