package query

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// RFMRow is a group of Count customers with the same calibration summary
// and hold-out purchases, in days: X repeat purchase days (the first day
// with a purchase not counted; several purchases on one day are one),
// TX the days from the first to the last purchase day, T the days from
// the first purchase day to the calibration end, HX the purchase days in
// the hold-out period.
type RFMRow struct {
	X, TX, T, HX int64
	Count        int64
}

// RFMSummary is the per-customer summary of RunRFMSummary, grouped.
type RFMSummary struct {
	Rows []RFMRow
	// Spend holds, per repeat buyer, x and the mean value of the repeat
	// purchase days (the first day left out), grouped: the input of
	// Gamma-Gamma.
	Spend []SpendRow
	// Groups holds, per group of the request and (x, tx, T), the customers
	// and the sum of their mean repeat values (x > 0).
	Groups []GroupRFM
}

// SpendRow is a group of Count repeat buyers with X repeat days of mean
// value M.
type SpendRow struct {
	X     int64
	M     float64
	Count int64
}

// GroupRFM is a group's customers with one calibration summary.
type GroupRFM struct {
	Group    string
	X, TX, T int64
	Count    int64
	SumM     float64
}

// rfmSQL returns the query of the per-customer summary: the revenue
// facts before end, by customer and local purchase day, summarised per
// customer whose first purchase day is on or before calEnd, then grouped.
// part selects the output: "rfm" (x, tx, T, hx, count), "spend" (x, m,
// count) or "groups" (grp, x, tx, T, count, sum m).
func rfmSQL(d Dialect, biz *bowtie.Business, ps *params, calEnd time.Time, end time.Time, span [2]time.Time, by, part string) string {
	ctes := ltvBaseCTEs(d, biz, ps, end, span)
	pCal := ps.p("cal_end", calEnd)
	day := "CAST(" + localTime(d, "r.ts", biz.Location(), span[0], span[1]) + " AS DATE)"
	body := "-- query.RunRFMSummary\nWITH " + strings.Join(ctes, ",\n") + `,
	days AS (SELECT r.customer_id, ` + day + ` AS day, sum(r.amount) AS amount FROM rev r WHERE r.amount > 0 GROUP BY ALL),
	per AS (SELECT customer_id, min(day) AS first,
		count(*) FILTER (WHERE day <= ` + pCal + `) - 1 AS x,
		max(day) FILTER (WHERE day <= ` + pCal + `) AS last,
		count(*) FILTER (WHERE day > ` + pCal + `) AS hx,
		sum(amount) FILTER (WHERE day <= ` + pCal + `) - arg_min(amount, day) AS repeat_value
		FROM days GROUP BY customer_id HAVING min(day) <= ` + pCal + `),
	s AS (SELECT p.customer_id, p.x, CAST(p.last - p.first AS BIGINT) AS tx, CAST(CAST(` + pCal + ` AS DATE) - p.first AS BIGINT) AS t, p.hx,
		CASE WHEN p.x > 0 THEN p.repeat_value / p.x END AS m FROM per p)`
	switch part {
	case "spend":
		return body + "\nSELECT x, m, count(*) FROM s WHERE x > 0 GROUP BY ALL"
	case "groups":
		return body + "\nSELECT " + ltvGroupExpr(by, "c") + " AS grp, s.x, s.tx, s.t, count(*), coalesce(sum(s.m), 0) FROM s JOIN cust c ON c.customer_id = s.customer_id GROUP BY ALL"
	}
	return body + "\nSELECT x, tx, t, hx, count(*) FROM s GROUP BY ALL"
}

// RunRFMSummary computes the per-customer frequency, recency and age of
// every customer whose first purchase day is on or before calEnd (a local
// date), and their purchase days after it up to end (exclusive instant),
// in the store, grouped by identical values. by (channel, campaign,
// cohort or "") sets the groups of Groups; withGroups false leaves
// Groups empty.
func RunRFMSummary(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, calEnd, end time.Time, by string, withGroups bool) (*RFMSummary, error) {
	out := &RFMSummary{}
	span, err := dataSpan(ctx, db, end)
	if err != nil {
		return nil, err
	}
	var ps params
	rs, err := db.QueryContext(ctx, rfmSQL(d, biz, &ps, calEnd, end, span, by, "rfm"), ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: rfm summary: %w", err)
	}
	for rs.Next() {
		var r RFMRow
		if err := rs.Scan(&r.X, &r.TX, &r.T, &r.HX, &r.Count); err != nil {
			rs.Close()
			return nil, fmt.Errorf("query: rfm summary: %w", err)
		}
		out.Rows = append(out.Rows, r)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("query: rfm summary: %w", err)
	}
	ps = params{}
	rs, err = db.QueryContext(ctx, rfmSQL(d, biz, &ps, calEnd, end, span, by, "spend"), ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: rfm summary: %w", err)
	}
	for rs.Next() {
		var r SpendRow
		if err := rs.Scan(&r.X, &r.M, &r.Count); err != nil {
			rs.Close()
			return nil, fmt.Errorf("query: rfm summary: %w", err)
		}
		out.Spend = append(out.Spend, r)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("query: rfm summary: %w", err)
	}
	if !withGroups {
		return out, nil
	}
	ps = params{}
	rs, err = db.QueryContext(ctx, rfmSQL(d, biz, &ps, calEnd, end, span, by, "groups"), ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: rfm summary: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var r GroupRFM
		if err := rs.Scan(&r.Group, &r.X, &r.TX, &r.T, &r.Count, &r.SumM); err != nil {
			return nil, fmt.Errorf("query: rfm summary: %w", err)
		}
		out.Groups = append(out.Groups, r)
	}
	return out, rs.Err()
}
