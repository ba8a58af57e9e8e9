//go:build !linux

package tree

// xattrReader records no extended attributes on this system: their
// namespaces and calls differ from Linux's, and ibt restores only Linux's.
type xattrReader struct{}

func newXattrReader() *xattrReader { return &xattrReader{} }

// XattrScope is "": a walk records no extended attributes here.
func XattrScope() string { return "" }

func (x *xattrReader) read(dirHandle, string, string, string) ([]Xattr, error) { return nil, nil }

// ReadXattrs returns no attributes on this system; see Options.Xattrs.
func ReadXattrs(string) ([]Xattr, error) { return nil, nil }

// ReadXattrsAt returns no attributes on this system; see Options.Xattrs.
func ReadXattrsAt(int, string) ([]Xattr, error) { return nil, nil }
