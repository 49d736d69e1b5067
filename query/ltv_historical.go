package query

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// LTVRequest asks for lifetime value by one of the methods.
type LTVRequest struct {
	// Model is historical, formula, sbg or bgnbd.
	Model string
	// By is channel, campaign or cohort (the acquisition month); empty:
	// everything together (historical: cohort).
	By string
	// Now is the clock ("today"); the observation ends at the end of
	// today in the business time zone. Zero: time.Now().
	Now time.Time
	// Months is the last month since acquisition shown by the historical
	// matrix (default ltv.horizon_months).
	Months int
	// Interval is the billing interval whose subscriptions sBG fits:
	// month (default) or year.
	Interval string
}

// LTVAssumptions are the settings and definitions behind a figure,
// printed beside it.
type LTVAssumptions struct {
	Currency      string  `json:"currency"`
	AsOf          string  `json:"as_of"` // the last day observed
	DiscountRate  float64 `json:"discount_rate"`
	HorizonMonths int     `json:"horizon_months"`
	DefaultMargin float64 `json:"default_margin"`
	// Margin says which gross margin was used.
	Margin string `json:"margin"`
	// Notes holds the other definitions in words.
	Notes []string `json:"notes"`
}

// HistoricalCell is month N since acquisition of a cohort: cumulative
// revenue and gross profit per customer up to and including month N.
type HistoricalCell struct {
	Month       int     `json:"month"`
	Customers   int64   `json:"customers"` // customers whose month N has ended
	Revenue     float64 `json:"revenue_per_customer"`
	GrossProfit float64 `json:"gross_profit_per_customer"`
}

// HistoricalRow is one cohort of one group (Cohort "" is the group's
// customer-weighted average over the cohorts that have reached month N).
type HistoricalRow struct {
	Group     string           `json:"group"`
	Cohort    string           `json:"cohort"`
	Customers int64            `json:"customers"`
	Cells     []HistoricalCell `json:"cells"`
}

// HistoricalLTV is the historical lifetime value: the cohort × month-since
// matrix.
type HistoricalLTV struct {
	Model       string          `json:"model"`
	By          string          `json:"by"`
	Assumptions LTVAssumptions  `json:"assumptions"`
	Rows        []HistoricalRow `json:"rows"`
	Totals      []HistoricalRow `json:"totals"`
	// DefaultMarginShare is the share of revenue whose gross profit came
	// from ltv.default_margin (no gross_margin known).
	DefaultMarginShare float64 `json:"default_margin_share"`
}

// RunHistoricalLTV computes cumulative revenue and gross profit per
// customer by acquisition cohort and group, month by month since
// acquisition (month 0 is the acquisition month). A cohort's month N is
// shown once it has ended. Errors: EINVALID for a bad request or money
// without an exchange rate.
func RunHistoricalLTV(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req LTVRequest) (*HistoricalLTV, error) {
	if err := checkLTVBy(req.By); err != nil {
		return nil, err
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	months := req.Months
	if months == 0 {
		months = biz.LTV.HorizonMonths
	}
	if months < 0 || months > 240 {
		return nil, bowtie.Errorf(bowtie.EINVALID, "months: %d must be between 1 and 240", months)
	}
	asOf := asOfInstant(now, biz.Location())
	if err := checkRevenueFX(ctx, db, d, biz, asOf); err != nil {
		return nil, err
	}
	cells, totRev, defRev, err := historicalSums(ctx, db, d, biz, req.By, asOf, months)
	if err != nil {
		return nil, err
	}
	last := monthStart(now.In(biz.Location())) // the current month has not ended
	out := &HistoricalLTV{Model: "historical", By: req.By, Rows: []HistoricalRow{}, Totals: []HistoricalRow{}}
	if req.By == "" {
		out.By = "cohort"
	}
	if totRev != 0 {
		out.DefaultMarginShare = defRev / totRev
	}
	out.Assumptions = ltvAssumptions(biz, now)
	out.Assumptions.Margin = fmt.Sprintf("orders.gross_margin where known, else %.0f %% of revenue (ltv.default_margin): %.1f %% of revenue used the default", biz.LTV.DefaultMargin*100, out.DefaultMarginShare*100)
	out.Assumptions.Notes = append(out.Assumptions.Notes,
		"acquisition cohort: local month of the customer's first revenue (revenue_sources: "+strings.Join(biz.RevenueSources, ", ")+")",
		"month N since acquisition counts revenue in calendar month cohort+N; a cohort's month N is shown once it has ended",
		"figures are cumulative per customer of the cohort, undiscounted")
	keys := make([]histKey, 0, len(cells))
	for k := range cells {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].grp != keys[j].grp {
			return keys[i].grp < keys[j].grp
		}
		return keys[i].cohort.Before(keys[j].cohort)
	})
	type tot struct {
		n       []int64
		rev, gp []float64
		size    int64
	}
	totals := map[string]*tot{}
	var groups []string
	for _, k := range keys {
		a := cells[k]
		if a.n == 0 {
			continue
		}
		observed := min(monthIndex(k.cohort, last)-1, months)
		row := HistoricalRow{Group: k.grp, Cohort: k.cohort.Format("2006-01"), Customers: a.n, Cells: []HistoricalCell{}}
		t := totals[k.grp]
		if t == nil {
			t = &tot{n: make([]int64, months+1), rev: make([]float64, months+1), gp: make([]float64, months+1)}
			totals[k.grp] = t
			groups = append(groups, k.grp)
		}
		t.size += a.n
		var cr, cg float64
		for m := 0; m <= observed; m++ {
			cr += a.rev[m]
			cg += a.gp[m]
			row.Cells = append(row.Cells, HistoricalCell{Month: m, Customers: a.n, Revenue: round4(cr / float64(a.n)), GrossProfit: round4(cg / float64(a.n))})
			t.n[m] += a.n
			t.rev[m] += cr
			t.gp[m] += cg
		}
		out.Rows = append(out.Rows, row)
	}
	for _, g := range groups {
		t := totals[g]
		row := HistoricalRow{Group: g, Customers: t.size, Cells: []HistoricalCell{}}
		for m := 0; m <= months && t.n[m] > 0; m++ {
			row.Cells = append(row.Cells, HistoricalCell{Month: m, Customers: t.n[m], Revenue: round4(t.rev[m] / float64(t.n[m])), GrossProfit: round4(t.gp[m] / float64(t.n[m]))})
		}
		out.Totals = append(out.Totals, row)
	}
	return out, nil
}

