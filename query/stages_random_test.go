package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

type refStageRow struct {
	entity, stage string
	ts            time.Time
}

// refStageFunnel is the brute-force reference of RunStageFunnel, entity by
// entity, straight from the definitions in docs/metrics.md.
func refStageFunnel(rows []refStageRow, req query.StageFunnelRequest, start, end time.Time) ([]int64, [][]float64, [][]float64) {
	n := len(req.Stages)
	arrival := map[string][]time.Time{} // a_k; zero when never
	for _, r := range rows {
		i := slices.Index(req.Stages, r.stage)
		if i < 0 {
			continue
		}
		a := arrival[r.entity]
		if a == nil {
			a = make([]time.Time, n)
			arrival[r.entity] = a
		}
		for k := 0; k < n; k++ {
			if (k == i || (!req.Strict && k < i)) && (a[k].IsZero() || r.ts.Before(a[k])) {
				a[k] = r.ts
			}
		}
	}
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(start) && t.Before(end) }
	cnt := make([]int64, n)
	prev, first := make([][]float64, n), make([][]float64, n)
	for _, a := range arrival {
		reached := make([]bool, n)
		for k := 0; k < n; k++ {
			switch {
			case req.Mode == "period":
				reached[k] = in(a[k])
			case k == 0:
				reached[k] = in(a[0])
			default:
				reached[k] = reached[k-1] && !a[k].IsZero() && !a[k].Before(a[0]) &&
					(req.WithinDays == 0 || !a[k].After(a[0].AddDate(0, 0, req.WithinDays)))
			}
			if !reached[k] {
				continue
			}
			cnt[k]++
			if k == 0 {
				continue
			}
			if !a[k-1].IsZero() && !a[k-1].After(a[k]) {
				prev[k] = append(prev[k], a[k].Sub(a[k-1]).Seconds()/86400)
			}
			if !a[0].IsZero() && !a[0].After(a[k]) {
				first[k] = append(first[k], a[k].Sub(a[0]).Seconds()/86400)
			}
		}
	}
	return cnt, prev, first
}

// TestRunStageFunnel_BruteForce compares the stage funnel with
// refStageFunnel on random histories: skipped, repeated and out-of-order
// stages, stages outside the list, entries around the period's bounds in a
// time zone with DST, in both modes, strict or not, with and without a
// time limit.
func TestRunStageFunnel_BruteForce(t *testing.T) {
	biz := business(t, "preset: b2b\ncurrency: EUR\ntime_zone: America/New_York\n")
	stages := []string{"lead", "mql", "sql", "opportunity", "won"}
	for seed := uint64(1); seed <= 3; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		s := openWith(t, "")
		tx, err := s.DB().Begin()
		if err != nil {
			t.Fatal(err)
		}
		var rows []refStageRow
		base := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
		for e := 0; e < 300; e++ {
			id := fmt.Sprint("x", e)
			ts := base.Add(time.Duration(r.Int64N(int64(100 * 24 * time.Hour)))).Truncate(time.Hour)
			for si := r.IntN(3); si < len(stages); si += 1 + r.IntN(2) {
				st := stages[si]
				if r.IntN(12) == 0 {
					st = "lost"
				}
				rows = append(rows, refStageRow{id, st, ts})
				if r.IntN(5) == 0 { // a repeat, possibly earlier than the first entry
					rows = append(rows, refStageRow{id, st, ts.Add(time.Duration(r.IntN(200)-50) * time.Hour)})
				}
				ts = ts.Add(time.Duration(r.IntN(30*24)) * time.Hour)
				if r.IntN(4) == 0 {
					break
				}
			}
		}
		var vals []string
		var args []any
		for _, row := range rows {
			vals = append(vals, "('person', ?, ?, ?, 'x')")
			args = append(args, row.entity, row.stage, row.ts)
		}
		if _, err := tx.Exec("INSERT OR REPLACE INTO stage_changes VALUES "+strings.Join(vals, ", "), args...); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		loc := biz.Location()
		from, to := date("2024-03-01"), date("2024-04-15") // DST starts 2024-03-10 in New York
		start, end := time.Date(2024, 3, 1, 0, 0, 0, 0, loc), time.Date(2024, 4, 16, 0, 0, 0, 0, loc)
		for _, mode := range []string{"cohort", "period"} {
			for _, strict := range []bool{false, true} {
				for _, within := range []int{0, 20} {
					if mode == "period" && within > 0 {
						continue
					}
					req := query.StageFunnelRequest{Stages: stages, From: from, To: to, Mode: mode, Strict: strict, WithinDays: within}
					got, err := query.RunStageFunnel(context.Background(), s.DB(), query.DuckDB{}, biz, req)
					if err != nil {
						t.Fatal(err)
					}
					cnt, prev, first := refStageFunnel(rows, req, start, end)
					compareGroup(t, fmt.Sprintf("seed%d/%s/strict=%v/within%d", seed, mode, strict, within), got.Total, cnt, prev, first)
				}
			}
		}
	}
}
