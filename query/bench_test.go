package query_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

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
	sizes := []int{1_000_000, 10_000_000}
	if env := os.Getenv("BOWTIE_BENCH_EVENTS"); env != "" {
		sizes = nil
		for _, s := range strings.Split(env, ",") {
			n, _ := strconv.Atoi(s)
			sizes = append(sizes, n)
		}
	}
	biz, _ := bowtie.Preset("b2c")
	ctx := context.Background()
	for _, n := range sizes {
		s := benchStore(b, "b2c", n)
		first, last, _, err := query.DataRange(ctx, s.DB(), query.DuckDB{}, biz)
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
