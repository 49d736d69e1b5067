package query_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/query"
)

// openWith opens an in-memory store and runs the SQL file from testdata
// (none when file is empty).
func openWith(t *testing.T, file string) *duckdb.Store {
	t.Helper()
	s, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if file == "" {
		return s
	}
	body, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(string(body)); err != nil {
		t.Fatal(err)
	}
	return s
}

// business loads a business configuration from YAML text.
func business(t *testing.T, yaml string) *bowtie.Business {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bowtie.yaml")
	os.WriteFile(p, []byte(yaml), 0o644)
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

func f(v float64) *float64 { return &v }

// checkRow compares every figure of got with want; nil ratios must be nil.
func checkRow(t *testing.T, name string, got, want query.ReportRow) {
	t.Helper()
	for _, c := range query.ReportColumns {
		g, gok := got.Value(c.Key)
		w, wok := want.Value(c.Key)
		if gok != wok || math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
			t.Errorf("%s: %s = %v (set %v), want %v (set %v)", name, c.Key, g, gok, w, wok)
		}
	}
}

// TestRunReport_HandComputed checks the report on testdata/report_small.sql
// against figures worked out by hand from the metric definitions in
// docs/metrics.md.
func TestRunReport_HandComputed(t *testing.T) {
	s := openWith(t, "report_small.sql")
	biz := business(t, "preset: b2b\ncurrency: EUR\ntime_zone: UTC\n")
	ctx := context.Background()
	req := query.ReportRequest{By: []string{"channel"}, From: date("2024-01-01"), To: date("2024-02-29"), Compare: true}
	rep, err := query.RunReport(ctx, s.DB(), query.DuckDB{}, biz, req)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]query.ReportRow{
		// Cost 500+250 (the tools row is not a CAC cost type); revenue d1.
		// A's first revenue (d4) predates the range: no new customer.
		"Paid Social": {Impressions: 15000, Clicks: 150, Cost: 750, CPM: f(50), CTR: f(0.01), CPC: f(5),
			Visitors: 1, Leads: 2, CPL: f(375), MQLs: 3, SQLs: 1, MQLToSQL: f(1.0 / 3),
			Revenue: 10000, ROAS: f(10000.0 / 750), ROMI: f(9250.0 / 750), CostShare: f(0.075)},
		// 110 USD at 0.9 = 99 EUR; d2 2000 USD = 1800 EUR; p3 skipped lead.
		"Paid Search": {Impressions: 2000, Clicks: 200, Cost: 99, CPM: f(49.5), CTR: f(0.1), CPC: f(0.495),
			Visitors: 1, Leads: 1, CPL: f(99), MQLs: 1, SQLs: 1, MQLToSQL: f(1), NewCustomers: 1, CAC: f(99),
			Revenue: 1800, ROAS: f(1800.0 / 99), ROMI: f(1701.0 / 99), CostShare: f(99.0 / 1800)},
		// C and p4 get their channel from their first event; the refunded order is not revenue.
		"Events": {Cost: 1000, Visitors: 1, Leads: 1, CPL: f(1000), NewCustomers: 1, CAC: f(1000),
			Revenue: 300, ROAS: f(0.3), ROMI: f(-0.7), CostShare: f(1000.0 / 300)},
	}
	if len(rep.Rows) != len(want) {
		t.Fatalf("got %d rows %+v, want %d", len(rep.Rows), rep.Rows, len(want))
	}
	order := []string{"Events", "Paid Social", "Paid Search"} // cost descending
	for i, r := range rep.Rows {
		if r.Channel != order[i] {
			t.Errorf("row %d is %q, want %q", i, r.Channel, order[i])
		}
		checkRow(t, r.Channel, r, want[r.Channel])
	}
	checkRow(t, "total", rep.Total, query.ReportRow{Impressions: 17000, Clicks: 350, Cost: 1849,
		CPM: f(1849.0 * 1000 / 17000), CTR: f(350.0 / 17000), CPC: f(1849.0 / 350), Visitors: 3, Leads: 4,
		CPL: f(1849.0 / 4), MQLs: 4, SQLs: 2, MQLToSQL: f(0.5), NewCustomers: 2, CAC: f(1849.0 / 2),
		Revenue: 12100, ROAS: f(12100.0 / 1849), ROMI: f((12100.0 - 1849) / 1849), CostShare: f(1849.0 / 12100)})
	if rep.PreviousFrom != "2023-11-02" || rep.PreviousTo != "2023-12-31" {
		t.Errorf("previous period %s..%s, want 2023-11-02..2023-12-31", rep.PreviousFrom, rep.PreviousTo)
	}
	checkRow(t, "previous", *rep.Previous, query.ReportRow{Impressions: 100, Clicks: 1, Cost: 999,
		CPM: f(9990), CTR: f(0.01), CPC: f(999), Leads: 1, CPL: f(999), ROAS: f(0), ROMI: f(-1)})

	t.Run("ByMonth", func(t *testing.T) {
		rep, err := query.RunReport(ctx, s.DB(), query.DuckDB{}, biz, query.ReportRequest{By: []string{"month"}, From: date("2024-01-01"), To: date("2024-02-29")})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rows) != 2 || rep.Rows[0].Period != "2024-01-01" || rep.Rows[1].Period != "2024-02-01" {
			t.Fatalf("rows %+v", rep.Rows)
		}
		jan, feb := rep.Rows[0], rep.Rows[1]
		if jan.Cost != 599 || jan.Leads != 3 || jan.MQLs != 3 || jan.SQLs != 1 || jan.NewCustomers != 1 || jan.Revenue != 1800 || jan.Visitors != 2 {
			t.Errorf("January: %+v", jan)
		}
		if feb.Cost != 1250 || feb.Leads != 1 || feb.MQLs != 1 || feb.SQLs != 1 || feb.NewCustomers != 1 || feb.Revenue != 10300 || feb.Visitors != 1 {
			t.Errorf("February: %+v", feb)
		}
	})
	t.Run("ByChannelCampaignMonth", func(t *testing.T) {
		rep, err := query.RunReport(ctx, s.DB(), query.DuckDB{}, biz, query.ReportRequest{By: []string{"channel", "campaign", "month"}, From: date("2024-01-01"), To: date("2024-02-29")})
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, r := range rep.Rows {
			if r.Campaign == "" || r.Channel == "" || r.Period == "" {
				t.Errorf("row without all dimensions: %+v", r)
			}
			sum += r.Revenue
		}
		if sum != 12100 {
			t.Errorf("revenue over rows = %v, want 12100", sum)
		}
	})
	t.Run("ErrMissingFX", func(t *testing.T) {
		s.DB().Exec("INSERT INTO spend (date, source, channel, cost, currency) VALUES ('2024-02-01', 'bing', 'Paid Search', 10, 'GBP')")
		defer s.DB().Exec("DELETE FROM spend WHERE currency = 'GBP'")
		_, err := query.RunReport(ctx, s.DB(), query.DuckDB{}, biz, req)
		if bowtie.ErrorCode(err) != bowtie.EINVALID || err.Error() != "no exchange rate for GBP→EUR on 2024-02-01 (or earlier): import rates with `bowtie import fx` or set currency in bowtie.yaml" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrRange", func(t *testing.T) {
		_, err := query.RunReport(ctx, s.DB(), query.DuckDB{}, biz, query.ReportRequest{From: date("2024-02-01"), To: date("2024-01-01")})
		if bowtie.ErrorCode(err) != bowtie.EINVALID {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestRunReport_TimeZone checks that buckets are cut in the business time
// zone: 23:30 UTC on 31 January is already February in Berlin.
func TestRunReport_TimeZone(t *testing.T) {
	s := openWith(t, "report_small.sql")
	s.DB().Exec("INSERT INTO orders (order_id, customer_id, ts, amount, currency) VALUES ('late', 'C', '2024-01-31 23:30', 50, 'EUR')")
	for _, tc := range []struct {
		zone string
		jan  float64
	}{{"UTC", 1850}, {"Europe/Berlin", 1800}} {
		biz := business(t, "preset: b2b\ncurrency: EUR\ntime_zone: "+tc.zone+"\n")
		rep, err := query.RunReport(context.Background(), s.DB(), query.DuckDB{}, biz, query.ReportRequest{By: []string{"month"}, From: date("2024-01-01"), To: date("2024-02-29")})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows[0].Revenue != tc.jan {
			t.Errorf("%s: January revenue %v, want %v", tc.zone, rep.Rows[0].Revenue, tc.jan)
		}
	}
}

func TestParseDimensions(t *testing.T) {
	if got, err := query.ParseDimensions(" Channel, month "); err != nil || len(got) != 2 || got[0] != "channel" || got[1] != "month" {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"country", "month,week", "channel,channel"} {
		if _, err := query.ParseDimensions(bad); bowtie.ErrorCode(err) != bowtie.EINVALID {
			t.Errorf("ParseDimensions(%q) err = %v, want EINVALID", bad, err)
		}
	}
}

func TestReport_WriteCSV(t *testing.T) {
	s := openWith(t, "report_small.sql")
	biz := business(t, "preset: b2b\ncurrency: EUR\ntime_zone: UTC\n")
	rep, err := query.RunReport(context.Background(), s.DB(), query.DuckDB{}, biz, query.ReportRequest{By: []string{"channel"}, From: date("2024-01-01"), To: date("2024-02-29")})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := rep.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	if !strings.HasPrefix(lines[0], "channel,impressions,clicks,cost,cpm,") {
		t.Errorf("header %q", lines[0])
	}
	// Events has no impressions or clicks: CPM, CTR and CPC are empty, not 0 or Inf.
	if want := "Events,0,0,1000,,,,1,1,1000,0,0,,1,1000,300,0.3,-0.7,3.3333333333333335"; lines[1] != want {
		t.Errorf("Events line\n got %s\nwant %s", lines[1], want)
	}
	if !strings.HasPrefix(lines[4], "Total,17000,350,1849,") {
		t.Errorf("total line %q", lines[4])
	}
}

func TestDataRange(t *testing.T) {
	s := openWith(t, "report_small.sql")
	biz := business(t, "preset: b2b\ncurrency: EUR\ntime_zone: UTC\n")
	first, last, ok, err := query.DataRange(context.Background(), s.DB(), query.DuckDB{}, biz, date("2024-06-01"))
	if err != nil || !ok || first != date("2023-12-31") || last != date("2024-03-01") {
		t.Fatalf("got %v %v %v %v", first, last, ok, err)
	}
	empty, _ := duckdb.Open(":memory:")
	defer empty.Close()
	if _, _, ok, err := query.DataRange(context.Background(), empty.DB(), query.DuckDB{}, biz, date("2024-06-01")); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
}
