package query

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/bowtie-analytics/bowtie/model/bgnbd"
)

// toCustomers merges adjacent equal (x, tx, T) rows of a sorted summary in
// one pass; it must give exactly what bgnbd.Collapse gives, sorted or not.
func TestToCustomers_Collapse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var rows []RFMRow
	for i := 0; i < 5000; i++ {
		x := rng.Int64N(5)
		tx := int64(0)
		if x > 0 {
			tx = 1 + rng.Int64N(30)
		}
		rows = append(rows, RFMRow{X: x, TX: tx, T: tx + rng.Int64N(10), HX: rng.Int64N(3), Count: 1 + rng.Int64N(4)})
	}
	ref := func(rows []RFMRow, unit float64) []bgnbd.Customer {
		var cs []bgnbd.Customer
		for _, r := range rows {
			cs = append(cs, bgnbd.Customer{X: float64(r.X), TX: float64(r.TX) / unit, T: float64(r.T) / unit, Count: float64(r.Count)})
		}
		return bgnbd.Collapse(cs)
	}
	for _, unit := range []float64{1, 7} {
		if got, want := toCustomers(rows, unit), ref(rows, unit); !reflect.DeepEqual(got, want) {
			t.Errorf("unsorted, unit %v: %d customers, Collapse %d", unit, len(got), len(want))
		}
		s := &RFMSummary{Rows: append([]RFMRow(nil), rows...)}
		s.sort()
		got, want := toCustomers(s.Rows, unit), ref(s.Rows, unit)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("sorted, unit %v: %d customers, Collapse %d", unit, len(got), len(want))
		}
		if len(got) == len(s.Rows) {
			t.Error("no duplicate (x, tx, T): the test does not test the merge")
		}
	}
}
