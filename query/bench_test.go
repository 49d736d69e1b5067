package query_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/demo"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/query"
)

// benchStore returns a store holding the B2C demo at the given number of
// events. The file is generated once into the temp directory and reused by
// later runs (delete it to regenerate).
func benchStore(b *testing.B, business string, events int) *duckdb.Store {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("bowtie-bench-%s-%d.duckdb", business, events))
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".tmp"
		os.Remove(tmp)
		s, err := duckdb.Open(tmp)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := demo.Generate(context.Background(), s, demo.Options{Business: business, Seed: 1, Events: events}); err != nil {
			b.Fatal(err)
		}
		s.Close()
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
	}
	s, err := duckdb.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// baselineSQL is the plainest hand-written DuckDB query for the core of the
// channel report on data whose money is all in the reporting currency and
// whose people all carry their acquisition channel: spend, visitors, leads
// and revenue per channel over the range. The report does more (fx, stage
// policy, first-touch fallback, new customers, any dimension), so the ratio
// of the two is the cost of that generality.
const baselineSQL = `
SELECT channel, sum(cost), sum(visitors), sum(leads), sum(revenue) FROM (
  SELECT channel, sum(cost)::DOUBLE AS cost, 0 AS visitors, 0 AS leads, 0 AS revenue FROM spend
   WHERE date BETWEEN $1::DATE AND $2::DATE GROUP BY channel
  UNION ALL
  SELECT channel, 0, count(DISTINCT coalesce(person_id, anonymous_id)), 0, 0 FROM events
   WHERE type IN ('page', 'screen') AND ts >= $1 AND ts < $2 GROUP BY channel
  UNION ALL
  SELECT p.channel, 0, 0, count(*), 0 FROM (
     SELECT entity_id, min(ts) AS ts FROM stage_changes WHERE entity_type = 'person' GROUP BY entity_id) s
   JOIN people p ON p.person_id = s.entity_id WHERE s.ts >= $1 AND s.ts < $2 GROUP BY p.channel
  UNION ALL
  SELECT p.channel, 0, 0, 0, sum(o.amount)::DOUBLE FROM orders o JOIN people p ON p.person_id = o.customer_id
   WHERE o.status = 'paid' AND o.ts >= $1 AND o.ts < $2 GROUP BY p.channel
) GROUP BY channel`

