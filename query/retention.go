package query

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
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
	for _, f := range [...][2]string{{"cohort_event", req.CohortEvent}, {"cohort_stage", req.CohortStage}, {"return", req.ReturnEvent}} {
		if err := checkText(f[0], f[1]); err != nil {
			return nil, err
		}
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
		last, err := LastDataDate(ctx, db, d, biz, time.Now())
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
	if err := retentionRun(ctx, db, d, biz, req, start, end, out); err != nil {
		return nil, err
	}
	return out, nil
}

// retentionRun runs the retention query, which reads the events once, and
// fills out's cohorts, totals (sums of the cohorts' cells, overall first,
// then per group) and headline (overall, then per group).
func retentionRun(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req RetentionRequest, start, end time.Time, out *Retention) error {
	q, args, err := buildRetentionSQL(d, biz, req, req.By, start, end)
	if err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("query: retention: %w", err)
	}
	defer rows.Close()
	newRow := func(g, cohort string, periods int) *RetentionRow {
		r := &RetentionRow{Group: g, Cohort: cohort, Cells: make([]RetentionCell, periods+1)}
		for j := range r.Cells {
			r.Cells[j].N = j
		}
		return r
	}
	cohorts := map[[2]string]*RetentionRow{}
	heads := map[string]*RetentionRow{}
	for rows.Next() {
		var kind, g string
		var c sql.NullTime
		var n int
		var size, elig, ret int64
		if err := rows.Scan(&kind, &g, &c, &n, &size, &elig, &ret); err != nil {
			return fmt.Errorf("query: retention: %w", err)
		}
		var r *RetentionRow
		if kind == "c" {
			k := [2]string{g, c.Time.Format(time.DateOnly)}
			if r = cohorts[k]; r == nil {
				r = newRow(k[0], k[1], req.Periods)
				cohorts[k] = r
			}
		} else {
			if r = heads[g]; r == nil {
				r = newRow(g, "", 30)
				heads[g] = r
			}
		}
		r.Size = size
		r.Cells[n] = RetentionCell{N: n, Eligible: elig, Retained: ret}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query: retention: %w", err)
	}
	// Cohorts by group, then date; totals and the headline overall, then
	// per group.
	keys := make([][2]string, 0, len(cohorts))
	for k := range cohorts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	sum := func(dst, src *RetentionRow) {
		dst.Size += src.Size
		for j := 1; j < len(src.Cells); j++ {
			dst.Cells[j].Eligible += src.Cells[j].Eligible
			dst.Cells[j].Retained += src.Cells[j].Retained
		}
	}
	var totals []*RetentionRow
	total := map[string]*RetentionRow{}
	for _, k := range keys {
		c := cohorts[k]
		out.Cohorts = append(out.Cohorts, *c)
		groups := []string{""}
		if req.By != "" {
			groups = append(groups, k[0])
		}
		for _, g := range groups {
			t := total[g]
			if t == nil {
				t = newRow(g, "", req.Periods)
				total[g] = t
				totals = append(totals, t)
			}
			sum(t, c)
		}
	}
	slices.SortStableFunc(totals, func(a, b *RetentionRow) int {
		if (a.Group == "") != (b.Group == "") {
			if a.Group == "" {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Group, b.Group)
	})
	for _, t := range totals {
		out.Totals = append(out.Totals, *t)
	}
	if len(cohorts) > 0 {
		var hs []*RetentionRow
		if req.By == "" {
			if h := heads[""]; h != nil {
				hs = append(hs, h)
			}
		} else {
			all := newRow("", "", 30)
			hs = append(hs, all)
			gs := make([]string, 0, len(heads))
			for g := range heads {
				gs = append(gs, g)
			}
			sort.Strings(gs)
			for _, g := range gs {
				sum(all, heads[g])
				hs = append(hs, heads[g])
			}
		}
		for _, h := range hs {
			out.Headline = append(out.Headline, RetentionHeadline{Group: h.Group, D1: h.Cells[1], D7: h.Cells[7], D30: h.Cells[30]})
		}
	}
	rate := func(rs []RetentionRow) {
		for i := range rs {
			r := &rs[i]
			r.Cells[0] = RetentionCell{Eligible: r.Size, Retained: r.Size}
			for j := range r.Cells {
				r.Cells[j].Rate = div(float64(r.Cells[j].Retained), float64(r.Cells[j].Eligible))
			}
		}
	}
	rate(out.Cohorts)
	rate(out.Totals)
	for i := range out.Headline {
		h := &out.Headline[i]
		for _, c := range []*RetentionCell{&h.D1, &h.D7, &h.D30} {
			c.Rate = div(float64(c.Retained), float64(c.Eligible))
		}
	}
	return nil
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

// buildRetentionSQL returns the retention query. It reads the events once:
// every return event of a cohort member becomes its interval N in the
// grain and its day D (both from the member's start, rolling or
// calendar), reduced to one row per member and N with whether D 1, 7 or
// 30 was among them. From those rows come the cohort cells (kind 'c': group,
// cohort, N, size, eligible, retained) and the D1/D7/D30 headline cells
// (kind 'h': group, NULL, D, ...); the eligible counts come from each
// member's last observable interval (and day) before AsOf.
func buildRetentionSQL(d Dialect, biz *bowtie.Business, req RetentionRequest, by string, start, end time.Time) (string, []any, error) {
	var ps params
	loc := biz.Location()
	// Literals, not parameters: DuckDB pushes constant filters into the scan.
	pStart, pEnd, pAsOf := timestampLiteral(start), timestampLiteral(end), timestampLiteral(req.AsOf)
	lo, hi := start.AddDate(0, 0, -1), req.AsOf.AddDate(0, 0, 1)
	var first string
	if req.CohortEvent != "" {
		lit, err := stringLiteral("cohort_event", req.CohortEvent)
		if err != nil {
			return "", nil, err
		}
		first = "SELECT person_id AS id, min(ts) AS t0 FROM events WHERE person_id IS NOT NULL AND name = " + lit + " GROUP BY 1"
	} else {
		lit, err := stringLiteral("cohort_stage", req.CohortStage)
		if err != nil {
			return "", nil, err
		}
		first = "SELECT entity_id AS id, min(ts) AS t0 FROM stage_changes WHERE entity_type = 'person' AND stage = " + lit + " GROUP BY 1"
	}
	ret := "e.type IN ('track', 'page', 'screen')"
	if req.ReturnEvent != "" {
		lit, err := stringLiteral("return", req.ReturnEvent)
		if err != nil {
			return "", nil, err
		}
		ret = "e.name = " + lit
	}
	// lastOf returns, for a grain, the member's last interval wholly before
	// AsOf and the expression of its cohort bucket.
	lastOf := func(grain string) (last, bucket string, err error) {
		cb, err := d.Bucket(grain, localTime(d, "t0", loc, lo, hi))
		if err != nil {
			return "", "", err
		}
		if req.Rolling {
			return fmt.Sprintf("(date_diff('second', t0, %s) // %d - 1)", pAsOf, grainSeconds[grain]), cb, nil
		}
		ab := ps.p("asof_"+grain, localBucket(grain, req.AsOf, loc))
		col := map[string]string{"day": "cd", "week": "cw", "month": "cm"}[grain]
		return "(" + bucketDiff(grain, col, "CAST("+ab+" AS DATE)") + " - 1)", cb, nil
	}
	last, cb, err := lastOf(req.Grain)
	if err != nil {
		return "", nil, err
	}
	dlast, db, err := lastOf("day")
	if err != nil {
		return "", nil, err
	}
	col := map[string]string{"day": "cd", "week": "cw", "month": "cm"}[req.Grain]
	buckets := cb + " AS " + col
	if req.Grain != "day" {
		buckets += ", " + db + " AS cd"
	}
	bd, err := resolveBreakdown("person", by, "x.id")
	if err != nil {
		return "", nil, err
	}
	P := req.Periods
	facts := fmt.Sprintf("bitstring_agg(n, 1, %d) FILTER (WHERE n BETWEEN 1 AND %d) AS bits, bitstring_agg(dn, 1, 30) FILTER (WHERE dn BETWEEN 1 AND 30) AS dbits", P, P)
	factCols := "u.bits, u.dbits"
	if req.Mode == "on_or_after" {
		facts = "max(n) AS maxn, max(dn) AS dmax"
		factCols = "CASE WHEN u.maxn >= 1 THEN u.maxn END AS maxn, coalesce(u.dmax, -1) AS dmax"
	}
	retainedC := "count(*) FILTER (WHERE p.n <= m.last AND m.n = p.n)"
	retainedH := "count(*) FILTER (WHERE x.dlast >= p.n AND x.dbits IS NOT NULL AND get_bit(x.dbits, CAST(p.n - 1 AS INTEGER)) = 1)"
	if req.Mode == "on_or_after" {
		retainedH = "count(*) FILTER (WHERE x.dlast >= p.n AND x.dmax >= p.n)"
	}
	// An event's interval and day, computed from one expression per event
	// (b): its day since the member's start day (calendar) or its seconds
	// since t0 (rolling). The grain's interval follows from b: a calendar
	// week is (days from the cohort week's Monday to the start day + b) // 7.
	var base, nExpr, dnExpr string
	if req.Rolling {
		base = "date_diff('second', coh.t0, e.ts)"
		dnExpr = "(b // 86400)"
		nExpr = fmt.Sprintf("(b // %d)", grainSeconds[req.Grain])
	} else {
		base = "date_diff('day', coh.cd, CAST(" + localTime(d, "e.ts", loc, lo, hi) + " AS DATE))"
		dnExpr = "b"
		switch req.Grain {
		case "week":
			nExpr = "((date_diff('day', cw, cd) + b) // 7)"
		case "month":
			nExpr = "date_diff('month', cm, cd + CAST(b AS INTEGER))"
		default:
			nExpr = "b"
		}
	}
	q := "-- query.RunRetention\nWITH " + acquisitionCTEs + ",\n" +
		"first AS (" + first + "),\n" +
		"coh0 AS (SELECT id, t0, " + buckets + " FROM first WHERE t0 >= " + pStart + " AND t0 < " + pEnd + " AND t0 < " + pAsOf + "),\n" +
		"coh AS (SELECT *, " + col + " AS c, " + last + " AS last, " + dlast + " AS dlast FROM coh0),\n" +
		// One row per member: in "on" mode the intervals 1..P and the days
		// 1..30 with a return as bit strings (bit N-1 for N); in
		// "on_or_after" mode the last interval and day with a return.
		"u AS (SELECT id, " + facts + " FROM (SELECT id, " + nExpr + " AS n, " + dnExpr + " AS dn FROM (SELECT coh.*, " + base + " AS b" +
		" FROM events e JOIN coh ON coh.id = e.person_id WHERE " + ret + " AND e.ts >= coh.t0 AND e.ts < " + pAsOf + ")) GROUP BY 1),\n" +
		"x AS MATERIALIZED (SELECT x.id, x.c, x.last, x.dlast, " + factCols + ", " + bd.expr + " AS g" +
		" FROM coh x LEFT JOIN u ON u.id = x.id" + bd.joins + "),\n"
	// member selects the rows of m that stand for members (all of them in
	// on_or_after mode; in "on" mode those with n = -1).
	member := "m.n = -1"
	if req.Mode == "on_or_after" {
		// Retained in N when some return is in N or later: one row per
		// member with the earlier of its last return interval and its last
		// interval, or -1.
		q += "m AS (SELECT g, c, last, CASE WHEN maxn IS NULL THEN -1 ELSE least(maxn, last) END AS n, count(*) AS cnt FROM x GROUP BY ALL)\n"
		retainedC = "sum(cnt) FILTER (WHERE p.n <= m.last AND m.n >= p.n)"
		member = "true"
	} else {
		// Retained in N when a return is in N: the members (n = -1) and,
		// per interval 1..P up to their last, those with a return in it.
		q += "m AS (SELECT g, c, last, -1 AS n, count(*) AS cnt FROM x GROUP BY ALL" +
			fmt.Sprintf(" UNION ALL SELECT x.g, x.c, x.last, r.n, count(*) FROM x CROSS JOIN range(1, %d) r(n)", P+1) +
			" WHERE x.bits IS NOT NULL AND r.n <= x.last AND get_bit(x.bits, CAST(r.n - 1 AS INTEGER)) = 1 GROUP BY ALL)\n"
		retainedC = "sum(cnt) FILTER (WHERE m.n = p.n)"
	}
	q += "SELECT 'c' AS kind, m.g, m.c, p.n, coalesce(sum(cnt) FILTER (WHERE " + member + "), 0) AS size," +
		" coalesce(sum(cnt) FILTER (WHERE p.n <= m.last AND " + member + "), 0) AS eligible, coalesce(" + retainedC + ", 0) AS retained" +
		fmt.Sprintf(" FROM m CROSS JOIN range(1, %d) p(n) GROUP BY ALL\n", P+1) +
		"UNION ALL SELECT 'h', x.g, NULL::DATE, p.n, count(*), count(*) FILTER (WHERE x.dlast >= p.n), " + retainedH +
		" FROM x CROSS JOIN (VALUES (1), (7), (30)) p(n) GROUP BY ALL"
	return q, ps.args, nil
}
