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

// ltvBenchStore generates orders paid orders of up to customers
// customers in DuckDB (not committed): orders fall on customers with a
// skewed share (customer ⌊n·u²⌋ for uniform u: many buy once, a few buy
// hundreds of times), each within an active span of its own within two
// years, so the data have BG/NBD's shape (heterogeneous rates and
// dropout, customers who stop).
func ltvBenchStore(b *testing.B, customers, orders int) *duckdb.Store {
	b.Helper()
	s, err := duckdb.Open(":memory:")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	// BG/NBD's story in SQL: customer c joins on a uniform day of two
	// years, buys at rate λ_c (exponential across customers, mean one
	// purchase every 25 days) and after each purchase drops out with
	// probability p_c (p = u³: most customers stay long, some leave
	// soon); orders after the two years are cut. u(·) are hashes scaled
	// to (0, 1).
	q := fmt.Sprintf(`INSERT INTO orders (order_id, customer_id, ts, amount, currency, status)
	WITH u AS (SELECT c, (hash(c) %% 1000003 + 1) / 1000004.0 AS u1, (hash(c * 3 + 1) %% 1000003 + 1) / 1000004.0 AS u2,
		(hash(c * 5 + 2) %% 1000003 + 1) / 1000004.0 AS u3, (hash(c * 7 + 3) %% 1000003) / 1000003.0 AS u4 FROM range(%[1]d) t(c)),
	cs AS (SELECT c, -ln(u1) / 25.0 AS lam, least(1 + floor(ln(u3) / ln(1 - greatest(u2 * u2 * u2, 1e-6))), 400) AS n, u4 * 730 AS start FROM u),
	o AS (SELECT c, k, start, -ln((hash(c * 1000 + k) %% 1000003 + 1) / 1000004.0) / lam AS gap FROM cs, range(CAST(n AS BIGINT)) r(k)),
	t AS (SELECT c, k, start + sum(gap) OVER (PARTITION BY c ORDER BY k) - first_value(gap) OVER (PARTITION BY c ORDER BY k) AS day FROM o)
	SELECT 'o' || c || '-' || k, 'c' || c, TIMESTAMP '2023-01-01' + to_seconds(CAST(day * 86400 AS BIGINT)),
		CAST(5 + (hash(c * 13 + k) %% 20000) / 100.0 AS DECIMAL(18, 2)), 'USD', 'paid'
	FROM t WHERE day < 730 LIMIT %[2]d`, customers, orders)
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
			b.Errorf("no finite CLV: fit %+v", res.Fit)
		}
		if res.Fit.Note != "" {
			// Customers generated with about the same dropout probability
			// fit to the a, b → ∞ boundary (the forecasts stay finite).
			b.Logf("fit %+v: %s", res.Fit.Params, res.Fit.Note)
		}
	})
}
