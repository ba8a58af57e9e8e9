//go:build !amd64 || purego

package rsync

// weakUpdate extends the polynomial h by p (see weakUpdateGeneric).
func weakUpdate(h uint32, p []byte) uint32 {
	return weakUpdateGeneric(h, p)
}
