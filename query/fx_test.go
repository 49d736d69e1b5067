package query_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie/query"
)

// fxBothWays loads two years of USD→EUR and EUR→USD rates for every day,
// the second rounded from the inverse of the first (as the demo writes
// them, so 1/EUR→USD differs slightly from USD→EUR), and enough USD spend,
// orders and won deals on every day that the engine spreads the work over
// its threads.
const fxBothWays = `
INSERT INTO fx_rates
	SELECT DATE '2023-01-01' + i::INTEGER, 'USD', 'EUR', round(0.87 + 0.05 * sin(i / 9.0), 6) FROM range(731) t(i);
INSERT INTO fx_rates
	SELECT date, 'EUR', 'USD', round(1 / rate, 6) + 0.000003 FROM fx_rates WHERE currency = 'USD';
INSERT INTO spend (date, source, channel, campaign, impressions, clicks, cost, currency, cost_type)
	SELECT DATE '2023-01-01' + (i // 20)::INTEGER, 'src' || (i % 7), 'Paid Search', 'c' || (i % 40), 1000, 10,
		(100 + (i * 7919) % 100000 / 100.0)::DECIMAL(18,4), 'USD', 'media'
	FROM range(731 * 20) t(i);
INSERT INTO orders (order_id, customer_id, ts, amount, currency, status)
	SELECT 'o' || i, 'cust' || (i % 500), TIMESTAMP '2023-01-01 12:00:00' + to_minutes(i * 37),
		(10 + (i * 104729) % 1000000 / 100.0)::DECIMAL(18,4), 'USD', 'paid'
	FROM range(15000) t(i);
INSERT INTO deals (deal_id, person_id, status, created_at, closed_at, amount, currency, pipeline)
	SELECT 'd' || i, 'p' || i, CASE WHEN i % 3 = 0 THEN 'open' ELSE 'won' END, TIMESTAMP '2023-01-01 09:00:00' + to_minutes(i * 31),
		CASE WHEN i % 3 = 0 THEN NULL ELSE TIMESTAMP '2023-01-01 09:00:00' + to_minutes(i * 31 + 5000) END,
		(500 + (i * 15485863) % 10000000 / 100.0)::DECIMAL(18,4), 'USD', 'new'
	FROM range(15000) t(i);
`

// TestFX_Deterministic runs the same report and sales view many times with
// rates loaded in both directions and demands byte-identical output: one
// rate per currency and date, whichever thread reads which row.
func TestFX_Deterministic(t *testing.T) {
	s := openWith(t, "")
	if _, err := s.DB().Exec(fxBothWays); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	biz := business(t, "preset: b2c\ncurrency: EUR\ntime_zone: UTC\nrevenue_sources: [orders, deals]\ncustomer_entity: person\n")
	runs := 30
	if testing.Short() {
		runs = 8
	}
	for _, cur := range []string{"EUR", "USD"} {
		biz.Currency = cur
		t.Run(cur, func(t *testing.T) {
			var first string
			for i := range runs {
				rep, err := query.RunReport(ctx, s.DB(), query.DuckDB{}, biz, query.ReportRequest{By: []string{"month", "source"}, From: date("2023-01-01"), To: date("2024-12-31"), Compare: true})
				if err != nil {
					t.Fatal(err)
				}
				sales, err := query.RunSales(ctx, s.DB(), query.DuckDB{}, biz, query.SalesRequest{From: date("2023-01-01"), To: date("2024-12-31")})
				if err != nil {
					t.Fatal(err)
				}
				b, err := json.Marshal(struct {
					Report *query.Report
					Sales  *query.Sales
				}{rep, sales})
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = string(b)
				} else if string(b) != first {
					t.Fatalf("run %d differs from run 0:\n%s\nvs\n%s", i, diffAt(first, string(b)), diffAt(string(b), first))
				}
			}
		})
	}
}

