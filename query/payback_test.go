package query_test

import (
	"context"
	"testing"

	"github.com/bowtie-analytics/bowtie/query"
)

// TestRunPayback checks CAC, monthly gross profit, payback months, the
// cohort payback month and the ROAS curves on testdata/ltv_small.sql
// against the hand computation (clock 2024-04-15; cohorts Jan-Mar 2024).
func TestRunPayback(t *testing.T) {
	s := openWith(t, "ltv_small.sql")
	biz := business(t, "preset: b2c\n")
	ctx := context.Background()
	req := query.PaybackRequest{By: "channel", From: date("2024-01-01"), To: date("2024-03-31"), Now: ltvNow, Months: 6}
	res, err := query.RunPayback(ctx, s.DB(), query.DuckDB{}, biz, req)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]query.PaybackRow{}
	for _, r := range res.Rows {
		rows[r.Group] = r
	}
	ps := rows["Paid Social"]
	// Spend 300 + 100 (tools excluded), 2 customers (p1, p2 in January).
	ltvNear(t, "Paid Social spend", ps.Spend, 400)
	ltvNearP(t, "Paid Social CAC", ps.CAC, 200)
	// Jan cohort gross profit in months 0-2: 80 + 35 + 0 over 2 × 3 customer-months.
	ltvNearP(t, "Paid Social monthly GP", ps.MonthlyGP, 115.0/6)
	ltvNearP(t, "Paid Social payback", ps.PaybackMonths, 200/(115.0/6))
	if ps.CohortPaybackMonth != nil {
		t.Errorf("Paid Social paid back in month %d, want not yet", *ps.CohortPaybackMonth)
	}
	if len(ps.Curve) != 3 {
		t.Fatalf("Paid Social curve %+v", ps.Curve)
	}
	// Month 2 is observed by January only (spend 300, revenue 190).
	for m, w := range []struct {
		cohorts    int
		spend, rev float64
	}{{2, 400, 140}, {2, 400, 190}, {1, 300, 190}} {
		c := ps.Curve[m]
		if c.Cohorts != w.cohorts {
			t.Errorf("curve month %d: %d cohorts, want %d", m, c.Cohorts, w.cohorts)
		}
		ltvNear(t, "curve spend", c.Spend, w.spend)
		ltvNear(t, "curve revenue", c.Revenue, w.rev)
		ltvNearP(t, "curve ROAS", c.ROAS, w.rev/w.spend)
	}
	ltvNearP(t, "Paid Social historical LTV", ps.LTV["historical"], 57.5)
	ltvNearP(t, "Paid Social LTV:CAC", ps.LTVToCAC["historical"], 57.5/200)
	if d := rows["Display"]; d.CAC != nil || d.Spend != 80 {
		t.Errorf("Display: spend %v CAC %v, want 80 and none", d.Spend, d.CAC)
	}
	ltvNear(t, "total spend", res.Total.Spend, 480)
	ltvNearP(t, "total CAC", res.Total.CAC, 120)
	ltvNearP(t, "total monthly GP", res.Total.MonthlyGP, 285.0/9)

	// By acquisition month: February's spend (100) is paid back by p3's
	// gross profit in month 0 (150).
	res, err = query.RunPayback(ctx, s.DB(), query.DuckDB{}, biz, query.PaybackRequest{By: "cohort", From: date("2024-01-01"), To: date("2024-03-31"), Now: ltvNow, Months: 6})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		switch r.Group {
		case "2024-02":
			ltvNearP(t, "Feb CAC", r.CAC, 100)
			if r.CohortPaybackMonth == nil || *r.CohortPaybackMonth != 0 {
				t.Errorf("Feb cohort payback %v, want month 0", r.CohortPaybackMonth)
			}
			ltvNearP(t, "Feb monthly GP", r.MonthlyGP, 155.0/2)
		case "2024-01":
			if r.CohortPaybackMonth != nil {
				t.Errorf("Jan paid back in month %d, want not yet", *r.CohortPaybackMonth)
			}
		}
	}
}
