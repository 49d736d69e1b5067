package query

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/internal/rawscan"
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
	// Starts counts the customers by first purchase day and Repeats
	// their repeat purchase days by day (to end), for the tracking
	// check; filled with tracking only.
	Starts, Repeats []DayCount
}

// DayCount is a count on a local date.
type DayCount struct {
	Day   time.Time
	Count int64
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
// customer whose first purchase day is on or before calEnd, then grouped
// in one pass three ways (the grouping sets): kind 0 (x, tx, T, hx,
// count), kind 1 (x, m, count) for repeat buyers and, with groups, kind 2
// (grp, x, tx, T, count, sum m).
//
// When no purchase day can fall after calEnd (end is at most the end of
// calEnd's local day: the forecast's summary, without hold-out), the
// filters on calEnd are left out (they hold for every row, and hx is 0),
// and with groups but no breakdown kind 2 is not computed: its groups are
// then kind 0's, whose rows carry the same count and sum of m. fromRows
// reports that case: Groups are to be read from kind 0.
func rfmSQL(d Dialect, biz *bowtie.Business, ps *params, calEnd time.Time, end time.Time, span [2]time.Time, by string, groups, tracking bool) (q string, fromRows bool) {
	ctes := ltvBaseCTEs(d, biz, ps, end, span)
	pCal := ps.p("cal_end", calEnd)
	day := "CAST(" + localTime(d, "r.ts", biz.Location(), span[0], span[1]) + " AS DATE)"
	l := end.Add(-time.Microsecond).In(biz.Location())
	noHoldout := !time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC).After(calEnd.UTC())
	per := `per AS (SELECT customer_id, min(day) AS first,
		count(*) FILTER (WHERE day <= ` + pCal + `) - 1 AS x,
		max(day) FILTER (WHERE day <= ` + pCal + `) AS last,
		count(*) FILTER (WHERE day > ` + pCal + `) AS hx,
		sum(amount) FILTER (WHERE day <= ` + pCal + `) - arg_min(amount, day) AS repeat_value
		FROM days GROUP BY customer_id HAVING min(day) <= ` + pCal + `)`
	if noHoldout {
		per = `per AS (SELECT customer_id, min(day) AS first, count(*) - 1 AS x, max(day) AS last, CAST(0 AS BIGINT) AS hx,
		sum(amount) - arg_min(amount, day) AS repeat_value FROM days GROUP BY customer_id)`
	}
	body := "-- query.RunRFMSummary\nWITH " + strings.Join(ctes, ",\n") + `,
	days AS (SELECT r.customer_id, ` + day + ` AS day, sum(CAST(r.amount AS DECIMAL(38,10))) AS amount FROM rev r WHERE r.amount > 0 GROUP BY ALL),
	` + per + `,
	s AS (SELECT p.customer_id, p.first, p.x, CAST(p.last - p.first AS BIGINT) AS tx, CAST(CAST(` + pCal + ` AS DATE) - p.first AS BIGINT) AS t, p.hx,
		CASE WHEN p.x > 0 THEN p.repeat_value / p.x END AS m FROM per p)`
	grp, from, sets := "''", "s", "(s.x, s.tx, s.t, s.hx), (s.x, s.m)"
	if groups {
		// The group comes from the summary itself (cohort: the month of
		// the first purchase day, the customer's acquisition) and the
		// small acquisition table, not from cust (a second pass over the
		// revenue facts).
		switch by {
		case "channel", "campaign":
			grp, from = "coalesce(a."+by+", "+map[string]string{"channel": "'Unassigned'", "campaign": "'(not set)'"}[by]+")", "s LEFT JOIN acq a ON a.id = s.customer_id"
		case "cohort":
			grp = "strftime(s.first, '%Y-%m')"
		}
		if fromRows = noHoldout && by == ""; !fromRows {
			sets += ", (" + grp + ", s.x, s.tx, s.t)"
		}
	}
	q = body + "\nSELECT CAST(CASE WHEN grouping(s.hx) = 0 THEN 0 WHEN grouping(s.m) = 0 THEN 1 ELSE 2 END AS BIGINT) AS kind, " + grp +
		" AS grp, s.x, s.tx, s.t, s.hx, s.m, count(*), coalesce(" + exactSum("s.m", "") + ", 0), NULL::DATE AS day FROM " + from + " GROUP BY GROUPING SETS (" + sets + ")"
	if tracking {
		// Starts by first day; repeat purchase days (after the first) of
		// the calibration customers by day.
		q += "\nUNION ALL SELECT 3, '', NULL, NULL, NULL, NULL, NULL, count(*), 0, first FROM per GROUP BY first" +
			"\nUNION ALL SELECT 4, '', NULL, NULL, NULL, NULL, NULL, count(*), 0, d.day FROM days d JOIN per p ON p.customer_id = d.customer_id WHERE d.day > p.first GROUP BY d.day"
	}
	return q, fromRows
}

