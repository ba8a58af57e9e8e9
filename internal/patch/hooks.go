package patch

import (
	"io"
	"os"
	"time"
)

// faults lets the package's tests inject failures; all are zero otherwise.
var faults struct {
	// write wraps the writer of each staged file (a full disk, say).
	write func(path string, w io.Writer) io.Writer
	// commitStep runs after each step of the commit (a kill, say).
	commitStep func()
	// read, if set, is told of each file whose content is read to hash
	// it (as a base, a file to check, or to verify the tree).
	read func(path string)
	// noSync skips the syncfs calls, which only matter for a power loss
	// (a killed process loses nothing in the page cache) and which cost
	// seconds on a busy shared disk.
	noSync bool
	// syncfs, if set, stands for the syncfs system call: a FUSE
	// filesystem never hears of syncfs (see internal/powerloss).
	syncfs func() error
	// flush, if set, stands for each flush of a staged file started while
	// it is written (see sparseWriter.flush), which noSync otherwise
	// turns off.
	flush func(f *os.File) error
	// later, added to the clock, lets a test's archive say its old index
	// was made after the files it wrote (see recordedCutoff).
	later time.Duration
}
