package attribution_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/internal/rawscan"
	model "github.com/bowtie-analytics/bowtie/model/attribution"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/query/attribution"
)

// attrBenchSQL generates $1 people. Person i has an anchor day in
// [2024-03-02, 2024-03-31) and one to five touches in the 20 days before
// it, on eight channels and three campaigns; a person in five made the
// first touch anonymously (linked in identities). Three people in ten
// reach stage paid one hour after their anchor. With the period March
// 2024 and a 30-day lookback, 0.86 paths per person convert or not.
// Values come from hashes of the row numbers: the same data on every run.
const attrBenchSQL = `
INSERT INTO identities SELECT 'anonymous', 'anon' || i, 'p' || i, TIMESTAMP '2024-01-01', 'bench' FROM range($1) t(i) WHERE i % 5 = 0;
INSERT INTO events (id, ts, type, name, anonymous_id, person_id, channel, utm_campaign)
WITH ppl AS (SELECT i, TIMESTAMP '2024-03-02' + to_seconds(CAST(hash(i, 1) % (29 * 86400) AS BIGINT)) AS anchor, 1 + hash(i, 2) % 5 AS n FROM range($1) t(i))
SELECT 'e' || i || '_' || j, anchor - to_seconds(CAST(hash(i, j, 3) % (20 * 86400) AS BIGINT)), 'page', 'Page Viewed',
	CASE WHEN i % 5 = 0 AND j = 0 THEN 'anon' || i END, CASE WHEN i % 5 = 0 AND j = 0 THEN NULL ELSE 'p' || i END,
	['Paid Search', 'Paid Social', 'Email', 'Display', 'Organic Search', 'Direct', 'Referral', 'Webinars'][CAST(1 + hash(i, j, 4) % 8 AS BIGINT)],
	['spring', 'brand', NULL][CAST(1 + hash(i, j, 5) % 3 AS BIGINT)]
FROM ppl, range(5) r(j) WHERE j < n;
INSERT INTO stage_changes SELECT 'person', 'p' || i, 'paid', TIMESTAMP '2024-03-02' + to_seconds(CAST(hash(i, 1) % (29 * 86400) + 3600 AS BIGINT)), 'bench'
FROM range($1) t(i) WHERE hash(i, 6) % 10 < 3;
INSERT INTO spend (date, source, channel, campaign, cost, currency, platform_conversions)
SELECT DATE '2024-03-01' + INTERVAL (d) DAY, 'src' || ch, ch, 'spring', 100 + d, 'USD', 10 FROM range(31) t(d), (VALUES ('Paid Search'), ('Paid Social'), ('Display')) c(ch) WHERE $1 > 0`

// attrBenchStore returns a store of n generated people (attrBenchSQL),
// created once in the temp directory.
func attrBenchStore(b *testing.B, n int) *duckdb.Store {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("bowtie-bench-attribution-%d.duckdb", n))
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".tmp"
		os.Remove(tmp)
		s, err := duckdb.Open(tmp)
		if err != nil {
			b.Fatal(err)
		}
		for _, q := range strings.Split(attrBenchSQL, ";\n") {
			if _, err := s.DB().Exec(q, n); err != nil {
				b.Fatal(err)
			}
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

// cpuSeconds is the process's user + system CPU time so far: under a
// loaded machine, wall time measures the neighbours too.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// peakRSSMB is the process's peak resident set (VmHWM) in MB.
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkAttribution measures, over the generated store (BENCH_PEOPLE
// people, default 1.2 M — about 1.03 M converting and non-converting
// paths — when not -short, 120 k with -short):
//   - baseline: one grouped scan of the events in DuckDB (per person:
//     touches and first and last time), read through rawscan — the least
//     any path builder must pay;
//   - paths+rules+markov: attribution.BuildPaths (paths from the raw
//     events, identities and stage changes), every rule-based model
//     (AllRuleCredits) and the first-order Markov chain — the issue's
//     target, ≤ 3 s for 1 M paths;
//   - run: the whole analysis with those models (spend, lead quality,
//     top paths, distributions).
//
// Peak RSS is reported after clearing the kernel's high-water mark, and
// the process's CPU time per operation (user + system, DuckDB's threads
// included) beside the wall time.
func BenchmarkAttribution(b *testing.B) {
	n := 1_200_000 // about 1.03 M paths
	if testing.Short() {
		n = 120_000
	}
	if v := os.Getenv("BENCH_PEOPLE"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	s := attrBenchStore(b, n)
	biz := business(b, "preset: b2c\ncurrency: USD\ntime_zone: UTC\n")
	req := attribution.Request{From: date("2024-03-01"), To: date("2024-03-31"), Lookback: "30d", Conversion: "stage:paid"}
	ctx := context.Background()
	clearPeak := func() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }
	b.Run("baseline", func(b *testing.B) {
		clearPeak()
		c0 := cpuSeconds()
		for i := 0; i < b.N; i++ {
			rows := 0
			err := rawscan.Scan(ctx, s.DB(), "SELECT coalesce(person_id, anonymous_id), count(*), min(ts), max(ts) FROM events WHERE channel IS NOT NULL GROUP BY 1", nil,
				func(c *rawscan.Chunk) error { rows += c.Len(); return nil })
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(rows), "groups")
		}
		b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/op")
		b.ReportMetric(peakRSSMB(), "peak-MB")
	})
	b.Run("paths+rules+markov", func(b *testing.B) {
		clearPeak()
		c0 := cpuSeconds()
		phases := map[string]time.Duration{}
		attribution.SetPhaseTimer(func(p string, d time.Duration) { phases[p] += d })
		defer attribution.SetPhaseTimer(nil)
		for i := 0; i < b.N; i++ {
			ps, err := attribution.BuildPaths(ctx, s.DB(), query.DuckDB{}, biz, req)
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			cr := model.AllRuleCredits(ps, model.RuleOptions{}, false)
			phases["rules"] += time.Since(t0)
			t0 = time.Now()
			mr, err := model.RunMarkov(ps, model.MarkovOptions{Order: 1, Collapse: true})
			if err != nil {
				b.Fatal(err)
			}
			phases["markov"] += time.Since(t0)
			var conv, nulls float64
			for _, p := range ps {
				conv += p.Conversions
				nulls += p.Nulls
			}
			if len(cr) == 0 || mr.ConversionProb <= 0 {
				b.Fatal("no credit")
			}
			b.ReportMetric(float64(len(ps)), "paths")
			b.ReportMetric(conv, "conversions")
			b.ReportMetric(nulls, "nulls")
		}
		for p, d := range phases {
			b.ReportMetric(d.Seconds()/float64(b.N), p+"-s")
		}
		b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/op")
		b.ReportMetric(peakRSSMB(), "peak-MB")
	})
	b.Run("run", func(b *testing.B) {
		clearPeak()
		c0 := cpuSeconds()
		r := req
		r.Models = []string{"first", "last", "last_non_direct", "linear", "position", "w_shaped", "time_decay", "custom", "markov"}
		for i := 0; i < b.N; i++ {
			res, err := attribution.Run(ctx, s.DB(), query.DuckDB{}, biz, r)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.Totals.ConvertingPaths+res.Totals.NullPaths, "paths")
		}
		b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/op")
		b.ReportMetric(peakRSSMB(), "peak-MB")
	})
}
