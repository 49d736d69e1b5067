package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

// refBucket returns the civil start of t's grain bucket in loc.
func refBucket(grain string, t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	switch grain {
	case "week":
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case "month":
		return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return d
}

func refDiff(grain string, a, b time.Time) int {
	switch grain {
	case "month":
		return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
	case "week":
		return int(b.Sub(a).Hours()/24) / 7
	}
	return int(b.Sub(a).Hours() / 24)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// refRetention is the brute-force reference of the retention matrix:
// per cohort (and "" for all cohorts) the retained/eligible cells 1..P.
func refRetention(evs []refEvent, req query.RetentionRequest, loc *time.Location, start, end time.Time) map[string][][2]int64 {
	first := map[string]time.Time{}
	for _, e := range evs {
		if e.pid != "" && e.name == req.CohortEvent && (first[e.pid].IsZero() || e.ts.Before(first[e.pid])) {
			first[e.pid] = e.ts
		}
	}
	L := map[string]int64{"day": 86400, "week": 7 * 86400, "month": 30 * 86400}[req.Grain]
	out := map[string][][2]int64{}
	for pid, t0 := range first {
		if t0.Before(start) || !t0.Before(end) || !t0.Before(req.AsOf) {
			continue
		}
		c := refBucket(req.Grain, t0, loc)
		var last int64
		if req.Rolling {
			last = floorDiv(int64(req.AsOf.Sub(t0)/time.Second), L) - 1
		} else {
			last = int64(refDiff(req.Grain, c, refBucket(req.Grain, req.AsOf, loc))) - 1
		}
		active := map[int64]bool{}
		var maxN int64
		for _, e := range evs {
			if e.pid != pid || e.ts.Before(t0) || !e.ts.Before(req.AsOf) {
				continue
			}
			if req.ReturnEvent != "" && e.name != req.ReturnEvent || req.ReturnEvent == "" && e.typ == "identify" {
				continue
			}
			var n int64
			if req.Rolling {
				n = floorDiv(int64(e.ts.Sub(t0)/time.Second), L)
			} else {
				n = int64(refDiff(req.Grain, c, refBucket(req.Grain, e.ts, loc)))
			}
			if n >= 1 {
				active[n] = true
				maxN = max(maxN, n)
			}
		}
		for _, key := range []string{"", c.Format(time.DateOnly)} {
			if out[key] == nil {
				out[key] = make([][2]int64, req.Periods+1)
			}
			out[key][0][0]++
			out[key][0][1]++
			for n := int64(1); n <= int64(req.Periods); n++ {
				if last < n {
					continue
				}
				out[key][n][1]++
				if req.Mode == "on" && active[n] || req.Mode == "on_or_after" && maxN >= n {
					out[key][n][0]++
				}
			}
		}
	}
	return out
}

// TestRunRetention_BruteForce compares the retention matrix with
// refRetention on random activity in a zone with DST inside the range, for
// every grain, both modes and both kinds of interval.
func TestRunRetention_BruteForce(t *testing.T) {
	biz := business(t, "preset: b2c\ntime_zone: America/New_York\n")
	loc := biz.Location()
	for seed := uint64(1); seed <= 2; seed++ {
		r := rand.New(rand.NewPCG(seed, 5))
		s := openWith(t, "")
		var evs []refEvent
		base := time.Date(2024, 1, 20, 0, 0, 0, 0, time.UTC)
		for p := 0; p < 150; p++ {
			pid := fmt.Sprint("p", p)
			at := base.Add(time.Duration(r.Int64N(int64(80 * 24 * time.Hour)))).Truncate(time.Minute)
			for i := 0; i < 1+r.IntN(25); i++ {
				name := []string{"signup", "open", "open", "open", "workout"}[r.IntN(5)]
				if i == 0 {
					name = "signup"
				}
				evs = append(evs, refEvent{id: fmt.Sprintf("%s-%d", pid, i), pid: pid, ts: at, name: name, typ: []string{"track", "track", "screen", "identify"}[r.IntN(4)]})
				at = at.Add(time.Duration(r.Int64N(int64(9 * 24 * time.Hour)))).Truncate(time.Minute)
			}
		}
		var vals []string
		var args []any
		for _, e := range evs {
			vals = append(vals, "(?, ?, ?, ?, ?)")
			args = append(args, e.id, e.ts, e.typ, e.name, e.pid)
		}
		if _, err := s.DB().Exec("INSERT INTO events (id, ts, type, name, person_id) VALUES "+strings.Join(vals, ", "), args...); err != nil {
			t.Fatal(err)
		}
		from, to := date("2024-02-01"), date("2024-03-31") // DST starts 2024-03-10
		start, end := time.Date(2024, 2, 1, 0, 0, 0, 0, loc), time.Date(2024, 4, 1, 0, 0, 0, 0, loc)
		asOf := time.Date(2024, 5, 20, 13, 30, 0, 0, time.UTC)
		for _, grain := range []string{"day", "week", "month"} {
			for _, mode := range []string{"on", "on_or_after"} {
				for _, rolling := range []bool{false, true} {
					for _, ret := range []string{"open", ""} {
						req := query.RetentionRequest{CohortEvent: "signup", ReturnEvent: ret, Grain: grain, Mode: mode, Rolling: rolling,
							Periods: map[string]int{"day": 40, "week": 10, "month": 3}[grain], From: from, To: to, AsOf: asOf}
						name := fmt.Sprintf("seed%d/%s/%s/rolling=%v/return=%q", seed, grain, mode, rolling, ret)
						got, err := query.RunRetention(context.Background(), s.DB(), query.DuckDB{}, biz, req)
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						want := refRetention(evs, req, loc, start, end)
						rows := append(append([]query.RetentionRow{}, got.Totals...), got.Cohorts...)
						if len(rows) != len(want) {
							t.Errorf("%s: %d rows, want %d", name, len(rows), len(want))
						}
						for _, row := range rows {
							w := want[row.Cohort]
							for n, c := range row.Cells {
								if w == nil || c.Retained != w[n][0] || c.Eligible != w[n][1] {
									t.Errorf("%s: cohort %q N=%d: %d/%d, want %v", name, row.Cohort, n, c.Retained, c.Eligible, w)
									break
								}
							}
						}
					}
				}
			}
		}
	}
}
