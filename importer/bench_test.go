package importer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie"
)

// nullStore accepts rows and keeps nothing, to measure the importer alone.
type nullStore struct{}

func (nullStore) Begin(context.Context, bowtie.WriteMode) (bowtie.Batch, error) {
	return nullBatch{}, nil
}

type nullBatch struct{}

func (nullBatch) Add(bowtie.Table, []any) error     { return nil }
func (nullBatch) Commit() (map[string]int64, error) { return nil, nil }
func (nullBatch) Rollback() error                   { return nil }

// BenchmarkImport_EventsCSV measures parsing, validation and channel
// grouping of a CSV of page views (the store is left out).
func BenchmarkImport_EventsCSV(b *testing.B) {
	const rows = 50_000
	var sb strings.Builder
	sb.WriteString("id,ts,type,name,anonymous_id,utm_source,utm_medium,utm_campaign,referrer,url,revenue,currency\n")
	touches := [][2]string{{"google", "cpc"}, {"facebook", "paid_social"}, {"newsletter", "email"}, {"", ""}, {"bing", "organic"}}
	for i := 0; i < rows; i++ {
		t := touches[i%len(touches)]
		fmt.Fprintf(&sb, "m%d,2024-03-%02d %02d:%02d:00,page,Home,a%d,%s,%s,camp%d,https://www.google.com/,https://shop.example/p/%d,%d.99,EUR\n",
			i, i%28+1, i%24, i%60, i%5000, t[0], t[1], i%40, i%300, i%7)
	}
	path := filepath.Join(b.TempDir(), "events.csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	biz := business(b)
	b.SetBytes(int64(sb.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Import(context.Background(), nullStore{}, path, Options{Kind: "events", Business: biz})
		if err != nil {
			b.Fatal(err)
		}
		if res.Tables[0].Rows != rows {
			b.Fatalf("%d rows", res.Tables[0].Rows)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
