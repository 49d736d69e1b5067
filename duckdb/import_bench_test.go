package duckdb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/importer"
)

// writeEventsCSV writes n page views with UTM fields, referrers and some
// revenue in a CSV with canonical column names.
func writeEventsCSV(tb testing.TB, n int) (string, int64) {
	var sb strings.Builder
	sb.WriteString("id,ts,type,name,anonymous_id,utm_source,utm_medium,utm_campaign,referrer,url,revenue,currency\n")
	touches := [][2]string{{"google", "cpc"}, {"facebook", "paid_social"}, {"newsletter", "email"}, {"", ""}, {"bing", "organic"}}
	for i := 0; i < n; i++ {
		t := touches[i%len(touches)]
		fmt.Fprintf(&sb, "m%d,2024-03-%02d %02d:%02d:00,page,Home,a%d,%s,%s,camp%d,https://www.google.com/,https://shop.example/p/%d,%d.99,EUR\n",
			i, i%28+1, i%24, i%60, i%5000, t[0], t[1], i%40, i%300, i%7)
	}
	path := filepath.Join(tb.TempDir(), "events.csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path, int64(sb.Len())
}

// BenchmarkImportEvents measures `bowtie import events` end to end into a
// DuckDB file (parse, validate, classify channels, stage, dedupe against
// stored events, commit), next to DuckDB's own CSV reader loading the same
// file into the same table (no validation, no channels, no dedupe) as the
// baseline. Rows per run: $BOWTIE_BENCH_ROWS (default 1,000,000).
func BenchmarkImportEvents(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("BOWTIE_BENCH_ROWS"); s != "" {
		fmt.Sscan(s, &n)
	}
	path, size := writeEventsCSV(b, n)
	biz, _ := bowtie.Preset("b2c")
	open := func(b *testing.B) *duckdb.Store {
		s, err := duckdb.Open(filepath.Join(b.TempDir(), "bench.duckdb"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("bowtie-import", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			b.StopTimer()
			s := open(b)
			b.StartTimer()
			res, err := importer.Import(context.Background(), s, path, importer.Options{Kind: "events", Business: biz})
			if err != nil {
				b.Fatal(err)
			}
			if res.Tables[0].Rows != int64(n) {
				b.Fatalf("%d rows imported", res.Tables[0].Rows)
			}
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("baseline-read_csv", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			b.StopTimer()
			s := open(b)
			b.StartTimer()
			_, err := s.DB().Exec(`INSERT INTO events (id, ts, type, name, anonymous_id, utm_source, utm_medium, utm_campaign, referrer, url, revenue, currency)
				SELECT * FROM read_csv(?, header = true)`, path)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
