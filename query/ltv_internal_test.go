package query

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
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

// Without a hold-out (end at the end of calEnd's day) the summary's SQL
// leaves out the filters on calEnd and, without a breakdown, takes Groups
// from kind 0; it must give exactly the summary of the general SQL, run by
// ending a microsecond later (no order falls in that microsecond).
func TestRFMSummary_NoHoldoutPath(t *testing.T) {
	s, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 3))
	var b strings.Builder
	b.WriteString("INSERT INTO orders (order_id, customer_id, ts, amount, currency, status) VALUES ")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		ts := start.Add(time.Duration(rng.IntN(300*24*60)) * time.Minute)
		fmt.Fprintf(&b, "('o%d', 'c%d', '%s', %d.%02d, 'USD', 'paid')", i, rng.IntN(400), ts.Format(time.DateTime), 1+rng.IntN(300), rng.IntN(100))
	}
	if _, err := s.DB().Exec(b.String()); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "bowtie.yaml")
	os.WriteFile(cfg, []byte("preset: b2c\n"), 0o644)
	biz, err := bowtie.LoadBusiness(cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	calEnd := time.Date(2024, 8, 31, 0, 0, 0, 0, time.UTC)
	end := time.Date(2024, 9, 1, 0, 0, 0, 0, biz.Location())
	for _, by := range []string{"", "cohort", "channel"} {
		var ps params
		if _, fromRows := rfmSQL(DuckDB{}, biz, &ps, calEnd, end, [2]time.Time{start, end}, by, true, false); fromRows != (by == "") {
			t.Errorf("by %q: fromRows %v", by, fromRows)
		}
		fast, err := RunRFMSummary(context.Background(), s.DB(), DuckDB{}, biz, calEnd, end, by, true)
		if err != nil {
			t.Fatal(err)
		}
		general, err := RunRFMSummary(context.Background(), s.DB(), DuckDB{}, biz, calEnd, end.Add(time.Microsecond), by, true)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, general) {
			t.Errorf("by %q: rows %d/%d, spend %d/%d, groups %d/%d differ", by, len(fast.Rows), len(general.Rows), len(fast.Spend), len(general.Spend), len(fast.Groups), len(general.Groups))
		}
		if len(fast.Groups) == 0 || len(fast.Spend) == 0 {
			t.Errorf("by %q: empty summary", by)
		}
	}
}
