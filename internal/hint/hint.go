// Package hint attaches to an error the fix a user can apply, which the
// tools print on a line of its own after the error ("ibt-X: hint: ..."):
// the engines say what to do without knowing how it is shown.
package hint

// hintError is an error with a known fix.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// Hint returns the fix, which a command finds along an error's chain.
func (e *hintError) Hint() string { return e.hint }

// With returns err carrying hint; a nil err stays nil.
func With(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hint: hint}
}
