package query

import "testing"

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
