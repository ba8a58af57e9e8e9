//go:build !linux

package patch

import "errors"

// makeSpecial makes the special file n at path: the tests make them on
// Linux only.
func makeSpecial(string, node) error { return errors.New("special files are made on Linux only") }
