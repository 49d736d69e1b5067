package query_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

// TestRunRFMSummary_BruteForce compares the store's per-customer summary
// (x, tx, T, hold-out purchase days, mean repeat value) on random orders
// with a Go reference computed order by order.
func TestRunRFMSummary_BruteForce(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		s := openWith(t, "")
		biz := business(t, "preset: b2c\n")
		calEnd := time.Date(2024, 9, 30, 0, 0, 0, 0, time.UTC)
		end := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		type order struct {
			ts     time.Time
			amount float64
			paid   bool
		}
		orders := map[string][]order{}
		var vals []string
		for c := 0; c < 150; c++ {
			id := fmt.Sprintf("c%03d", c)
			for k := 0; k < 1+rng.IntN(8); k++ {
				o := order{ts: start.Add(time.Duration(rng.IntN(400*24*60)) * time.Minute), amount: float64(1+rng.IntN(20000)) / 100, paid: rng.IntN(10) > 0}
				if rng.IntN(6) == 0 && len(orders[id]) > 0 { // same day as an earlier order
					prev := orders[id][0].ts
					o.ts = time.Date(prev.Year(), prev.Month(), prev.Day(), rng.IntN(24), 0, 0, 0, time.UTC)
				}
				orders[id] = append(orders[id], o)
				status := "paid"
				if !o.paid {
					status = "refunded"
				}
				vals = append(vals, fmt.Sprintf("('o%d-%d', '%s', '%s', %.2f, 'USD', '%s')", c, k, id, o.ts.Format("2006-01-02 15:04:05"), o.amount, status))
			}
		}
		if _, err := s.DB().Exec("INSERT INTO orders (order_id, customer_id, ts, amount, currency, status) VALUES " + strings.Join(vals, ",")); err != nil {
			t.Fatal(err)
		}
		// Reference.
		want := map[query.RFMRow]int64{}
		spend := map[string]int64{}
		for _, os := range orders {
			byDay := map[time.Time]float64{}
			for _, o := range os {
				if o.paid && o.ts.Before(end) {
					d := time.Date(o.ts.Year(), o.ts.Month(), o.ts.Day(), 0, 0, 0, 0, time.UTC)
					byDay[d] += o.amount
				}
			}
			var days []time.Time
			for d := range byDay {
				days = append(days, d)
			}
			if len(days) == 0 {
				continue
			}
			sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
			if days[0].After(calEnd) {
				continue
			}
			var r query.RFMRow
			var rep float64
			for i, d := range days {
				if d.After(calEnd) {
					r.HX++
					continue
				}
				if i > 0 {
					r.X++
					rep += byDay[d]
				}
				r.TX = int64(d.Sub(days[0]).Hours() / 24)
			}
			r.T = int64(calEnd.Sub(days[0]).Hours() / 24)
			want[r]++
			if r.X > 0 {
				spend[fmt.Sprintf("%d/%.6f", r.X, rep/float64(r.X))]++
			}
		}
		got, err := query.RunRFMSummary(context.Background(), s.DB(), query.DuckDB{}, biz, calEnd, end, "", false)
		if err != nil {
			t.Fatal(err)
		}
		gotRows := map[query.RFMRow]int64{}
		for _, r := range got.Rows {
			n := r.Count
			r.Count = 0
			gotRows[r] += n
		}
		if len(gotRows) != len(want) {
			t.Errorf("seed %d: %d distinct summaries, want %d", seed, len(gotRows), len(want))
		}
		for r, n := range want {
			if gotRows[r] != n {
				t.Errorf("seed %d: summary %+v: %d customers, want %d", seed, r, gotRows[r], n)
			}
		}
		gotSpend := map[string]int64{}
		for _, r := range got.Spend {
			gotSpend[fmt.Sprintf("%d/%.6f", r.X, math.Round(r.M*1e6)/1e6)] += r.Count
		}
		for k, n := range spend {
			if gotSpend[k] != n {
				t.Errorf("seed %d: repeat value %s: %d, want %d", seed, k, gotSpend[k], n)
			}
		}
	}
}
