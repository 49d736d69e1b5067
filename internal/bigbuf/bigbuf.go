// Package bigbuf allocates large buffers of pointer-free values outside
// the Go heap, backed by transparent huge pages where the system allows.
//
// It exists for the event funnel's per-person pass, which fills hundreds
// of megabytes per query. On the VMs we measure on, the first touch of a
// 4 KiB page costs about 11 µs (a 240 MB buffer: 0.67 s to touch, every
// time the heap grows into memory the process had given back), while huge
// pages cost 0.43 s the first time and 0.015 s when the kernel reuses them
// (see BENCHMARKS.md). Elsewhere it is plain make.
package bigbuf

import "unsafe"

// Slice returns a zeroed slice of n values of T, with Free to release it.
// T must hold no pointers: the garbage collector does not scan the
// memory. Free must be called once, after the last use of the slice and
// of any slice sharing its memory.
func Slice[T any](n int) (s []T, free func()) {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if n <= 0 || size == 0 {
		return make([]T, max(n, 0)), func() {}
	}
	b, free := alloc(n * size)
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n), free
}
