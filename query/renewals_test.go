package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

const renewalsSmall = `
INSERT INTO accounts (account_id, channel) VALUES ('A', 'Events'), ('B', 'Referral'), ('C', NULL);
INSERT INTO deals (deal_id, account_id, pipeline, status, created_at, closed_at, amount, currency, product_line) VALUES
 ('a0', 'A', 'new business', 'won', '2022-01-01', '2022-03-01', 100000, 'EUR', 'equipment'),
 ('a1', 'A', 'service', 'won', '2022-03-01', '2022-04-01', 10000, 'EUR', 'service'),
 ('a2', 'A', 'renewal', 'won', '2023-02-01', '2023-04-01', 10500, 'EUR', 'service'),
 ('a3', 'A', 'renewal', 'won', '2024-02-01', '2024-04-03', 10500, 'EUR', 'service'),
 ('b1', 'B', 'service', 'won', '2023-01-10', '2023-01-20', 20000, 'EUR', 'service'),
 ('b2', 'B', 'renewal', 'lost', '2023-12-01', '2024-01-25', 21000, 'EUR', 'service'),
 ('c1', 'C', 'renewal', 'won', '2024-01-01', '2024-02-01', 5000, 'EUR', 'service'),
 ('c2', 'C', 'renewal', 'open', '2024-05-01', NULL, 5200, 'EUR', 'service'),
 ('c3', 'C', 'renewal', 'open', '2025-05-01', NULL, 5200, 'EUR', 'service');
`

