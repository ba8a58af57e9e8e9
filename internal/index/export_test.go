package index

// SetTestHookReading sets the hook called with a file's path as its content
// is about to be read, for tests of the tools that play a program writing
// to the file meanwhile; nil removes it.
func SetTestHookReading(f func(path string)) { testHookReading = f }
