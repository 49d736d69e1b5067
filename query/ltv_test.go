package query_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

// ltvNow is the clock of the ltv_small.sql cases.
var ltvNow = time.Date(2024, 4, 15, 12, 0, 0, 0, time.UTC)

func ltvNear(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func ltvNearP(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %v", what, want)
		return
	}
	ltvNear(t, what, *got, want)
}

// TestRunHistoricalLTV checks the cohort × month matrix against the hand
// computation in testdata/ltv_small.sql: cumulative revenue and gross
// profit per customer, the default margin for an order without one, ended
// months only, orders after the clock and unpaid orders ignored.
func TestRunHistoricalLTV(t *testing.T) {
	s := openWith(t, "ltv_small.sql")
	biz := business(t, "preset: b2c\n")
	ctx := context.Background()
	res, err := query.RunHistoricalLTV(ctx, s.DB(), query.DuckDB{}, biz, query.LTVRequest{By: "cohort", Now: ltvNow, Months: 6})
	if err != nil {
		t.Fatal(err)
	}
	type cell struct{ rev, gp float64 }
	want := map[string][]cell{
		// Jan: p1 (100, gp 60; Feb 50 with the default 70 % = 35) and p2 (40, gp 20).
		"2024-01": {{70, 40}, {95, 57.5}, {95, 57.5}},
		"2024-02": {{300, 150}, {310, 155}},
		"2024-03": {{30, 15}},
	}
	if len(res.Rows) != 3 {
		t.Fatalf("rows %+v", res.Rows)
	}
	for _, r := range res.Rows {
		w := want[r.Cohort]
		if len(r.Cells) != len(w) {
			t.Errorf("cohort %s: %d months, want %d (ended months only)", r.Cohort, len(r.Cells), len(w))
			continue
		}
		for m, c := range r.Cells {
			ltvNear(t, r.Cohort+" revenue", c.Revenue, w[m].rev)
			ltvNear(t, r.Cohort+" gross profit", c.GrossProfit, w[m].gp)
		}
	}
	// Customer-weighted over the cohorts that reached month N.
	tot := res.Totals[0].Cells
	wantTot := []cell{{(140 + 300 + 30) / 4.0, (80 + 150 + 15) / 4.0}, {(190 + 310) / 3.0, 90}, {95, 57.5}}
	if len(tot) != 3 {
		t.Fatalf("totals %+v", tot)
	}
	for m, c := range tot {
		ltvNear(t, "total revenue", c.Revenue, wantTot[m].rev)
		ltvNear(t, "total gross profit", c.GrossProfit, wantTot[m].gp)
	}
	ltvNear(t, "default margin share", res.DefaultMarginShare, 50.0/550)

	byCh, err := query.RunHistoricalLTV(ctx, s.DB(), query.DuckDB{}, biz, query.LTVRequest{By: "channel", Now: ltvNow, Months: 6})
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]int64{}
	for _, r := range byCh.Totals {
		groups[r.Group] = r.Customers
	}
	if groups["Paid Social"] != 2 || groups["Organic Search"] != 1 || groups["Unassigned"] != 1 || len(groups) != 3 {
		t.Errorf("channels %v", groups)
	}
	if _, err := query.RunHistoricalLTV(ctx, s.DB(), query.DuckDB{}, biz, query.LTVRequest{By: "plan", Now: ltvNow}); err == nil {
		t.Error("by plan: no error")
	}
}

// TestRunFormulaLTV checks ARPA × margin ÷ churn on the two-month window
// Feb-Mar 2024 of testdata/ltv_small.sql: p1 stays (50), p2 churns in Feb
// (40), p3 contracts in Mar (100 → 60), p4's trial and its annual plan
// starting mid-March are not at a month start.
func TestRunFormulaLTV(t *testing.T) {
	s := openWith(t, "ltv_small.sql")
	ctx := context.Background()
	for _, c := range []struct {
		basis            string
		churn, ltv, psLT float64
	}{
		// 4 customer-months, 1 churned; MRR 240; margin (100+50+5+15)/(200+100+10+30) = 0.5.
		{"customers", 0.25, 60 * 0.5 / 0.25, (140.0 / 3) * 0.5 / (1.0 / 3)},
		// MRR lost: p2's 40 and p3's contraction 40, of 240.
		{"mrr", 80.0 / 240, 60 * 0.5 / (80.0 / 240), (140.0 / 3) * 0.5 / (40.0 / 140)},
	} {
		biz := business(t, "preset: b2c\nltv: {window_months: 2, churn_basis: "+c.basis+"}\n")
		res, err := query.RunFormulaLTV(ctx, s.DB(), query.DuckDB{}, biz, query.LTVRequest{By: "channel", Now: ltvNow})
		if err != nil {
			t.Fatal(err)
		}
		if res.Window != [2]string{"2024-02", "2024-03"} {
			t.Errorf("window %v", res.Window)
		}
		tot := res.Total
		if tot.CustomerMonths != 4 || tot.Churned != 1 {
			t.Errorf("%s: customer-months %d churned %d, want 4 and 1", c.basis, tot.CustomerMonths, tot.Churned)
		}
		ltvNearP(t, c.basis+" ARPA", tot.ARPA, 60)
		ltvNear(t, c.basis+" margin", tot.Margin, 0.5)
		ltvNearP(t, c.basis+" churn", tot.Churn, c.churn)
		ltvNearP(t, c.basis+" LTV", tot.LTV, c.ltv)
		for _, r := range res.Rows {
			switch r.Group {
			case "Paid Social":
				ltvNearP(t, c.basis+" Paid Social LTV", r.LTV, c.psLT)
			case "Organic Search":
				if c.basis == "customers" && r.LTV != nil {
					t.Errorf("Organic Search: no churn, LTV %v, want none", *r.LTV)
				}
			}
		}
	}
}
