package query

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// ActivityRequest asks for active people (DAU/WAU/MAU, stickiness) and
// their lifecycle.
type ActivityRequest struct {
	// Event is the events.name that makes a person active; empty means any
	// track, page or screen event.
	Event string
	// From and To bound the days reported (local dates, inclusive).
	From, To time.Time
	// Grain is the lifecycle interval: day, week (default) or month.
	Grain string
}

// Activity is the result of RunActivity (docs/metrics.md, "Active people
// and stickiness", "Lifecycle").
type Activity struct {
	Event    string `json:"event"`
	From     string `json:"from"`
	To       string `json:"to"`
	TimeZone string `json:"time_zone"`
	Grain    string `json:"grain"`
	// Days holds DAU, WAU and MAU for each day of the range.
	Days []ActiveDay `json:"days"`
	// AverageDAU and AverageMAU are means over Days; Stickiness is their
	// ratio (nil when AverageMAU is 0).
	AverageDAU float64  `json:"average_dau"`
	AverageMAU float64  `json:"average_mau"`
	Stickiness *float64 `json:"stickiness"`
	// Lifecycle holds one row per interval of Grain overlapping the range.
	Lifecycle []LifecyclePeriod `json:"lifecycle"`
}

// ActiveDay is one day's active people: on the day, in the 7 and in the 30
// days ending with it.
type ActiveDay struct {
	Date       string   `json:"date"`
	DAU        int64    `json:"dau"`
	WAU        int64    `json:"wau"`
	MAU        int64    `json:"mau"`
	Stickiness *float64 `json:"stickiness"` // DAU ÷ MAU
}

// LifecyclePeriod splits the people active in an interval into new,
// returning and resurrecting, and counts the dormant: active in the
// previous interval but not in this one.
type LifecyclePeriod struct {
	Period       string `json:"period"`
	Active       int64  `json:"active"`
	New          int64  `json:"new"`
	Returning    int64  `json:"returning"`
	Resurrecting int64  `json:"resurrecting"`
	Dormant      int64  `json:"dormant"`
}

// grainInterval is the SQL interval of one grain.
var grainInterval = map[string]string{"day": "INTERVAL 1 DAY", "week": "INTERVAL 7 DAY", "month": "INTERVAL 1 MONTH"}

