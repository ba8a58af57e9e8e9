//go:build !unix

package streamtest

import (
	"testing"
	"time"
)

// CPUTime is 0 where there is no getrusage.
func CPUTime() time.Duration { return 0 }

// ReportCPU reports nothing where there is no CPU time.
func ReportCPU(*testing.B, time.Duration, int64) {}
