package demo_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/demo"
	"github.com/bowtie-analytics/bowtie/duckdb"
)

// BenchmarkGenerate measures generation end to end into a DuckDB file, and
// generation alone into a store that discards rows. The size is
// BOWTIE_DEMO_EVENTS (default 1,000,000):
//
//	go test ./demo/ -run XXX -bench Generate -benchtime 1x
//	BOWTIE_DEMO_EVENTS=10000000 go test ./demo/ -run XXX -bench Generate/duckdb -benchtime 1x -timeout 30m
func BenchmarkGenerate(b *testing.B) {
	events := 1_000_000
	if v := os.Getenv("BOWTIE_DEMO_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("BOWTIE_DEMO_EVENTS: %v", err)
		}
		events = n
	}
	for _, biz := range []string{"b2b", "b2c"} {
		b.Run("duckdb/"+biz, func(b *testing.B) {
			var path string
			n := bench(b, biz, events, func() bowtie.Store {
				path = filepath.Join(b.TempDir(), "bench.duckdb")
				s, err := duckdb.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				return s
			})
			// The size of the last file once closed, per event.
			if fi, err := os.Stat(path); err == nil && n > 0 {
				b.ReportMetric(float64(fi.Size())/float64(n), "file-bytes/event")
			}
		})
		b.Run("discard/"+biz, func(b *testing.B) {
			bench(b, biz, events, func() bowtie.Store { return &discard{} })
		})
	}
}

// bench generates b.N times and returns the number of events of the last
// run.
func bench(b *testing.B, biz string, events int, open func() bowtie.Store) int64 {
	var written, rows int64
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := open()
		b.StartTimer()
		start := time.Now()
		tr, err := demo.Generate(context.Background(), s, demo.Options{Business: biz, Seed: 1, Events: events})
		if err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		b.StopTimer()
		s.Close()
		written += tr.Rows["events"]
		for _, n := range tr.Rows {
			rows += n
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(written)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(written)/float64(b.N), "events")
	return written / int64(b.N)
}

// discard is a store that reads every row and keeps nothing: it measures
// the generator alone. Methods it does not override panic.
type discard struct {
	bowtie.Store
	sink int
}

func (d *discard) Write(ctx context.Context, t bowtie.Table, mode bowtie.WriteMode, rows bowtie.RowSource) (int64, error) {
	var n int64
	err := rows(func(row []any) error {
		n++
		d.sink += len(row)
		return nil
	})
	return n, err
}

func (d *discard) DB() *sql.DB  { return nil }
func (d *discard) Close() error { return nil }
