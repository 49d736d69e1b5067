package query

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// RetentionRequest asks for cohort retention of people.
type RetentionRequest struct {
	// CohortEvent (an events.name) or CohortStage (a person stage in
	// stage_changes) starts a person's cohort at its first occurrence ever;
	// give exactly one.
	CohortEvent, CohortStage string
	// ReturnEvent is the events.name that counts as coming back; empty
	// means any track, page or screen event.
	ReturnEvent string
	// Grain is day (default), week or month: the cohort bucket and the
	// length of an interval.
	Grain string
	// Periods is the last interval N shown (default 30 days, 12 weeks or
	// 12 months); at most 400.
	Periods int
	// Mode is "on" (default: came back in interval N) or "on_or_after"
	// (came back in interval N or any later one).
	Mode string
	// Rolling cuts intervals as multiples of 24 hours (7 days, 30 days)
	// from each person's own cohort instant instead of calendar days
	// (weeks, months) in the business time zone.
	Rolling bool
	// From and To bound the cohorts: local calendar dates, inclusive, of
	// the first occurrence.
	From, To time.Time
	// AsOf ends the observation (exclusive instant): interval N counts for
	// a person only once it has ended by AsOf, and return events at or
	// after AsOf are ignored. Zero means the end of the last local day with
	// data.
	AsOf time.Time
	// By is a breakdown: channel, source, campaign or person.COLUMN /
	// account.COLUMN (the person's account).
	By string
}

// Retention is the result of RunRetention.
type Retention struct {
	CohortEvent string `json:"cohort_event,omitempty"`
	CohortStage string `json:"cohort_stage,omitempty"`
	ReturnEvent string `json:"return_event"`
	Grain       string `json:"grain"`
	Periods     int    `json:"periods"`
	Mode        string `json:"mode"`
	Rolling     bool   `json:"rolling"`
	From        string `json:"from"`
	To          string `json:"to"`
	AsOf        string `json:"as_of"`
	TimeZone    string `json:"time_zone"`
	By          string `json:"by"`
	// Cohorts holds one row per breakdown value and cohort bucket.
	Cohorts []RetentionRow `json:"cohorts"`
	// Totals holds one row per breakdown value over all cohorts (Cohort
	// empty), the whole population first (Group empty).
	Totals []RetentionRow `json:"totals"`
	// Headline holds day 1, 7 and 30 (in days, with the same mode and
	// interval kind) per row of Totals.
	Headline []RetentionHeadline `json:"headline"`
}

// RetentionRow is one line of the retention matrix.
type RetentionRow struct {
	Group  string `json:"group"`
	Cohort string `json:"cohort"` // the bucket's first day, 2006-01-02
	Size   int64  `json:"size"`
	// Cells[N] is interval N (Cells[0] is the cohort itself).
	Cells []RetentionCell `json:"cells"`
}

// RetentionCell is interval N of a row: Retained of the Eligible people
// (those whose interval N had ended by AsOf) came back; Rate is their
// ratio, nil when none is eligible.
type RetentionCell struct {
	N        int      `json:"n"`
	Eligible int64    `json:"eligible"`
	Retained int64    `json:"retained"`
	Rate     *float64 `json:"rate"`
}

// RetentionHeadline is the D1/D7/D30 summary of one group.
type RetentionHeadline struct {
	Group string        `json:"group"`
	D1    RetentionCell `json:"d1"`
	D7    RetentionCell `json:"d7"`
	D30   RetentionCell `json:"d30"`
}

const maxRetentionPeriods = 400

