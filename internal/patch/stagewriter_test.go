package patch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// enospcWriter fails every write, after a pause.
type enospcWriter struct{ pause time.Duration }

func (e enospcWriter) Write(p []byte) (int, error) {
	time.Sleep(e.pause)
	return 0, &os.PathError{Op: "write", Path: "staged", Err: syscall.ENOSPC}
}

// TestStageWriterReportsTheFirstFailure: the stage writer's makers take
// batches as they come, but the failure reported is the first in path
// order, and DIR is left as it was. The first failure is slow to come, so
// that another maker fails a later file first.
func TestStageWriterReportsTheFirstFailure(t *testing.T) {
	tree := tr{"d": dir()}
	for i := range 400 {
		tree[fmt.Sprintf("d/f%03d", i)] = file(fmt.Sprintf("content %d\n", i))
	}
	full := makeArchive(t, tr{}, tree)
	// in the second batch and the fourth (batchSteps files each)
	failing := map[string]time.Duration{"d/f070": 300 * time.Millisecond, "d/f200": 0}
	faults.write = func(p string, w io.Writer) io.Writer {
		if pause, ok := failing[p]; ok {
			return enospcWriter{pause}
		}
		return w
	}
	defer func() { faults.write = nil }()
	for i := range 3 {
		d := filepath.Join(t.TempDir(), fmt.Sprint(i))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		err := refused(t, d, full, nil, "d/f070")
		if !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("error %q does not say the disk is full", err)
		}
	}
}
