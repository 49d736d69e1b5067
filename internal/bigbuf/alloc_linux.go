package bigbuf

import "syscall"

// madvHugepage is MADV_HUGEPAGE.
const madvHugepage = 14

// hugeMin is the smallest buffer mapped on its own: smaller ones come
// from the Go heap.
const hugeMin = 4 << 20

// alloc maps n zeroed bytes and asks for huge pages (when the kernel
// refuses, as with transparent huge pages set to never, the mapping
// still works with small pages).
func alloc(n int) ([]byte, func()) {
	if n < hugeMin {
		return make([]byte, n), func() {}
	}
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n), func() {}
	}
	_ = syscall.Madvise(b, madvHugepage)
	return b, func() { _ = syscall.Munmap(b) }
}