// RunRetention computes the retention matrix, its totals and the
// D1/D7/D30 headline (docs/metrics.md, "Retention"). Errors:
// *bowtie.Error with EINVALID for a bad request.
func RunRetention(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req RetentionRequest) (*Retention, error) {
	if (req.CohortEvent == "") == (req.CohortStage == "") {
		return nil, bowtie.Errorf(bowtie.EINVALID, "give exactly one of a cohort event or a cohort stage")
	}
	if req.Grain == "" {
		req.Grain = "day"
	}
	def := map[string]int{"day": 30, "week": 12, "month": 12}
	if _, ok := def[req.Grain]; !ok {
		return nil, bowtie.Errorf(bowtie.EINVALID, "grain: %q must be day, week or month", req.Grain)
	}
	if req.Periods == 0 {
		req.Periods = def[req.Grain]
	}
	if req.Periods < 1 || req.Periods > maxRetentionPeriods {
		return nil, bowtie.Errorf(bowtie.EINVALID, "periods: %d must be between 1 and %d", req.Periods, maxRetentionPeriods)
	}
	if req.Mode == "" {
		req.Mode = "on"
	}
	if req.Mode != "on" && req.Mode != "on_or_after" {
		return nil, bowtie.Errorf(bowtie.EINVALID, "mode: %q must be on or on_or_after", req.Mode)
	}
	start, end, err := localBounds(biz, req.From, req.To)
	if err != nil {
		return nil, err
	}
	if req.AsOf.IsZero() {
		last, err := LastDataDate(ctx, db, d, biz)
		if err != nil {
			return nil, err
		}
		req.AsOf = time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, biz.Location())
	}
	if _, err := resolveBreakdown("person", req.By, "x.id"); err != nil {
		return nil, err
	}
	out := &Retention{CohortEvent: req.CohortEvent, CohortStage: req.CohortStage, ReturnEvent: req.ReturnEvent, Grain: req.Grain,
		Periods: req.Periods, Mode: req.Mode, Rolling: req.Rolling, From: civil(req.From).Format(time.DateOnly), To: civil(req.To).Format(time.DateOnly),
		AsOf: req.AsOf.UTC().Format(time.RFC3339), TimeZone: biz.TimeZone, By: req.By,
		Cohorts: []RetentionRow{}, Totals: []RetentionRow{}, Headline: []RetentionHeadline{}}
	if out.Cohorts, err = retentionRows(ctx, db, d, biz, req, req.By, true, start, end); err != nil {
		return nil, err
	}
	if out.Totals, err = retentionRows(ctx, db, d, biz, req, "", false, start, end); err != nil {
		return nil, err
	}
	if req.By != "" {
		groups, err := retentionRows(ctx, db, d, biz, req, req.By, false, start, end)
		if err != nil {
			return nil, err
		}
		out.Totals = append(out.Totals, groups...)
	}
	daily := req
	daily.Grain, daily.Periods = "day", 30
	heads, err := retentionRows(ctx, db, d, biz, daily, "", false, start, end)
	if err != nil {
		return nil, err
	}
	if req.By != "" {
		groups, err := retentionRows(ctx, db, d, biz, daily, req.By, false, start, end)
		if err != nil {
			return nil, err
		}
		heads = append(heads, groups...)
	}
	for _, h := range heads {
		out.Headline = append(out.Headline, RetentionHeadline{Group: h.Group, D1: h.Cells[1], D7: h.Cells[7], D30: h.Cells[30]})
	}
	return out, nil
}

// retentionRows runs the matrix query: one row per group (and cohort when
// split) with Periods+1 cells.
func retentionRows(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req RetentionRequest, by string, split bool, start, end time.Time) ([]RetentionRow, error) {
	q, args, err := buildRetentionSQL(d, biz, req, by, split, start, end)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query: retention: %w", err)
	}
	defer rows.Close()
	var out []RetentionRow
	idx := map[[2]string]int{}
	for rows.Next() {
		var g string
		var c sql.NullTime
		var n int
		var size, elig, ret int64
		if err := rows.Scan(&g, &c, &n, &size, &elig, &ret); err != nil {
			return nil, fmt.Errorf("query: retention: %w", err)
		}
		k := [2]string{g, ""}
		if c.Valid {
			k[1] = c.Time.Format(time.DateOnly)
		}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			r := RetentionRow{Group: g, Cohort: k[1], Size: size, Cells: make([]RetentionCell, req.Periods+1)}
			for j := range r.Cells {
				r.Cells[j].N = j
			}
			r.Cells[0] = RetentionCell{Eligible: size, Retained: size, Rate: div(float64(size), float64(size))}
			out = append(out, r)
		}
		out[i].Cells[n] = RetentionCell{N: n, Eligible: elig, Retained: ret, Rate: div(float64(ret), float64(elig))}
	}
	return out, rows.Err()
}

// grainSeconds is the length of a rolling interval.
var grainSeconds = map[string]int{"day": 86400, "week": 7 * 86400, "month": 30 * 86400}

// bucketDiff returns the number of whole grains from bucket start a to
// bucket start b (both DATEs).
func bucketDiff(grain, a, b string) string {
	switch grain {
	case "week":
		return fmt.Sprintf("(date_diff('day', %s, %s) // 7)", a, b)
	case "month":
		return fmt.Sprintf("date_diff('month', %s, %s)", a, b)
	}
	return fmt.Sprintf("date_diff('day', %s, %s)", a, b)
}

