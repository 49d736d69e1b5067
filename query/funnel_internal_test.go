package query

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestParseHistogram(t *testing.T) {
	b := make([]int64, len(DurationEdges))
	if err := parseHistogram("{0=3, 2=1, 9=12}", b); err != nil || b[0] != 3 || b[2] != 1 || b[9] != 12 || b[1] != 0 {
		t.Errorf("got %v, %v", b, err)
	}
	for _, bad := range []string{"{x=1}", "{10=1}", "{1}", "{1=2.5}"} {
		if err := parseHistogram(bad, make([]int64, len(DurationEdges))); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestSortFastRows compares the radix sort with a comparison sort on rows
// whose hashes are random, clustered in a few top-level buckets, or equal
// (one unit with many events), at sizes around the thresholds.
func TestSortFastRows(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 33, 1000, 100_000} {
		for _, kind := range []string{"random", "clustered", "few units"} {
			rows := make([]fastRow, n)
			for i := range rows {
				h := r.Uint64()
				switch kind {
				case "clustered":
					h = uint64(r.IntN(3))<<60 | uint64(r.IntN(50))
				case "few units":
					h = uint64(r.IntN(4)) * 0x9e3779b97f4a7c15
				}
				rows[i] = fastRow{h: h, t: int64(r.IntN(100)), mask: uint32(1 + r.IntN(8)), off: uint32(i)}
			}
			want := slices.Clone(rows)
			slices.SortStableFunc(want, cmpFastRows)
			got := sortFastRows(slices.Clone(rows), &fastBuffers{})
			if len(got) != len(want) {
				t.Fatalf("%s/%d: %d rows, want %d", kind, n, len(got), len(want))
			}
			for i := range got {
				// Rows equal under cmpFastRows may come in any order.
				if cmpFastRows(got[i], want[i]) != 0 {
					t.Fatalf("%s/%d: row %d is %+v, want %+v", kind, n, i, got[i], want[i])
				}
			}
			seen := map[uint32]bool{}
			for _, g := range got {
				seen[g.off] = true
			}
			if len(seen) != n {
				t.Fatalf("%s/%d: %d distinct rows out, want %d", kind, n, len(seen), n)
			}
		}
	}
}

// TestSelectRank checks every rank of random slices (with and without
// many equal values) against a sorted copy.
func TestSelectRank(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 15, 16, 17, 100, 1000} {
		for _, distinct := range []int{2, 10, 1 << 30} {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(r.IntN(distinct)) / 7
			}
			want := slices.Clone(xs)
			slices.Sort(want)
			for k := 0; k < n; k++ {
				s := slices.Clone(xs)
				selectRank(s, k)
				if s[k] != want[k] {
					t.Fatalf("n=%d distinct=%d: rank %d is %v, want %v", n, distinct, k, s[k], want[k])
				}
				for i := range s {
					if (i < k && s[i] > s[k]) || (i > k && s[i] < s[k]) {
						t.Fatalf("n=%d distinct=%d k=%d: s[%d]=%v on the wrong side of %v", n, distinct, k, i, s[i], s[k])
					}
				}
			}
			// quantilesOf against the sort-based interpolation.
			q := quantilesOf(xs)
			at := func(p float64) float64 {
				pos := p * float64(n-1)
				lo, hi := int(pos), int(pos+0.999999999)
				return want[lo] + (pos-float64(lo))*(want[hi]-want[lo])
			}
			for _, c := range []struct {
				got *float64
				p   float64
			}{{q.Median, 0.5}, {q.P75, 0.75}, {q.P90, 0.9}} {
				if w := at(c.p); *c.got-w > 1e-9 || w-*c.got > 1e-9 {
					t.Fatalf("n=%d distinct=%d: quantile %v is %v, want %v", n, distinct, c.p, *c.got, w)
				}
			}
		}
	}
}

// TestQuantilesOf_OrderIndependent checks that the per-person pass's
// figures do not depend on the order of the values, which follows the
// units' hash order and so changes from one process to the next.
func TestQuantilesOf_OrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 2; n <= 2000; n *= 3 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = secondsDays(0, int64(r.IntN(90*86400))*1e6)
		}
		want := quantilesOf(slices.Clone(xs))
		for range 20 {
			r.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
			got := quantilesOf(slices.Clone(xs))
			if *got.Mean != *want.Mean || *got.Median != *want.Median || *got.P90 != *want.P90 {
				t.Fatalf("n=%d: mean %v median %v p90 %v after a shuffle, %v %v %v before", n, *got.Mean, *got.Median, *got.P90, *want.Mean, *want.Median, *want.P90)
			}
		}
	}
}
