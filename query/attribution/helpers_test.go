package attribution_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	model "github.com/bowtie-analytics/bowtie/model/attribution"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/query/attribution"
)

// openStore opens an in-memory store and runs the SQL files of testdata
// (or literal SQL) in it.
func openStore(t testing.TB, sqlText ...string) *duckdb.Store {
	t.Helper()
	s, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, q := range sqlText {
		if filepath.Ext(q) == ".sql" {
			b, err := os.ReadFile(filepath.Join("testdata", q))
			if err != nil {
				t.Fatal(err)
			}
			q = string(b)
		}
		if _, err := s.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func business(t testing.TB, yaml string) *bowtie.Business {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bowtie.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := bowtie.LoadBusiness(p, false)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// unix parses "2006-01-02 15:04:05" in UTC.
func unix(s string) int64 {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

func run(t testing.TB, s *duckdb.Store, biz *bowtie.Business, req attribution.Request) *attribution.Result {
	t.Helper()
	res, err := attribution.Run(context.Background(), s.DB(), query.DuckDB{}, biz, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func paths(t testing.TB, s *duckdb.Store, biz *bowtie.Business, req attribution.Request) []model.Path {
	t.Helper()
	ps, err := attribution.BuildPaths(context.Background(), s.DB(), query.DuckDB{}, biz, req)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

var queryDuckDB = query.DuckDB{}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// row returns the result row of channel (and campaign).
func row(t testing.TB, res *attribution.Result, channel, campaign string) *attribution.Row {
	t.Helper()
	for i := range res.Rows {
		if res.Rows[i].Channel == channel && res.Rows[i].Campaign == campaign {
			return &res.Rows[i]
		}
	}
	t.Fatalf("no row %q/%q in %d rows", channel, campaign, len(res.Rows))
	return nil
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
