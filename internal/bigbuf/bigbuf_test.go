package bigbuf

import "testing"

type row struct {
	a uint64
	b int32
}

// TestSlice writes and reads back every element of small (heap) and large
// (mapped) buffers, which start zeroed.
func TestSlice(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 1 << 20} {
		s, free := Slice[row](n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("n=%d: len %d cap %d", n, len(s), cap(s))
		}
		for i := range s {
			if s[i] != (row{}) {
				t.Fatalf("n=%d: element %d not zero", n, i)
			}
			s[i] = row{uint64(i), int32(-i)}
		}
		for i := range s {
			if s[i].a != uint64(i) || s[i].b != int32(-i) {
				t.Fatalf("n=%d: element %d is %v", n, i, s[i])
			}
		}
		free()
	}
}