// localBucket returns the start of the grain bucket holding the instant t
// in loc, as a civil date.
func localBucket(grain string, t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	switch grain {
	case "week":
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case "month":
		return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}

// buildRetentionSQL returns the retention query. Columns: group, cohort
// (NULL unless split), N, cohort size, eligible, retained.
func buildRetentionSQL(d Dialect, biz *bowtie.Business, req RetentionRequest, by string, split bool, start, end time.Time) (string, []any, error) {
	var ps params
	loc := biz.Location()
	pStart, pEnd, pAsOf := ps.p("start", start), ps.p("end", end), ps.p("asof", req.AsOf.UTC())
	lo, hi := start.AddDate(0, 0, -1), req.AsOf.AddDate(0, 0, 1)
	var first string
	if req.CohortEvent != "" {
		first = "SELECT person_id AS id, min(ts) AS t0 FROM events WHERE person_id IS NOT NULL AND name = " + ps.p("cohort", req.CohortEvent) + " GROUP BY 1"
	} else {
		first = "SELECT entity_id AS id, min(ts) AS t0 FROM stage_changes WHERE entity_type = 'person' AND stage = " + ps.p("cohort", req.CohortStage) + " GROUP BY 1"
	}
	ret := "e.type IN ('track', 'page', 'screen')"
	if req.ReturnEvent != "" {
		ret = "e.name = " + ps.p("return", req.ReturnEvent)
	}
	cb, err := d.Bucket(req.Grain, localTime(d, "t0", loc, lo, hi))
	if err != nil {
		return "", nil, err
	}
	var last, offset string
	if req.Rolling {
		L := grainSeconds[req.Grain]
		last = fmt.Sprintf("(date_diff('second', t0, %s) // %d - 1)", pAsOf, L)
		offset = fmt.Sprintf("(date_diff('second', coh.t0, e.ts) // %d)", L)
	} else {
		ab := ps.p("asof_bucket", localBucket(req.Grain, req.AsOf, loc))
		last = "(" + bucketDiff(req.Grain, "c", "CAST("+ab+" AS DATE)") + " - 1)"
		eb, err := d.Bucket(req.Grain, localTime(d, "e.ts", loc, lo, hi))
		if err != nil {
			return "", nil, err
		}
		offset = bucketDiff(req.Grain, "coh.c", eb)
	}
	bd, err := resolveBreakdown("person", by, "x.id")
	if err != nil {
		return "", nil, err
	}
	retained := "list_contains(x.ns, p.n)"
	if req.Mode == "on_or_after" {
		retained = "x.maxn >= p.n"
	}
	cohort := "NULL::DATE"
	if split {
		cohort = "x.c"
	}
	q := "-- query.RunRetention\nWITH " + acquisitionCTEs + ",\n" +
		"first AS (" + first + "),\n" +
		"coh0 AS (SELECT id, t0, " + cb + " AS c FROM first WHERE t0 >= " + pStart + " AND t0 < " + pEnd + " AND t0 < " + pAsOf + "),\n" +
		"coh AS (SELECT id, t0, c, " + last + " AS last FROM coh0),\n" +
		"act AS (SELECT coh.id, " + offset + " AS n FROM events e JOIN coh ON coh.id = e.person_id WHERE " + ret +
		" AND e.ts >= coh.t0 AND e.ts < " + pAsOf + "),\n" +
		"u AS (SELECT id, max(n) AS maxn, list(DISTINCT n) AS ns FROM act WHERE n >= 1 GROUP BY id),\n" +
		"x AS (SELECT coh.*, u.maxn, u.ns FROM coh LEFT JOIN u ON u.id = coh.id)\n" +
		"SELECT " + bd.expr + " AS g, " + cohort + " AS cohort, p.n, count(*) AS size, count(*) FILTER (WHERE x.last >= p.n) AS eligible, " +
		"count(*) FILTER (WHERE x.last >= p.n AND coalesce(" + retained + ", false)) AS retained FROM x" + bd.joins +
		fmt.Sprintf(" CROSS JOIN range(1, %d) p(n)", req.Periods+1) +
		" GROUP BY g, cohort, p.n ORDER BY (g <> ''), g, cohort, p.n"
	return q, ps.args, nil
}