// diffAt returns the text of a around the first byte where a and b differ.
func diffAt(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo, hi := max(0, i-80), min(len(a), i+80)
	return a[lo:hi]
}

// TestFX_Rule checks the documented rule on a hand-computed case: on a
// date with both quotes the direct one is the rate, on a date with only
// the reverse quote its inverse is, and the newest date on or before the
// amount's wins.
func TestFX_Rule(t *testing.T) {
	s := openWith(t, "")
	if _, err := s.DB().Exec(`
		INSERT INTO fx_rates VALUES
			('2024-01-01', 'USD', 'EUR', 0.9), ('2024-01-01', 'EUR', 'USD', 1.25),  -- both: 0.9
			('2024-01-10', 'EUR', 'USD', 1.25),                                     -- inverse only: 0.8
			('2024-01-20', 'USD', 'EUR', 0.95), ('2024-01-20', 'EUR', 'USD', 1.0);  -- both: 0.95
		INSERT INTO spend (date, source, channel, campaign, cost, currency) VALUES
			('2024-01-05', 'g', 'Paid Search', 'a', 100, 'USD'),
			('2024-01-15', 'g', 'Paid Search', 'b', 100, 'USD'),
			('2024-01-25', 'g', 'Paid Search', 'c', 100, 'USD');
		INSERT INTO deals (deal_id, person_id, status, created_at, closed_at, amount, currency) VALUES
			('d1', 'p1', 'won', '2024-01-01 10:00', '2024-01-03 10:00', 1000, 'USD'),
			('d2', 'p2', 'won', '2024-01-01 10:00', '2024-01-12 10:00', 1000, 'USD'),
			('d3', 'p3', 'won', '2024-01-01 10:00', '2024-01-22 10:00', 1000, 'USD');`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	biz := business(t, "preset: b2b\ncurrency: EUR\ntime_zone: UTC\nrevenue_sources: [deals]\ncustomer_entity: person\n")
	rep, err := query.RunReport(ctx, s.DB(), query.DuckDB{}, biz, query.ReportRequest{By: []string{"campaign"}, From: date("2024-01-01"), To: date("2024-01-31")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"a": 90, "b": 80, "c": 95}
	for _, r := range rep.Rows {
		if r.Cost != want[r.Campaign] {
			t.Errorf("campaign %s: cost %v, want %v", r.Campaign, r.Cost, want[r.Campaign])
		}
	}
	if rep.Total.Cost != 265 || rep.Total.Revenue != 900+800+950 {
		t.Errorf("total cost %v revenue %v, want 265 and 2650", rep.Total.Cost, rep.Total.Revenue)
	}
	sales, err := query.RunSales(ctx, s.DB(), query.DuckDB{}, biz, query.SalesRequest{From: date("2024-01-01"), To: date("2024-01-31")})
	if err != nil {
		t.Fatal(err)
	}
	if sales.WonValue != 2650 {
		t.Errorf("sales won value %v, want 2650", sales.WonValue)
	}

	t.Run("ErrInverseOnlyLater", func(t *testing.T) {
		// GBP has only a reverse quote, from 10 January: 5 January has no rate.
		s.DB().Exec(`INSERT INTO fx_rates VALUES ('2024-01-10', 'EUR', 'GBP', 0.8)`)
		s.DB().Exec(`INSERT INTO spend (date, source, channel, campaign, cost, currency) VALUES ('2024-01-05', 'b', 'Paid Search', 'g', 10, 'GBP')`)
		defer s.DB().Exec(`DELETE FROM spend WHERE currency = 'GBP'`)
		_, err := query.RunReport(ctx, s.DB(), query.DuckDB{}, biz, query.ReportRequest{From: date("2024-01-01"), To: date("2024-01-31")})
		if err == nil || !strings.Contains(err.Error(), "GBP→EUR on 2024-01-05") {
			t.Fatalf("err = %v", err)
		}
	})
}
