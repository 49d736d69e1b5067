package query_test

import (
	"database/sql"
	"testing"

	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/query"
)

// TestLocalTime_MatchesTimeZoneFunctions compares the report's offset-table
// conversion with DuckDB's own time-zone conversion on timestamps every 7
// minutes over two years (several DST changes) in zones with whole,
// half- and quarter-hour offsets and southern-hemisphere DST.
func TestLocalTime_MatchesTimeZoneFunctions(t *testing.T) {
	s, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, zone := range []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Sydney", "America/Sao_Paulo"} {
		expr, err := query.LocalTimeExpr(zone)
		if err != nil {
			t.Fatal(err)
		}
		q := `SELECT count(*), count(*) FILTER (WHERE ` + expr + ` <> timezone(?, timezone('UTC', ts)))
			FROM (SELECT unnest(generate_series(TIMESTAMP '2023-01-01', TIMESTAMP '2024-12-31', INTERVAL 7 MINUTE)) AS ts)`
		var n, bad sql.NullInt64
		if err := s.DB().QueryRow(q, zone).Scan(&n, &bad); err != nil {
			t.Fatalf("%s: %v", zone, err)
		}
		if n.Int64 < 100000 || bad.Int64 != 0 {
			t.Errorf("%s: %d of %d timestamps differ", zone, bad.Int64, n.Int64)
		}
	}
}
