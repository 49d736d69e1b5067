package query

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
)

// unconvertibleRevenue joins only the facts outside the reporting currency
// with the rates; on random orders and deals (reporting currency, a
// currency with direct quotes from a date on, one with inverse quotes
// only, one without rates, deals without a currency) it must count exactly
// the facts whose converted amount or gross profit in rev is NULL.
func TestUnconvertibleRevenue_Random(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	for seed := uint64(1); seed <= 6; seed++ {
		s, err := duckdb.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		rng := rand.New(rand.NewPCG(seed, 2))
		curs := []string{"USD", "USD", "EUR", "GBP", "JPY"}
		if seed%2 == 0 {
			curs = []string{"USD"} // everything in the reporting currency
		}
		var b strings.Builder
		b.WriteString("INSERT INTO fx_rates VALUES ('2024-03-01', 'EUR', 'USD', 1.1), ('2024-05-01', 'EUR', 'USD', 1.2), ('2024-04-10', 'USD', 'GBP', 0.8);\n")
		for i := 0; i < 300; i++ {
			day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(200))
			gm := "NULL"
			if rng.IntN(3) == 0 {
				gm = fmt.Sprint(rng.IntN(50))
			}
			fmt.Fprintf(&b, "INSERT INTO orders (order_id, customer_id, ts, amount, gross_margin, currency, status) VALUES ('o%d', 'c%d', '%s', %d, %s, '%s', '%s');\n",
				i, rng.IntN(40), day.Format(time.DateTime), 1+rng.IntN(100), gm, curs[rng.IntN(len(curs))], []string{"paid", "paid", "refunded"}[rng.IntN(3)])
			cur := "NULL"
			if rng.IntN(4) > 0 || seed%2 == 0 {
				cur = "'" + curs[rng.IntN(len(curs))] + "'"
			}
			fmt.Fprintf(&b, "INSERT INTO deals (deal_id, person_id, status, created_at, closed_at, amount, currency) VALUES ('d%d', 'c%d', 'won', '%s', '%s', %d, %s);\n",
				i, rng.IntN(40), day.Format(time.DateTime), day.Add(time.Hour).Format(time.DateTime), 1+rng.IntN(1000), cur)
		}
		if _, err := s.DB().Exec(b.String()); err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(t.TempDir(), "bowtie.yaml")
		os.WriteFile(cfg, []byte("preset: b2c\nrevenue_sources: [orders, deals]\n"), 0o644)
		biz, err := bowtie.LoadBusiness(cfg, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := unconvertibleRevenue(ctx, s.DB(), DuckDB{}, biz, asOf)
		if err != nil {
			t.Fatal(err)
		}
		// Reference: rev's own columns.
		var ps params
		ctes := ltvBaseCTEs(DuckDB{}, biz, &ps, asOf, [2]time.Time{asOf, asOf.Add(time.Second)})
		var want int64
		if err := s.DB().QueryRow("WITH "+joinCTEs(ctes)+"\nSELECT count(*) FROM rev WHERE amount IS NULL OR gp IS NULL", ps.args...).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("seed %d: %d unconvertible facts, rev has %d", seed, got, want)
		}
		if (seed%2 == 0) != (want == 0) {
			t.Errorf("seed %d: %d unconvertible facts: the data do not test what they should", seed, want)
		}
		err = checkRevenueFX(ctx, s.DB(), DuckDB{}, biz, asOf)
		if (err != nil) != (want > 0) || err != nil && bowtie.ErrorCode(err) == "" {
			t.Errorf("seed %d: checkRevenueFX = %v with %d unconvertible facts", seed, err, want)
		}
	}
}
