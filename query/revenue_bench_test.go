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
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/query"
)

// revenueBenchSQL generates $1 subscriptions (customers: one in five has
// two) with one to four consecutive segments each over 2023-01-01 to
// 2025-12-31: trials, active stretches at several prices, pauses, a
// cancellation request on a tenth, a third still running; 15 % in USD.
// Values come from hashes of the row numbers, so the data is the same on
// every run.
const revenueBenchSQL = `
INSERT INTO fx_rates SELECT DATE '2022-12-01' + INTERVAL (i * 7) DAY, 'USD', 'EUR', 0.85 + (hash(i) % 100) / 1000.0 FROM range(200) t(i);
INSERT INTO subscriptions (subscription_id, valid_from, valid_to, customer_id, plan, status, billing_interval, interval_count, amount, quantity, mrr, currency, canceled_at)
WITH subs AS (
	SELECT i, 'cus' || CAST(CASE WHEN i % 5 = 4 THEN i - 1 ELSE i END AS VARCHAR) AS cust,
		TIMESTAMP '2023-01-01' + to_seconds(CAST(hash(i, 1) % (1000 * 86400) AS BIGINT)) AS start,
		1 + CAST(hash(i, 2) % 4 AS INTEGER) AS nseg,
		CASE WHEN hash(i, 3) % 100 < 15 THEN 'USD' ELSE 'EUR' END AS cur,
		hash(i, 4) % 3 = 0 AS open
	FROM range($1) t(i)),
segs AS (
	SELECT s.i, s.cust, s.cur, s.nseg, s.open, j,
		s.start + to_seconds(CAST(sum(CASE WHEN j = 0 THEN 0 ELSE 86400 * (20 + hash(s.i, j - 1, 5) % 250) END)
			OVER (PARTITION BY s.i ORDER BY j ROWS UNBOUNDED PRECEDING) AS BIGINT)) AS vf,
		86400 * (20 + hash(s.i, j, 5) % 250) AS len,
		hash(s.i, j, 6) % 100 AS roll
	FROM subs s, range(4) r(j) WHERE j < s.nseg)
SELECT 'sub' || i, vf,
	CASE WHEN open AND j = nseg - 1 THEN NULL ELSE vf + to_seconds(CAST(len AS BIGINT)) END,
	cust, CASE WHEN roll % 3 = 0 THEN 'pro' ELSE 'basic' END,
	CASE WHEN j = 0 AND roll < 30 THEN 'trialing' WHEN roll > 90 THEN 'paused' ELSE 'active' END,
	CASE WHEN roll % 4 = 0 THEN 'year' ELSE 'month' END, 1,
	CAST(CASE WHEN roll % 4 = 0 THEN 99.99 ELSE 9.99 + roll % 7 * 5 END AS DECIMAL(18,4)), 1,
	CAST(CASE WHEN (j = 0 AND roll < 30) OR roll > 90 THEN 0 WHEN roll % 4 = 0 THEN 99.99 / 12 ELSE 9.99 + roll % 7 * 5 END AS DECIMAL(18,4)),
	cur,
	CASE WHEN roll % 10 = 1 THEN vf + to_seconds(CAST(len / 2 AS BIGINT)) END
FROM segs`