// BenchmarkReport measures the acquisition report over the whole demo
// history at 1 M and 10 M events (B2C demo), next to the baseline query.
// Set BOWTIE_BENCH_EVENTS to a comma-separated list to change the sizes.
func BenchmarkReport(b *testing.B) {
	sizes := benchSizes([]int{1_000_000, 10_000_000})
	biz, _ := bowtie.Preset("b2c")
	ctx := context.Background()
	for _, n := range sizes {
		s := benchStore(b, "b2c", n)
		first, last, _, err := query.DataRange(ctx, s.DB(), query.DuckDB{}, biz, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		for _, by := range [][]string{{"channel"}, {"channel", "month"}} {
			b.Run(fmt.Sprintf("events=%d/by=%v", n, by), func(b *testing.B) {
				for b.Loop() {
					if _, err := query.RunReport(ctx, s.DB(), query.DuckDB{}, biz, query.ReportRequest{By: by, From: first, To: last}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(fmt.Sprintf("events=%d/baseline-sql", n), func(b *testing.B) {
			to := last.AddDate(0, 0, 1)
			for b.Loop() {
				rows, err := s.DB().QueryContext(ctx, baselineSQL, first, to)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				rows.Close()
			}
		})
	}
}

// funnelBenchSteps is the benchmark's 5-step event funnel: the B2C
// acquisition path from the first landing page to the first payment.
var funnelBenchSteps = []string{"Landing Page", "app_install", "signup_completed", "trial_started", "subscription_started"}

// baselineFunnelSQL is the fastest plain DuckDB SQL found for the same
// question as RunEventFunnel's total on funnelBenchSteps (ordered, per
// person, 14-day window, attempts compete on steps reached then start):
// each person's step times gathered into lists, every landing an attempt,
// each later step the first of its list at or after the previous one
// (list lambdas, fine while a person's lists are short, as here), the best
// attempt per person, then the counts and the time-to-convert quantiles.
// $1, $2: the first-step period [start, end); $3: the window in seconds.
const baselineFunnelSQL = `
WITH ev AS (
  SELECT coalesce(e.person_id, i.person_id, 'anon:' || e.anonymous_id) AS pid, e.ts, e.name
  FROM events e LEFT JOIN identities i ON i.kind = 'anonymous' AND i.alias_id = CASE WHEN e.person_id IS NULL THEN e.anonymous_id END
  WHERE e.type IN ('track', 'page', 'screen') AND e.ts >= $1 AND e.ts <= $2 + to_seconds($3)
    AND e.name IN ('Landing Page', 'app_install', 'signup_completed', 'trial_started', 'subscription_started')),
per AS (
  SELECT pid, list(ts) FILTER (WHERE name = 'Landing Page' AND ts < $2) AS l0, list(ts) FILTER (WHERE name = 'app_install') AS l1,
    list(ts) FILTER (WHERE name = 'signup_completed') AS l2, list(ts) FILTER (WHERE name = 'trial_started') AS l3,
    list(ts) FILTER (WHERE name = 'subscription_started') AS l4
  FROM ev WHERE pid IS NOT NULL GROUP BY pid),
a0 AS (SELECT pid, unnest(l0) AS t0, l1, l2, l3, l4 FROM per),
a1 AS (SELECT *, list_min(list_filter(l1, x -> x >= t0)) AS t1 FROM a0),
a2 AS (SELECT *, list_min(list_filter(l2, x -> x >= t1)) AS t2 FROM a1),
a3 AS (SELECT *, list_min(list_filter(l3, x -> x >= t2)) AS t3 FROM a2),
a4 AS (SELECT *, list_min(list_filter(l4, x -> x >= t3)) AS t4 FROM a3),
att AS (SELECT pid, t0, t1, t2, t3, t4, t0 + to_seconds($3) AS dl FROM a4),
r AS (SELECT pid, t0, t1, t2, t3, t4,
  CASE WHEN t1 IS NULL OR t1 > dl THEN 1 WHEN t2 IS NULL OR t2 > dl THEN 2 WHEN t3 IS NULL OR t3 > dl THEN 3 WHEN t4 IS NULL OR t4 > dl THEN 4 ELSE 5 END AS reach FROM att),
best AS (SELECT arg_max(r, [reach, -epoch_us(t0)]) AS b FROM r GROUP BY pid)
SELECT count(*), count(*) FILTER (WHERE b.reach > 1), count(*) FILTER (WHERE b.reach > 2), count(*) FILTER (WHERE b.reach > 3), count(*) FILTER (WHERE b.reach > 4),
  quantile_cont(date_diff('second', b.t0, b.t1) / 86400.0, [0.5, 0.75, 0.9]) FILTER (WHERE b.reach > 1),
  quantile_cont(date_diff('second', b.t1, b.t2) / 86400.0, [0.5, 0.75, 0.9]) FILTER (WHERE b.reach > 2),
  quantile_cont(date_diff('second', b.t2, b.t3) / 86400.0, [0.5, 0.75, 0.9]) FILTER (WHERE b.reach > 3),
  quantile_cont(date_diff('second', b.t3, b.t4) / 86400.0, [0.5, 0.75, 0.9]) FILTER (WHERE b.reach > 4),
  quantile_cont(date_diff('second', b.t0, b.t4) / 86400.0, [0.5, 0.75, 0.9]) FILTER (WHERE b.reach > 4)
FROM best`

// BenchmarkEventFunnel measures the 5-step event funnel with a 14-day
// window over the whole B2C demo history, next to baselineFunnelSQL. Sizes
// as BenchmarkReport (BOWTIE_BENCH_EVENTS, default 1 M).
func BenchmarkEventFunnel(b *testing.B) {
	biz, _ := bowtie.Preset("b2c")
	ctx := context.Background()
	for _, n := range benchSizes([]int{1_000_000}) {
		s := benchStore(b, "b2c", n)
		first, last, _, err := query.DataRange(ctx, s.DB(), query.DuckDB{}, biz, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		var steps []query.EventMatch
		for _, name := range funnelBenchSteps {
			steps = append(steps, query.EventMatch{Event: name})
		}
		req := query.EventFunnelRequest{Steps: steps, Window: 14 * 24 * time.Hour, From: first, To: last}
		for _, v := range []struct{ name, mode, by string }{{"bowtie", "", ""}, {"bowtie-any-order", "any", ""}, {"bowtie-by-channel", "", "channel"}} {
			b.Run(fmt.Sprintf("events=%d/%s", n, v.name), func(b *testing.B) {
				warm(b, s)
				vreq := req
				vreq.Mode, vreq.By = v.mode, v.by
				for b.Loop() {
					f, err := query.RunEventFunnel(ctx, s.DB(), query.DuckDB{}, biz, vreq)
					if err != nil {
						b.Fatal(err)
					}
					if v.by != "" {
						b.ReportMetric(float64(len(f.Groups)), "groups")
					} else {
						b.ReportMetric(float64(f.Total.Steps[4].Count), "converted")
					}
				}
			})
		}
		b.Run(fmt.Sprintf("events=%d/baseline-sql", n), func(b *testing.B) {
			to := last.AddDate(0, 0, 1)
			warm(b, s)
			for b.Loop() {
				var c [5]int64
				var q [5]any
				if err := s.DB().QueryRowContext(ctx, baselineFunnelSQL, first, to, int64(14*86400)).Scan(&c[0], &c[1], &c[2], &c[3], &c[4], &q[0], &q[1], &q[2], &q[3], &q[4]); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(c[4]), "converted")
			}
		})
	}
}

// benchSizes returns the sizes in BOWTIE_BENCH_EVENTS (comma-separated),
// else def.
func benchSizes(def []int) []int {
	env := os.Getenv("BOWTIE_BENCH_EVENTS")
	if env == "" {
		return def
	}
	var out []int
	for _, s := range strings.Split(env, ",") {
		n, _ := strconv.Atoi(s)
		out = append(out, n)
	}
	return out
}

// baselineRetentionSQL is the plainest DuckDB SQL for the weekly retention
// matrix of BenchmarkRetention (calendar weeks, "on" mode): cohort size
// per signup week and, per week N = 1..12 that ended before as-of, how
// many members had a workout in their cohort week + N. $1, $2: the cohort
// period; $3: as-of.
const baselineRetentionSQL = `
WITH first AS (SELECT person_id AS id, min(ts) AS t0 FROM events WHERE name = 'signup_completed' AND person_id IS NOT NULL GROUP BY 1),
coh AS (SELECT id, t0, CAST(date_trunc('week', t0) AS DATE) AS c FROM first WHERE t0 >= $1 AND t0 < $2),
act AS (SELECT DISTINCT coh.id, coh.c, date_diff('day', coh.c, CAST(date_trunc('week', e.ts) AS DATE)) // 7 AS n
  FROM events e JOIN coh ON coh.id = e.person_id WHERE e.name = 'workout_completed' AND e.ts >= coh.t0 AND e.ts < $3)
SELECT c, n, count(*) FROM act WHERE n BETWEEN 1 AND 12 AND n < date_diff('day', c, CAST(date_trunc('week', $3) AS DATE)) // 7 GROUP BY ALL
UNION ALL SELECT c, 0, count(*) FROM coh GROUP BY c`

// baselineRetentionBitsSQL answers the same with one row per member (a
// bit string of its return weeks) instead of one per member and week.
const baselineRetentionBitsSQL = `
WITH first AS (SELECT person_id AS id, min(ts) AS t0 FROM events WHERE name = 'signup_completed' AND person_id IS NOT NULL GROUP BY 1),
coh AS (SELECT id, t0, CAST(date_trunc('week', t0) AS DATE) AS c FROM first WHERE t0 >= $1 AND t0 < $2),
u AS (SELECT coh.id, any_value(coh.c) AS c, bitstring_agg(n, 1, 12) FILTER (WHERE n BETWEEN 1 AND 12) AS bits FROM (
  SELECT coh.id, coh.c, date_diff('day', coh.c, CAST(date_trunc('week', e.ts) AS DATE)) // 7 AS n
  FROM events e JOIN coh ON coh.id = e.person_id WHERE e.name = 'workout_completed' AND e.ts >= coh.t0 AND e.ts < $3) coh GROUP BY 1)
SELECT c, r.n, count(*) FROM u CROSS JOIN range(1, 13) r(n)
  WHERE get_bit(bits, CAST(r.n - 1 AS INTEGER)) = 1 AND r.n < date_diff('day', c, CAST(date_trunc('week', $3) AS DATE)) // 7 GROUP BY ALL
UNION ALL SELECT c, 0, count(*) FROM coh GROUP BY c`

// BenchmarkRetention measures the weekly retention matrix (cohorts by
// first signup, return = a workout, 12 weeks, calendar weeks, "on" mode,
// with the D1/D7/D30 headline RunRetention adds) over the whole B2C demo
// history, next to the two baseline queries. AsOf is given, as the
// dashboard's default (the last day with data) costs a scan of its own.
func BenchmarkRetention(b *testing.B) {
	biz, _ := bowtie.Preset("b2c")
	ctx := context.Background()
	for _, n := range benchSizes([]int{1_000_000}) {
		s := benchStore(b, "b2c", n)
		first, last, _, err := query.DataRange(ctx, s.DB(), query.DuckDB{}, biz, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		to := last.AddDate(0, 0, 1)
		req := query.RetentionRequest{CohortEvent: "signup_completed", ReturnEvent: "workout_completed", Grain: "week", Periods: 12, From: first, To: last, AsOf: to}
		b.Run(fmt.Sprintf("events=%d/bowtie", n), func(b *testing.B) {
			warm(b, s)
			for b.Loop() {
				r, err := query.RunRetention(ctx, s.DB(), query.DuckDB{}, biz, req)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(r.Totals[0].Cells[1].Retained), "week1")
			}
		})
		for _, bl := range []struct{ name, q string }{{"baseline-sql", baselineRetentionSQL}, {"baseline-sql-bits", baselineRetentionBitsSQL}} {
			b.Run(fmt.Sprintf("events=%d/%s", n, bl.name), func(b *testing.B) {
				warm(b, s)
				for b.Loop() {
					rows, err := s.DB().QueryContext(ctx, bl.q, first, to, to)
					if err != nil {
						b.Fatal(err)
					}
					var week1 int64
					for rows.Next() {
						var c time.Time
						var wk, cnt int64
						if err := rows.Scan(&c, &wk, &cnt); err != nil {
							b.Fatal(err)
						}
						if wk == 1 {
							week1 += cnt
						}
					}
					rows.Close()
					b.ReportMetric(float64(week1), "week1")
				}
			})
		}
	}
}

// warm reads every column the benchmarks touch once, untimed, so that each
// measured query finds the table in DuckDB's buffer pool whichever runs
// first (the first query after opening a 100 M-event file spends seconds
// loading blocks).
func warm(b *testing.B, s *duckdb.Store) {
	b.Helper()
	var n int64
	if err := s.DB().QueryRow(`SELECT count(*) FROM events WHERE name IS NOT NULL AND type IS NOT NULL AND ts IS NOT NULL
		AND coalesce(person_id, anonymous_id, '') IS NOT NULL`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	if err := s.DB().QueryRow(`SELECT count(*) FROM identities WHERE alias_id IS NOT NULL AND person_id IS NOT NULL`).Scan(&n); err != nil {
		b.Fatal(err)
	}
}