// RunRFMSummary computes the per-customer frequency, recency and age of
// every customer whose first purchase day is on or before calEnd (a local
// date), and their purchase days after it up to end (exclusive instant),
// in the store, grouped by identical values. by (channel, campaign,
// cohort or "") sets the groups of Groups; withGroups false leaves
// Groups empty.
func RunRFMSummary(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, calEnd, end time.Time, by string, withGroups bool) (*RFMSummary, error) {
	return rfmSummary(ctx, db, d, biz, calEnd, end, by, withGroups, false)
}

// rfmSummary is RunRFMSummary, with Starts and Repeats when tracking.
func rfmSummary(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, calEnd, end time.Time, by string, withGroups, tracking bool) (*RFMSummary, error) {
	out := &RFMSummary{}
	span, err := dataSpan(ctx, db, end)
	if err != nil {
		return nil, err
	}
	var ps params
	// The result (about one row per customer and grouping set) is read
	// chunk by chunk through DuckDB's C API (internal/rawscan), not value
	// by value through database/sql.
	q, fromRows := rfmSQL(d, biz, &ps, calEnd, end, span, by, withGroups, tracking)
	err = rawscan.Scan(ctx, db, q, ps.args, func(c *rawscan.Chunk) error {
		kinds, _, err := c.Int64(0)
		if err != nil {
			return err
		}
		grps, err := c.Strings(1)
		if err != nil {
			return err
		}
		var cols [4][]int64
		for i := range cols {
			if cols[i], _, err = c.Int64(2 + i); err != nil {
				return err
			}
		}
		xs, txs, ts, hxs := cols[0], cols[1], cols[2], cols[3]
		ms, mValid, err := c.Float64(6)
		if err != nil {
			return err
		}
		ns, _, err := c.Int64(7)
		if err != nil {
			return err
		}
		sums, _, err := c.Float64(8)
		if err != nil {
			return err
		}
		days, _, err := c.Int32(9)
		if err != nil {
			return err
		}
		for i := 0; i < c.Len(); i++ {
			// NULL x, tx, t, hx and m read as whatever the vector holds;
			// they are only read where the grouping set has them (x of
			// kind 1 is never NULL: its set groups by it).
			switch kinds[i] {
			case 0:
				out.Rows = append(out.Rows, RFMRow{X: xs[i], TX: txs[i], T: ts[i], HX: hxs[i], Count: ns[i]})
				if fromRows {
					out.Groups = append(out.Groups, GroupRFM{X: xs[i], TX: txs[i], T: ts[i], Count: ns[i], SumM: sums[i]})
				}
			case 1:
				if xs[i] > 0 && mValid.Valid(i) {
					out.Spend = append(out.Spend, SpendRow{X: xs[i], M: ms[i], Count: ns[i]})
				}
			case 3:
				out.Starts = append(out.Starts, DayCount{time.Unix(int64(days[i])*86400, 0).UTC(), ns[i]})
			case 4:
				out.Repeats = append(out.Repeats, DayCount{time.Unix(int64(days[i])*86400, 0).UTC(), ns[i]})
			default:
				out.Groups = append(out.Groups, GroupRFM{Group: string(grps.Bytes(i)), X: xs[i], TX: txs[i], T: ts[i], Count: ns[i], SumM: sums[i]})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query: rfm summary: %w", err)
	}
	out.sort()
	return out, nil
}

// sort puts the summary's rows in one order whatever order DuckDB's
// parallel grouping returned them in, so the fits that sum over them (and
// whose optimiser paths follow those sums) give the same figures on every
// run.
// The three large slices are sorted on goroutines of their own (each
// sort's result does not depend on that).
func (s *RFMSummary) sort() {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		slices.SortFunc(s.Rows, func(a, b RFMRow) int {
			return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.TX, b.TX), cmp.Compare(a.T, b.T), cmp.Compare(a.HX, b.HX), cmp.Compare(a.Count, b.Count))
		})
	}()
	go func() {
		defer wg.Done()
		slices.SortFunc(s.Spend, func(a, b SpendRow) int {
			return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.M, b.M), cmp.Compare(a.Count, b.Count))
		})
	}()
	slices.SortFunc(s.Groups, func(a, b GroupRFM) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), cmp.Compare(a.X, b.X), cmp.Compare(a.TX, b.TX), cmp.Compare(a.T, b.T),
			cmp.Compare(a.Count, b.Count), cmp.Compare(a.SumM, b.SumM))
	})
	wg.Wait()
	byDay := func(a, b DayCount) int { return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.Count, b.Count)) }
	slices.SortFunc(s.Starts, byDay)
	slices.SortFunc(s.Repeats, byDay)
}