// ltvAssumptions returns the settings every LTV method prints.
func ltvAssumptions(biz *bowtie.Business, now time.Time) LTVAssumptions {
	p := biz.LTV
	return LTVAssumptions{
		Currency: biz.Currency, AsOf: now.In(biz.Location()).Format(time.DateOnly), DiscountRate: p.DiscountRate,
		HorizonMonths: p.HorizonMonths, DefaultMargin: p.DefaultMargin, Notes: []string{},
	}
}

// histKey is one (group, cohort) of the historical matrix.
type histKey struct {
	grp    string
	cohort time.Time
}

// histAcc holds a cohort's size and its revenue and gross profit by month
// since acquisition (not cumulative).
type histAcc struct {
	n       int64
	rev, gp []float64
}

// historicalSums runs the historical query: customers per (group,
// cohort) and their revenue and gross profit per month since acquisition
// 0..months, with the total revenue and the revenue whose gross profit
// used the default margin. by "cohort" groups nothing (”).
func historicalSums(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, by string, asOf time.Time, months int) (map[histKey]*histAcc, float64, float64, error) {
	span, err := dataSpan(ctx, db, asOf)
	if err != nil {
		return nil, 0, 0, err
	}
	var ps params
	ctes := ltvBaseCTEs(d, biz, &ps, asOf, span)
	revMonth, _ := d.Bucket("month", localTime(d, "r.ts", biz.Location(), span[0], span[1]))
	grp := ltvGroupExpr(by, "c")
	if by == "cohort" {
		grp = "''"
	}
	q := "-- query.RunHistoricalLTV\nWITH " + strings.Join(ctes, ",\n") + `,
	facts AS (SELECT ` + grp + ` AS grp, c.cohort,
		(year(` + revMonth + `) * 12 + month(` + revMonth + `)) - (year(c.cohort) * 12 + month(c.cohort)) AS k,
		r.amount, r.gp, r.gm_known
		FROM rev r JOIN cust c ON c.customer_id = r.customer_id)
	SELECT grp, cohort, -1 AS k, CAST(count(*) AS DOUBLE), 0.0, 0.0, 0.0 FROM (SELECT ` + grp + ` AS grp, c.cohort FROM cust c) GROUP BY ALL
	UNION ALL
	SELECT grp, cohort, k, 0.0, ` + exactSum("amount", "") + `, ` + exactSum("gp", "") + `, ` + exactSum("amount", "NOT gm_known") + ` FROM facts
	WHERE k BETWEEN 0 AND ` + fmt.Sprint(months) + ` GROUP BY ALL
	ORDER BY ALL`
	rs, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("query: historical ltv: %w", err)
	}
	defer rs.Close()
	cells := map[histKey]*histAcc{}
	get := func(k histKey) *histAcc {
		a := cells[k]
		if a == nil {
			a = &histAcc{rev: make([]float64, months+1), gp: make([]float64, months+1)}
			cells[k] = a
		}
		return a
	}
	var totRev, defRev float64
	for rs.Next() {
		var k histKey
		var m int
		var n, rev, gp float64
		var def sql.NullFloat64
		if err := rs.Scan(&k.grp, &k.cohort, &m, &n, &rev, &gp, &def); err != nil {
			return nil, 0, 0, fmt.Errorf("query: historical ltv: %w", err)
		}
		a := get(k)
		if m < 0 {
			a.n = int64(n)
			continue
		}
		a.rev[m] += rev
		a.gp[m] += gp
		totRev += rev
		defRev += def.Float64
	}
	if err := rs.Err(); err != nil {
		return nil, 0, 0, fmt.Errorf("query: historical ltv: %w", err)
	}
	return cells, totRev, defRev, nil
}

// exactSum sums the numeric expression e (over the rows where filter
// holds, if not empty) as a decimal of 10 places, so the sum does not
// depend on the order DuckDB's threads add the rows in, and returns it as
// a DOUBLE.
func exactSum(e, filter string) string {
	f := ""
	if filter != "" {
		f = " FILTER (WHERE " + filter + ")"
	}
	return "CAST(sum(CAST(" + e + " AS DECIMAL(38,10)))" + f + " AS DOUBLE)"
}