// TestRunRenewals_HandComputed checks the renewal rate and uplifts on
// hand-worked deals: a chain service → renewal → renewal (uplift 5 %,
// then 0 %), a lost renewal, a renewal without a previous contract, and
// open renewals (one created after To).
func TestRunRenewals_HandComputed(t *testing.T) {
	s := openWith(t, "")
	if _, err := s.DB().Exec(renewalsSmall); err != nil {
		t.Fatal(err)
	}
	biz := business(t, "preset: b2b\ncurrency: EUR\ntime_zone: UTC\n")
	ctx := context.Background()
	run := func(from, to, grain, by string) *query.Renewals {
		t.Helper()
		r, err := query.RunRenewals(ctx, s.DB(), query.DuckDB{}, biz, query.RenewalsRequest{From: date(from), To: date(to), Grain: grain, By: by})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Run("Total", func(t *testing.T) {
		r := run("2023-01-01", "2024-12-31", "", "")
		tot := r.Total
		// Due: a2, a3, b2, c1; won a2, a3, c1; uplifts a2 +5 %, a3 0 %.
		if tot.Due != 4 || tot.Won != 3 || tot.Lost != 1 || !near(tot.Rate, 0.75) || !closeTo(tot.WonAmount, 26000) || !closeTo(tot.LostAmount, 21000) {
			t.Errorf("total %+v", tot)
		}
		if tot.Uplifts != 2 || !near(tot.UpliftMean, 0.025) || !near(tot.UpliftMedian, 0.025) || !near(tot.UpliftWeighted, 500.0/20500) {
			t.Errorf("uplifts %+v mean %v median %v", tot, deref(tot.UpliftMean), deref(tot.UpliftMedian))
		}
		if r.Open != 1 {
			t.Errorf("open %d, want 1 (c3 is created after To)", r.Open)
		}
	})
	t.Run("ByChannelAndYear", func(t *testing.T) {
		r := run("2023-01-01", "2024-12-31", "year", "channel")
		got := map[string]query.RenewalsRow{}
		for _, row := range r.Rows {
			got[row.Period+" "+row.Group] = row
		}
		if len(got) != 4 {
			t.Fatalf("rows %+v", r.Rows)
		}
		if x := got["2023-01-01 Events"]; x.Due != 1 || !near(x.UpliftMean, 0.05) {
			t.Errorf("2023 Events %+v", x)
		}
		if x := got["2024-01-01 Events"]; x.Due != 1 || !near(x.UpliftMean, 0) {
			t.Errorf("2024 Events %+v", x)
		}
		if x := got["2024-01-01 Referral"]; x.Due != 1 || x.Lost != 1 || !near(x.Rate, 0) {
			t.Errorf("2024 Referral %+v", x)
		}
		if x := got["2024-01-01 Unassigned"]; x.Due != 1 || x.Won != 1 || x.Uplifts != 0 || x.UpliftMean != nil {
			t.Errorf("2024 Unassigned %+v", x)
		}
	})
	t.Run("Pipeline", func(t *testing.T) {
		r, err := query.RunRenewals(ctx, s.DB(), query.DuckDB{}, biz, query.RenewalsRequest{From: date("2022-01-01"), To: date("2024-12-31"), Pipeline: "service", ContractPipelines: []string{"new business"}})
		if err != nil {
			t.Fatal(err)
		}
		// a1 renews a0 (10000 / 100000 − 1 = −0.9); b1 has no earlier contract.
		if r.Total.Due != 2 || r.Total.Uplifts != 1 || !near(r.Total.UpliftMean, -0.9) {
			t.Errorf("service as renewal %+v", r.Total)
		}
	})
}

// TestRunRenewals_RandomAgainstReference compares the renewal figures by
// month with a brute-force Go computation on random deal histories whose
// deals close on whole weeks, so that contracts often close at the same
// instant as a renewal (which they do not precede) or as each other.
func TestRunRenewals_RandomAgainstReference(t *testing.T) {
	biz := business(t, "preset: b2b\ncurrency: EUR\ntime_zone: UTC\n")
	pipes := []string{"service", "renewal", "renewal", "new business"}
	statuses := []string{"won", "won", "won", "lost", "open"}
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 11))
			s := openWith(t, "")
			type deal struct {
				id, acct, pipe, status string
				closed                 time.Time
				amount                 float64
			}
			base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
			var deals []deal
			var b strings.Builder
			b.WriteString("INSERT INTO deals (deal_id, account_id, pipeline, status, created_at, closed_at, amount, currency) VALUES ")
			n := 150 + r.IntN(150)
			for i := 0; i < n; i++ {
				dl := deal{id: fmt.Sprintf("d%03d", i), acct: fmt.Sprintf("A%d", r.IntN(10)), pipe: pipes[r.IntN(len(pipes))],
					status: statuses[r.IntN(len(statuses))], closed: base.AddDate(0, 0, 7*r.IntN(90)), // whole weeks: ties between contracts and renewals
					amount: float64(100 * (1 + r.IntN(200)))}
				deals = append(deals, dl)
				if i > 0 {
					b.WriteString(", ")
				}
				closed := "'" + dl.closed.Format(time.DateTime) + "'"
				if dl.status == "open" {
					closed = "NULL"
				}
				fmt.Fprintf(&b, "('%s', '%s', '%s', '%s', '2022-12-01', %s, %.0f, 'EUR')", dl.id, dl.acct, dl.pipe, dl.status, closed, dl.amount)
			}
			if _, err := s.DB().Exec(b.String()); err != nil {
				t.Fatal(err)
			}
			from, to := date("2023-06-01"), date("2024-09-30")
			got, err := query.RunRenewals(context.Background(), s.DB(), query.DuckDB{}, biz, query.RenewalsRequest{From: from, To: to, Grain: "month"})
			if err != nil {
				t.Fatal(err)
			}
			type agg struct {
				due, won int64
				ups      []float64
			}
			ref := map[string]*agg{}
			for _, rd := range deals {
				if rd.pipe != "renewal" || rd.status == "open" || rd.closed.Before(from) || !rd.closed.Before(to.AddDate(0, 0, 1)) {
					continue
				}
				m := time.Date(rd.closed.Year(), rd.closed.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
				a := ref[m]
				if a == nil {
					a = &agg{}
					ref[m] = a
				}
				a.due++
				if rd.status != "won" {
					continue
				}
				a.won++
				var prev *deal
				for i := range deals {
					c := &deals[i]
					if c.acct != rd.acct || c.status != "won" || c.id == rd.id || !c.closed.Before(rd.closed) || (c.pipe != "service" && c.pipe != "renewal") {
						continue
					}
					if prev == nil || c.closed.After(prev.closed) || (c.closed.Equal(prev.closed) && c.id > prev.id) {
						prev = c
					}
				}
				if prev != nil {
					a.ups = append(a.ups, rd.amount/prev.amount-1)
				}
			}
			if len(got.Rows) != len(ref) {
				t.Fatalf("%d rows, reference %d", len(got.Rows), len(ref))
			}
			for _, row := range got.Rows {
				a := ref[row.Period]
				if a == nil {
					t.Fatalf("unexpected period %s", row.Period)
				}
				var mean float64
				for _, u := range a.ups {
					mean += u / float64(len(a.ups))
				}
				slices.Sort(a.ups)
				if row.Due != a.due || row.Won != a.won || row.Uplifts != int64(len(a.ups)) ||
					(len(a.ups) > 0 && (!near(row.UpliftMean, mean) || !near(row.UpliftMedian, median(a.ups)))) {
					t.Errorf("%s: got %+v, reference due %d won %d uplifts %v", row.Period, row, a.due, a.won, a.ups)
				}
			}
		})
	}
}

func median(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