// RunActivity computes DAU/WAU/MAU, stickiness and the lifecycle of
// people. Errors: *bowtie.Error with EINVALID for a bad request.
func RunActivity(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req ActivityRequest) (*Activity, error) {
	if req.Grain == "" {
		req.Grain = "week"
	}
	if _, ok := grainInterval[req.Grain]; !ok {
		return nil, bowtie.Errorf(bowtie.EINVALID, "grain: %q must be day, week or month", req.Grain)
	}
	if err := checkText("event", req.Event); err != nil {
		return nil, err
	}
	start, end, err := localBounds(biz, req.From, req.To)
	if err != nil {
		return nil, err
	}
	from, to := civil(req.From), civil(req.To)
	if to.Sub(from) > 3660*24*time.Hour {
		return nil, bowtie.Errorf(bowtie.EINVALID, "the range is longer than ten years")
	}
	loc := biz.Location()
	out := &Activity{Event: req.Event, From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), TimeZone: biz.TimeZone, Grain: req.Grain,
		Days: []ActiveDay{}, Lifecycle: []LifecyclePeriod{}}
	var ps params
	filter := "e.type IN ('track', 'page', 'screen')"
	if req.Event != "" {
		filter = "e.name = " + ps.p("event", req.Event)
	}
	lo := start.AddDate(0, 0, -31)
	pLo, pEnd := ps.p("lo", lo), ps.p("end", end)
	pFrom, pTo := ps.p("from", from), ps.p("to", to)
	day := "CAST(" + localTime(d, "e.ts", loc, lo, end) + " AS DATE)"
	q := "-- query.RunActivity\nWITH a AS (SELECT DISTINCT e.person_id AS id, " + day + " AS day FROM events e WHERE e.person_id IS NOT NULL AND " + filter +
		" AND e.ts >= " + pLo + " AND e.ts < " + pEnd + "),\n" +
		"days AS (SELECT CAST(r AS DATE) AS day FROM range(CAST(" + pFrom + " AS TIMESTAMP), CAST(" + pTo + " AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 DAY) t(r))\n" +
		"SELECT days.day, count(DISTINCT a.id) FILTER (WHERE a.day = days.day), count(DISTINCT a.id) FILTER (WHERE a.day > days.day - 7), count(DISTINCT a.id)\n" +
		"FROM days LEFT JOIN a ON a.day BETWEEN days.day - 29 AND days.day GROUP BY days.day ORDER BY days.day"
	rows, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: activity: %w", err)
	}
	defer rows.Close()
	var sumD, sumM float64
	for rows.Next() {
		var r ActiveDay
		var dt time.Time
		if err := rows.Scan(&dt, &r.DAU, &r.WAU, &r.MAU); err != nil {
			return nil, fmt.Errorf("query: activity: %w", err)
		}
		r.Date = dt.Format(time.DateOnly)
		r.Stickiness = div(float64(r.DAU), float64(r.MAU))
		sumD += float64(r.DAU)
		sumM += float64(r.MAU)
		out.Days = append(out.Days, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if n := float64(len(out.Days)); n > 0 {
		out.AverageDAU, out.AverageMAU = sumD/n, sumM/n
		out.Stickiness = div(sumD, sumM)
	}
	if out.Lifecycle, err = lifecycle(ctx, db, d, biz, req, from, to, end); err != nil {
		return nil, err
	}
	return out, nil
}

// lifecycle computes the lifecycle rows of the grain buckets from the one
// holding from to the one holding to, over the whole history before end.
func lifecycle(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req ActivityRequest, from, to, end time.Time) ([]LifecyclePeriod, error) {
	var first sql.NullTime
	if err := db.QueryRowContext(ctx, "-- query.RunActivity first\nSELECT min(ts) FROM events WHERE person_id IS NOT NULL").Scan(&first); err != nil {
		return nil, fmt.Errorf("query: lifecycle: %w", err)
	}
	loc := biz.Location()
	fb, tb := localBucket(req.Grain, from, time.UTC), localBucket(req.Grain, to, time.UTC)
	var out []LifecyclePeriod
	idx := map[string]int{}
	for b := fb; !b.After(tb); b = nextBucket(req.Grain, b) {
		idx[b.Format(time.DateOnly)] = len(out)
		out = append(out, LifecyclePeriod{Period: b.Format(time.DateOnly)})
	}
	if !first.Valid {
		return out, nil
	}
	lo := first.Time.Add(-time.Hour)
	var ps params
	filter := "e.type IN ('track', 'page', 'screen')"
	if req.Event != "" {
		filter = "e.name = " + ps.p("event", req.Event)
	}
	pEnd := ps.p("end", end)
	bucket, err := d.Bucket(req.Grain, localTime(d, "e.ts", loc, lo, end))
	if err != nil {
		return nil, err
	}
	iv := grainInterval[req.Grain]
	q := "-- query.RunActivity lifecycle\nWITH b AS (SELECT DISTINCT e.person_id AS id, " + bucket + " AS b FROM events e WHERE e.person_id IS NOT NULL AND " + filter +
		" AND e.ts < " + pEnd + "),\n" +
		"l AS (SELECT id, b, lag(b) OVER w AS prev, lead(b) OVER w AS next FROM b WINDOW w AS (PARTITION BY id ORDER BY b)),\n" +
		"k AS (SELECT b AS period, 'new' AS kind FROM l WHERE prev IS NULL\n" +
		" UNION ALL SELECT b, 'returning' FROM l WHERE prev = CAST(b - " + iv + " AS DATE)\n" +
		" UNION ALL SELECT b, 'resurrecting' FROM l WHERE prev < CAST(b - " + iv + " AS DATE)\n" +
		" UNION ALL SELECT CAST(b + " + iv + " AS DATE), 'dormant' FROM l WHERE next IS NULL OR next > CAST(b + " + iv + " AS DATE))\n" +
		"SELECT period, count(*) FILTER (WHERE kind = 'new'), count(*) FILTER (WHERE kind = 'returning'), count(*) FILTER (WHERE kind = 'resurrecting'), count(*) FILTER (WHERE kind = 'dormant')\n" +
		"FROM k WHERE period BETWEEN " + ps.p("fb", fb) + " AND " + ps.p("tb", tb) + " GROUP BY period"
	rows, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: lifecycle: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p time.Time
		var r LifecyclePeriod
		if err := rows.Scan(&p, &r.New, &r.Returning, &r.Resurrecting, &r.Dormant); err != nil {
			return nil, fmt.Errorf("query: lifecycle: %w", err)
		}
		i, ok := idx[p.Format(time.DateOnly)]
		if !ok {
			continue
		}
		r.Period = out[i].Period
		r.Active = r.New + r.Returning + r.Resurrecting
		out[i] = r
	}
	return out, rows.Err()
}

// nextBucket returns the start of the bucket after b.
func nextBucket(grain string, b time.Time) time.Time {
	switch grain {
	case "week":
		return b.AddDate(0, 0, 7)
	case "month":
		return b.AddDate(0, 1, 0)
	}
	return b.AddDate(0, 0, 1)
}
