//go:build unix

package streamtest

import (
	"syscall"
	"testing"
	"time"
)

// CPUTime returns the process's user+system CPU time. Benchmarks report
// throughput per CPU second too, which stays meaningful on a shared machine
// where wall-clock MB/s depends on what else runs.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ReportCPU reports "cpu-MB/s": bytes per op times b.N over the CPU time
// since start.
func ReportCPU(b *testing.B, start time.Duration, bytesPerOp int64) {
	if d := CPUTime() - start; d > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
	}
}
