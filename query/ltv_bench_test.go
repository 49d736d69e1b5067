package query_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/query"
)

// ltvBenchStore generates customers × orders paid orders in DuckDB (not
// committed): customer c buys at a rate of its own over an active span
// of its own within two years, so the data have BG/NBD's shape
// (heterogeneous rates, customers who stop).
func ltvBenchStore(b *testing.B, customers, orders int) *duckdb.Store {
	b.Helper()
	s, err := duckdb.Open(":memory:")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	q := fmt.Sprintf(`INSERT INTO orders (order_id, customer_id, ts, amount, currency, status)
	WITH o AS (SELECT i, (hash(i) %% %[1]d) AS c FROM range(%[2]d) t(i)),
	cs AS (SELECT c, 1 + hash(c * 3) %% 720 AS span, hash(c * 5) %% 10 AS tier FROM (SELECT DISTINCT c FROM o))
	SELECT 'o' || o.i, 'c' || o.c,
		TIMESTAMP '2023-01-01' + to_days(CAST((730 - cs.span) * (hash(o.c * 7) %% 1000) / 1000 AS INTEGER))
			+ to_seconds(CAST((hash(o.i * 11) %% (cs.span * 86400)) * (CASE WHEN o.i %% 3 = 0 THEN 0 ELSE 1 END) AS BIGINT)),
		CAST(5 + (hash(o.i * 13) %% 20000) / 100.0 * (1 + cs.tier) / 5 AS DECIMAL(18, 2)), 'USD', 'paid'
	FROM o JOIN cs USING (c)`, customers, orders)
	if _, err := s.DB().Exec(q); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkBGNBDLTV measures the whole non-contractual LTV on 1 M
// customers / 10 M orders: the per-customer summary from the raw orders
// in the store, the BG/NBD and Gamma-Gamma fits and the CLV forecast
// (query.RunBGNBDLTV, no hold-out). The baseline, in the same run, is the
// least any per-customer summary must do: one grouped scan of the orders
// (count, first and last purchase per customer). peak_rss_MB is the
// process's peak resident set during the measured runs (reset after the
// generation).
func BenchmarkBGNBDLTV(b *testing.B) {
	customers, orders := 1_000_000, 10_000_000
	if testing.Short() {
		customers, orders = 100_000, 1_000_000
	}
	s := ltvBenchStore(b, customers, orders)
	cfg := filepath.Join(b.TempDir(), "bowtie.yaml")
	os.WriteFile(cfg, []byte("preset: b2c\nltv: {holdout_days: 0}\n"), 0o644)
	biz, err := bowtie.LoadBusiness(cfg, false)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	clearPeak := func() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }
	b.Run("baseline_scan", func(b *testing.B) {
		clearPeak()
		for b.Loop() {
			var n int64
			if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM (SELECT customer_id, count(*), min(ts), max(ts) FROM orders WHERE status = 'paid' GROUP BY customer_id)`).Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peakRSSMB(), "peak_rss_MB")
	})
	b.Run("summary", func(b *testing.B) {
		clearPeak()
		for b.Loop() {
			if _, err := query.RunRFMSummary(ctx, s.DB(), query.DuckDB{}, biz, now, now.AddDate(0, 0, 1), "", true); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peakRSSMB(), "peak_rss_MB")
	})
	b.Run("bgnbd_gg_clv", func(b *testing.B) {
		clearPeak()
		var res *query.BGNBDLTV
		for b.Loop() {
			var err error
			if res, err = query.RunBGNBDLTV(ctx, s.DB(), query.DuckDB{}, biz, query.LTVRequest{Now: now}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peakRSSMB(), "peak_rss_MB")
		b.ReportMetric(float64(len(res.Summary.Rows)), "distinct_xtxT")
		b.ReportMetric(float64(res.Total.Customers), "customers")
		if res.Total.CLV == nil {
			// The generated customers all drop out with about the same
			// probability: the fit runs a and b to very large values,
			// where the model's conditional expectation is not finite.
			b.Logf("no finite CLV: fit %+v", res.Fit)
		}
	})
}