// revenueBenchStore returns a store holding n generated subscriptions
// (see revenueBenchSQL), created once in the temp directory.
func revenueBenchStore(b *testing.B, n int) *duckdb.Store {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("bowtie-bench-revenue-%d.duckdb", n))
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".tmp"
		os.Remove(tmp)
		s, err := duckdb.Open(tmp)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.DB().Exec(revenueBenchSQL, n); err != nil {
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

// revenueNaiveSQL is the plain query an analyst would write for the same
// monthly totals (opening, new, expansion, contraction, churn, closing;
// no reactivation, no fx, no daily customers): a dense grid of every
// customer at every month end, each cell summing its active segments,
// then LAG.
const revenueNaiveSQL = `
WITH b AS (SELECT k, TIMESTAMP '2023-01-01' + to_months(CAST(k AS INTEGER)) AS t FROM range(37) r(k)),
c AS (SELECT DISTINCT customer_id FROM subscriptions),
grid AS (
	SELECT c.customer_id, b.k, (SELECT coalesce(sum(s.mrr), 0) FROM subscriptions s WHERE s.customer_id = c.customer_id
		AND s.status = 'active' AND s.valid_from <= b.t AND (s.valid_to IS NULL OR s.valid_to > b.t)) AS mrr
	FROM c CROSS JOIN b),
l AS (SELECT k, mrr, lag(mrr) OVER (PARTITION BY customer_id ORDER BY k) AS prev FROM grid)
SELECT k, sum(prev), sum(mrr),
	sum(CASE WHEN prev = 0 AND mrr > 0 THEN mrr ELSE 0 END),
	sum(CASE WHEN prev > 0 AND mrr > prev THEN mrr - prev ELSE 0 END),
	sum(CASE WHEN mrr > 0 AND mrr < prev THEN prev - mrr ELSE 0 END),
	sum(CASE WHEN prev > 0 AND mrr = 0 THEN prev ELSE 0 END)
FROM l WHERE k > 0 GROUP BY k ORDER BY k`

// BenchmarkRevenue runs the monthly MRR movements over 36 months of
// BOWTIE_BENCH_SUBS subscriptions (default 1 M; 20 k with -short),
// whole (overlap check, movements, daily customers, trials), the
// movements alone (the Go walk), and as baselines the change-based SQL
// query, the first (snapshot) version
// and the naive dense-grid query. peak_rss_MB is the process's high-water
// mark so far (it never falls: run one sub-benchmark per process for a
// figure of its own).
func BenchmarkRevenue(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 20_000
	}
	if v := os.Getenv("BOWTIE_BENCH_SUBS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	s := revenueBenchStore(b, n)
	path := filepath.Join(b.TempDir(), "bowtie.yaml")
	os.WriteFile(path, []byte("preset: b2c\ncurrency: EUR\ntime_zone: Europe/Berlin\n"), 0o644)
	biz, err := bowtie.LoadBusiness(path, false)
	if err != nil {
		b.Fatal(err)
	}
	opts := query.RevenueOptions{From: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), Grain: "month"}
	var segs int64
	s.DB().QueryRow("SELECT count(*) FROM subscriptions").Scan(&segs)
	b.Run(fmt.Sprintf("subs=%d/bowtie", n), func(b *testing.B) {
		for range b.N {
			r, err := query.RevenueQuery(context.Background(), s.DB(), query.DuckDB{}, biz, opts)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r.Periods[len(r.Periods)-1].ClosingMRR, "closing_mrr")
		}
		b.ReportMetric(float64(segs), "segments")
		b.ReportMetric(peakRSSMB(), "peak_rss_MB")
	})
	b.Run(fmt.Sprintf("subs=%d/bowtie-sql", n), func(b *testing.B) {
		// The whole query with the change-based SQL and the separate
		// daily-customer query (the version before the walk).
		query.SetRevenueSQLOnly(true)
		defer query.SetRevenueSQLOnly(false)
		for range b.N {
			r, err := query.RevenueQuery(context.Background(), s.DB(), query.DuckDB{}, biz, opts)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r.Periods[len(r.Periods)-1].ClosingMRR, "closing_mrr")
		}
		b.ReportMetric(peakRSSMB(), "peak_rss_MB")
	})
	b.Run(fmt.Sprintf("subs=%d/movements", n), func(b *testing.B) {
		for range b.N {
			if _, err := query.RevenueMovementsOnly(context.Background(), s.DB(), biz, opts); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peakRSSMB(), "peak_rss_MB")
	})
	b.Run(fmt.Sprintf("subs=%d/movements-sql", n), func(b *testing.B) {
		// The change-based SQL query the walk replaced (still the --by
		// channel, segment and cohort path).
		query.SetRevenueSQLOnly(true)
		defer query.SetRevenueSQLOnly(false)
		for range b.N {
			if _, err := query.RevenueMovementsOnly(context.Background(), s.DB(), biz, opts); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peakRSSMB(), "peak_rss_MB")
	})
	b.Run(fmt.Sprintf("subs=%d/snapshots", n), func(b *testing.B) {
		// The first version: every customer at every month end (still the
		// --by plan path).
		query.SetRevenueSnapshotsOnly(true)
		defer query.SetRevenueSnapshotsOnly(false)
		for range b.N {
			if _, err := query.RevenueMovementsOnly(context.Background(), s.DB(), biz, opts); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peakRSSMB(), "peak_rss_MB")
	})
	b.Run(fmt.Sprintf("subs=%d/naive", n), func(b *testing.B) {
		for range b.N {
			rs, err := s.DB().Query(revenueNaiveSQL)
			if err != nil {
				b.Fatal(err)
			}
			for rs.Next() {
			}
			if err := rs.Err(); err != nil {
				b.Fatal(err)
			}
			rs.Close()
		}
		b.ReportMetric(peakRSSMB(), "peak_rss_MB")
	})
}

// peakRSSMB is the process's peak resident set (VmHWM) in MB.
func peakRSSMB() float64 {
	body, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
