package format

import "os"

// TempFile is a temporary file for spooling a stream or an archive's delta
// that does not fit in memory. Its name is removed as soon as it is made,
// where the system allows it (not on Windows), so that nothing is left
// behind however the process ends.
type TempFile struct {
	*os.File
	name string // set while the file still has a name to remove
}

// CreateTempFile creates a TempFile in dir (the system's temporary
// directory if "") as os.CreateTemp does with pattern.
func CreateTempFile(dir, pattern string) (*TempFile, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	t := &TempFile{File: f}
	if os.Remove(f.Name()) != nil {
		t.name = f.Name()
	}
	return t, nil
}

// Close closes the file and removes its name if it still has one.
func (t *TempFile) Close() error {
	err := t.File.Close()
	if t.name != "" {
		os.Remove(t.name)
		t.name = ""
	}
	return err
}
