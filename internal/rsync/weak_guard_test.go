//go:build amd64 && !purego && linux

package rsync

import (
	"syscall"
	"testing"
)

// TestWeakAVX2ReadsNoFurther puts every input right before a page that
// cannot be read, so a load past the end of the slice faults.
func TestWeakAVX2ReadsNoFurther(t *testing.T) {
	skipNoAVX2(t)
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[page:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	copy(mem, randBytes(67, page))
	for n := 0; n <= 300; n++ {
		p := mem[page-n : page]
		if got, want := weakUpdateAVX2(1, p), weakUpdateGeneric(1, p); got != want {
			t.Fatalf("AVX2 sum of the last %d bytes of a page = %#08x, want %#08x", n, got, want)
		}
	}
}
