package duckdb

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkIngest_DedupeAtScale measures the dedupe choices on a store of
// $BOWTIE_BENCH_EVENTS events (default 10 M; BENCHMARKS.md has 100 M),
// received evenly over the last 10 days in id order, as ingestion appends
// them, with random-looking ids (md5) like real messageIds: loading the ids of the last 24 h (at most 1 M) at start, which is
// what the ingester does, against checking every commit of 10 000 ids in
// the database, the alternative without memory.
func BenchmarkIngest_DedupeAtScale(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("BOWTIE_BENCH_EVENTS"))
	if n <= 0 {
		n = 10_000_000
	}
	s, err := Open(filepath.Join(b.TempDir(), "dedupe.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	start := time.Now()
	if _, err := s.DB().Exec(`INSERT INTO events (id, ts, received_at, type, name, properties)
		SELECT md5(i::VARCHAR), ?::TIMESTAMP - to_microseconds(((? - i) * (864000000000.0 / ?))::BIGINT), ?::TIMESTAMP - to_microseconds(((? - i) * (864000000000.0 / ?))::BIGINT),
			'track', 'Video Played', '{"n":1}' FROM range(?) t(i)`, now, n, n, now, n, n, n); err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB().Exec("CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d events generated in %v", n, time.Since(start).Round(time.Millisecond))
	sink, err := s.IngestSink(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	// 10 000 of the newest ids (random-looking, like messageIds): a
	// retried commit.
	const probes = 10_000
	if _, err := s.DB().Exec("CREATE TABLE probe AS SELECT md5(i::VARCHAR) AS id FROM range(? - ?, ?) t(i)", n, probes, n); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		loaded := 0
		if err := sink.RecentIDs(context.Background(), now.Add(-24*time.Hour), 1_000_000, func(string, time.Time) { loaded++ }); err != nil {
			b.Fatal(err)
		}
		load := time.Since(t0)
		check := func(window time.Duration) (time.Duration, int) {
			t0 := time.Now()
			var found int
			if err := s.DB().QueryRow("SELECT count(*) FROM events e JOIN probe p ON e.id = p.id WHERE e.received_at >= ?",
				now.Add(-window)).Scan(&found); err != nil {
				b.Fatal(err)
			}
			return time.Since(t0), found
		}
		c1h, f1 := check(time.Hour)
		c24h, f24 := check(24 * time.Hour)
		b.ReportMetric(float64(load.Milliseconds()), "load-1M-ms")
		b.ReportMetric(float64(loaded), "ids-loaded")
		b.ReportMetric(float64(c1h.Milliseconds()), "check-10k-in-1h-ms")
		b.ReportMetric(float64(c24h.Milliseconds()), "check-10k-in-24h-ms")
		if f1 == 0 || f24 != probes {
			b.Fatalf("found %d and %d of %d", f1, f24, probes)
		}
	}
}
