package query_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

// revenueHand is the hand-computed fixture of docs/metrics.md's MRR
// movements: thirteen customers in EUR (one in USD) over January to
// March 2024, each planted for one edge case (see the comments).
const revenueHand = `
INSERT INTO fx_rates VALUES ('2023-12-01', 'USD', 'EUR', 0.9), ('2024-01-15', 'USD', 'EUR', 0.8);
INSERT INTO subscriptions (subscription_id, valid_from, valid_to, customer_id, plan, status, billing_interval, amount, mrr, currency, canceled_at) VALUES
-- c1: steady 100 from before the range: opening, no movement
('s1', '2023-12-10 10:00', NULL, 'c1', 'pro', 'active', 'month', 100, 100, 'EUR', NULL),
-- c2: new 50 on 15 January
('s2', '2024-01-15 10:00', NULL, 'c2', 'basic', 'active', 'month', 50, 50, 'EUR', NULL),
-- c3: upgrade 80 → 120 on 20 January: expansion 40
('s3', '2023-12-01 10:00', '2024-01-20 10:00', 'c3', 'basic', 'active', 'month', 80, 80, 'EUR', NULL),
('s3', '2024-01-20 10:00', NULL, 'c3', 'pro', 'active', 'month', 120, 120, 'EUR', NULL),
-- c4: downgrade 60 → 45 on 5 January: contraction 15
('s4', '2023-11-01 10:00', '2024-01-05 10:00', 'c4', 'pro', 'active', 'month', 60, 60, 'EUR', NULL),
('s4', '2024-01-05 10:00', NULL, 'c4', 'basic', 'active', 'month', 45, 45, 'EUR', NULL),
-- c5: cancellation asked on 20 December, paid up to 1 February 00:00: churn 30 in January
-- (period_end) or out before January (cancel_request)
('s5', '2023-10-01 10:00', '2024-02-01 00:00', 'c5', 'basic', 'active', 'month', 30, 30, 'EUR', '2023-12-20 10:00'),
-- c6: paid June to September 2023, back on 12 January 2024 after 133 days: reactivation 40
('s6a', '2023-06-01 00:00', '2023-09-01 00:00', 'c6', 'basic', 'active', 'month', 40, 40, 'EUR', NULL),
('s6b', '2024-01-12 10:00', NULL, 'c6', 'basic', 'active', 'month', 40, 40, 'EUR', NULL),
-- c7: signs up on 3 January and leaves on 25 January: a spell inside one period
('s7', '2024-01-03 10:00', '2024-01-25 10:00', 'c7', 'basic', 'active', 'month', 20, 20, 'EUR', '2024-01-10 10:00'),
-- c8: trial from 28 December, pays 30 from 4 January
('s8', '2023-12-28 10:00', '2024-01-04 00:00', 'c8', 'basic', 'trialing', 'month', 30, 0, 'EUR', NULL),
('s8', '2024-01-04 00:00', NULL, 'c8', 'basic', 'active', 'month', 30, 30, 'EUR', NULL),
-- c9: a January trial that does not convert
('s9', '2024-01-02 10:00', '2024-01-09 10:00', 'c9', 'basic', 'trialing', 'month', 30, 0, 'EUR', '2024-01-05 10:00'),
-- c10: a February trial converting after 19 days
('s10', '2024-02-01 12:00', '2024-02-20 12:00', 'c10', 'basic', 'trialing', 'month', 25, 0, 'EUR', NULL),
('s10', '2024-02-20 12:00', NULL, 'c10', 'basic', 'active', 'month', 25, 25, 'EUR', NULL),
-- c11: paused 10 February to 10 March (29 days)
('s11', '2023-11-01 10:00', '2024-02-10 10:00', 'c11', 'pro', 'active', 'month', 50, 50, 'EUR', NULL),
('s11', '2024-02-10 10:00', '2024-03-10 10:00', 'c11', 'pro', 'paused', 'month', 50, 0, 'EUR', NULL),
('s11', '2024-03-10 10:00', NULL, 'c11', 'pro', 'active', 'month', 50, 50, 'EUR', NULL),
-- c12: first month at 7.49, then 14.99
('s12', '2024-01-20 10:00', '2024-02-20 10:00', 'c12', 'basic', 'active', 'month', 7.49, 7.49, 'EUR', NULL),
('s12', '2024-02-20 10:00', NULL, 'c12', 'basic', 'active', 'month', 14.99, 14.99, 'EUR', NULL),
-- c13: 100 USD, converted at 0.9 (rate of 31 December) then 0.8 (rate of 31 January on): contraction 10
('s13', '2023-12-01 10:00', NULL, 'c13', 'pro', 'active', 'month', 100, 100, 'USD', NULL);
`

// want is one period's hand-computed movements: MRR opening, new,
// expansion, contraction, churn, reactivation, closing; customers
// opening, new, reactivated, churned, closing.
type want struct {
	mrr  [7]float64
	cust [5]int64
}

func TestRevenue_HandComputed(t *testing.T) {
	base := [3]want{
		// January: opening c1 100 + c3 80 + c4 60 + c5 30 + c11 50 + c13 90 = 410; new c2 50 + c8 30 + c12 7.49;
		// expansion c3 40; contraction c4 15 + c13 10 (fx); churn c5 30; reactivation c6 40.
		{[7]float64{410, 87.49, 40, 25, 30, 40, 522.49}, [5]int64{6, 3, 1, 1, 9}},
		// February: new c10 25; expansion c12 7.50 (the discount ends); churn c11 50 (paused).
		{[7]float64{522.49, 25, 7.5, 0, 50, 0, 504.99}, [5]int64{9, 1, 0, 1, 9}},
		// March: c11 resumes: reactivation 50.
		{[7]float64{504.99, 0, 0, 0, 0, 50, 554.99}, [5]int64{9, 0, 1, 0, 10}},
	}
	edit := func(f func(w *[3]want)) [3]want { w := base; f(&w); return w }
	cases := []struct {
		setting string
		want    [3]want
		trials  [3][2]int64
	}{
		{"", base, [3][2]int64{{1, 0}, {1, 1}, {0, 0}}},
		// c5 stops at its cancellation request in December: not in January's opening, no churn.
		{"mrr_stop: cancel_request", edit(func(w *[3]want) {
			w[0] = want{[7]float64{380, 87.49, 40, 25, 0, 40, 522.49}, [5]int64{5, 3, 1, 0, 9}}
		}), [3][2]int64{{1, 0}, {1, 1}, {0, 0}}},
		// c6 returns after 133 days > 30: new; c11 after 29 days: still reactivation.
		{"reactivation_window_days: 30", edit(func(w *[3]want) {
			w[0] = want{[7]float64{410, 127.49, 40, 25, 30, 0, 522.49}, [5]int64{6, 4, 0, 1, 9}}
		}), [3][2]int64{{1, 0}, {1, 1}, {0, 0}}},
		// The window's edge: c11's gap is exactly 29 days (10 February to 10 March 2024), still
		// a reactivation with a window of 29 days, new with 28.
		{"reactivation_window_days: 29", edit(func(w *[3]want) {
			w[0] = want{[7]float64{410, 127.49, 40, 25, 30, 0, 522.49}, [5]int64{6, 4, 0, 1, 9}}
		}), [3][2]int64{{1, 0}, {1, 1}, {0, 0}}},
		{"reactivation_window_days: 28", edit(func(w *[3]want) {
			w[0] = want{[7]float64{410, 127.49, 40, 25, 30, 0, 522.49}, [5]int64{6, 4, 0, 1, 9}}
			w[2] = want{[7]float64{504.99, 50, 0, 0, 0, 0, 554.99}, [5]int64{9, 1, 0, 0, 10}}
		}), [3][2]int64{{1, 0}, {1, 1}, {0, 0}}},
		// c7 shows as new 20 and churn 20 in January.
		{"same_period: split", edit(func(w *[3]want) {
			w[0] = want{[7]float64{410, 107.49, 40, 25, 50, 40, 522.49}, [5]int64{6, 4, 1, 2, 9}}
		}), [3][2]int64{{1, 0}, {1, 1}, {0, 0}}},
		// c8's trial counts at 30 from 28 December: in January's opening, not new.
		{"trials_in_mrr: true", edit(func(w *[3]want) {
			w[0] = want{[7]float64{440, 57.49, 40, 25, 30, 40, 522.49}, [5]int64{7, 2, 1, 1, 9}}
		}), [3][2]int64{{1, 0}, {1, 1}, {0, 0}}},
		// c11's pause keeps its 50: no churn in February, no reactivation in March.
		{"pauses_in_mrr: true", edit(func(w *[3]want) {
			w[1] = want{[7]float64{522.49, 25, 7.5, 0, 0, 0, 554.99}, [5]int64{9, 1, 0, 0, 10}}
			w[2] = want{[7]float64{554.99, 0, 0, 0, 0, 0, 554.99}, [5]int64{10, 0, 0, 0, 10}}
		}), [3][2]int64{{1, 0}, {1, 1}, {0, 0}}},
		// c12's step to full price is new MRR (1 February < 20 January + 40 days), and so is c3's
		// upgrade (1 January < 1 December + 40 days); the new-customer counts do not change.
		{"discount_window_days: 40", edit(func(w *[3]want) {
			w[0] = want{[7]float64{410, 127.49, 0, 25, 30, 40, 522.49}, [5]int64{6, 3, 1, 1, 9}}
			w[1] = want{[7]float64{522.49, 32.5, 0, 0, 50, 0, 504.99}, [5]int64{9, 1, 0, 1, 9}}
		}), [3][2]int64{{1, 0}, {1, 1}, {0, 0}}},
		// c10 converts after 19 days > 10.
		{"trial_conversion_days: 10", base, [3][2]int64{{1, 0}, {1, 0}, {0, 0}}},
	}
	s := openWith(t, "")
	if _, err := s.DB().Exec(revenueHand); err != nil {
		t.Fatal(err)
	}
	// Both paths of the totals: the Go walk and the SQL change-based query.
	defer query.SetRevenueSQLOnly(false)
	for _, sqlOnly := range []bool{false, true} {
		query.SetRevenueSQLOnly(sqlOnly)
		for _, c := range cases {
			if sqlOnly {
				c.setting += " " // names the path in the messages
			}
			yaml := "preset: b2c\ncurrency: EUR\ntime_zone: UTC\n"
			if c.setting != "" {
				yaml += "revenue: {" + c.setting + "}\n"
			}
			biz := business(t, yaml)
			got, err := query.RevenueQuery(context.Background(), s.DB(), query.DuckDB{}, biz,
				query.RevenueOptions{From: date("2024-01-01"), To: date("2024-03-31"), Grain: "month"})
			if err != nil {
				t.Fatalf("%s: %v", c.setting, err)
			}
			if len(got.Periods) != 3 {
				t.Fatalf("%s: %d periods", c.setting, len(got.Periods))
			}
			for i, p := range got.Periods {
				w := c.want[i]
				g := [7]float64{p.OpeningMRR, p.NewMRR, p.Expansion, p.Contraction, p.Churn, p.Reactivation, p.ClosingMRR}
				for j := range g {
					if math.Abs(g[j]-w.mrr[j]) > 1e-9 {
						t.Errorf("%q %s: MRR open/new/exp/con/churn/react/close = %v, want %v", c.setting, p.Period, g, w.mrr)
						break
					}
				}
				gc := [5]int64{p.OpeningCustomers, p.NewCustomers, p.ReactivatedCustomers, p.ChurnedCustomers, p.ClosingCustomers}
				if gc != w.cust {
					t.Errorf("%q %s: customers open/new/react/churn/close = %v, want %v", c.setting, p.Period, gc, w.cust)
				}
				if p.TrialsStarted != c.trials[i][0] || p.TrialsConverted != c.trials[i][1] {
					t.Errorf("%q %s: trials %d → %d, want %v", c.setting, p.Period, p.TrialsStarted, p.TrialsConverted, c.trials[i])
				}
				if math.Abs(p.NetNewMRR-(p.ClosingMRR-p.OpeningMRR)) > 1e-9 || math.Abs(p.ClosingARR-12*p.ClosingMRR) > 1e-9 {
					t.Errorf("%q %s: net new %v, ARR %v", c.setting, p.Period, p.NetNewMRR, p.ClosingARR)
				}
			}
		}
	}
}

// TestRevenue_Rates checks the rates on January of the hand-computed
// fixture against their published definitions:
//   - logo churn: customers churned in the period ÷ customers at its
//     start (ChartMogul, "Customer churn rate"; Baremetrics, "User churn");
//   - daily-weighted logo churn: churned ÷ the average number of
//     customers over the period's days (churn per customer-day);
//   - gross MRR churn (churned + contraction MRR) ÷ opening MRR and net MRR
//     churn (churned + contraction − expansion − reactivation) ÷ opening
//     (ChartMogul, "Net MRR churn rate");
//   - NRR = (opening − churned − contraction + expansion) ÷ opening, the
//     Baremetrics formula 100 % − (churned − expansion) ÷ starting MRR with
//     contraction counted in churned MRR; GRR the same without expansion;
//   - quick ratio (new + expansion + reactivation) ÷ (churned +
//     contraction) (Mamoon Hamid's SaaS quick ratio);
//   - ARPA closing MRR ÷ closing customers.
func TestRevenue_Rates(t *testing.T) {
	s := openWith(t, "")
	if _, err := s.DB().Exec(revenueHand); err != nil {
		t.Fatal(err)
	}
	biz := business(t, "preset: b2c\ncurrency: EUR\ntime_zone: UTC\n")
	got, err := query.RevenueQuery(context.Background(), s.DB(), query.DuckDB{}, biz,
		query.RevenueOptions{From: date("2024-01-01"), To: date("2024-01-31"), Grain: "month"})
	if err != nil {
		t.Fatal(err)
	}
	p := got.Periods[0]
	// Customers at each day's start in January: 6 all month; c8 from the 4th (28 days), c6 from
	// the 13th (19), c2 from the 16th (16), c7 from the 4th to the 25th (22), c12 from the 21st (11).
	avgDaily := float64(6*31+28+19+16+22+11) / 31
	checks := []struct {
		name string
		got  *float64
		want float64
	}{
		{"logo_churn", p.LogoChurn, 1.0 / 6},
		{"logo_churn_daily_weighted", p.LogoChurnDailyWeighted, 1 / avgDaily},
		{"average_daily_customers", p.AverageDailyCustomers, avgDaily},
		{"gross_mrr_churn", p.GrossMRRChurn, (30.0 + 25) / 410},
		{"net_mrr_churn", p.NetMRRChurn, (30.0 + 25 - 40 - 40) / 410},
		{"grr", p.GRR, (410.0 - 30 - 25) / 410},
		{"nrr", p.NRR, (410.0 - 30 - 25 + 40) / 410},
		{"quick_ratio", p.QuickRatio, (87.49 + 40 + 40) / (30.0 + 25)},
		{"arpa", p.ARPA, 522.49 / 9},
		{"arpa_average", p.ARPAAverage, (410 + 522.49) / 15},
		{"trial_to_paid", p.TrialToPaid, 0},
	}
	for _, c := range checks {
		if c.got == nil || math.Abs(*c.got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestRevenue_T12M checks trailing-12-month GRR and NRR by hand: the
// cohort is the customers with MRR at the end of the month twelve months
// before (KeyBanc's net dollar retention: their ARR now ÷ their ARR then;
// gross retention caps each customer at its ARR then).
func TestRevenue_T12M(t *testing.T) {
	s := openWith(t, "")
	if _, err := s.DB().Exec(`INSERT INTO subscriptions (subscription_id, valid_from, valid_to, customer_id, plan, status, billing_interval, amount, mrr, currency) VALUES
	('a', '2023-01-10', '2023-08-01', 'A', 'p', 'active', 'month', 100, 100, 'EUR'),   -- churns: 100 → 0
	('a2', '2023-08-01', NULL, 'A2', 'p', 'active', 'month', 999, 999, 'EUR'),          -- joined after: not in the cohort
	('b', '2023-01-10', '2023-06-01', 'B', 'p', 'active', 'month', 100, 100, 'EUR'),
	('b', '2023-06-01', NULL, 'B', 'p', 'active', 'month', 150, 150, 'EUR'),           -- expands: 100 → 150
	('c', '2023-01-10', '2023-06-01', 'C', 'p', 'active', 'month', 200, 200, 'EUR'),
	('c', '2023-06-01', NULL, 'C', 'p', 'active', 'month', 120, 120, 'EUR')            -- contracts: 200 → 120
	`); err != nil {
		t.Fatal(err)
	}
	biz := business(t, "preset: b2c\ncurrency: EUR\ntime_zone: UTC\n")
	got, err := query.RevenueQuery(context.Background(), s.DB(), query.DuckDB{}, biz,
		query.RevenueOptions{From: date("2024-01-01"), To: date("2024-01-31"), Grain: "month", Trailing: true})
	if err != nil {
		t.Fatal(err)
	}
	p := got.Periods[0]
	// Cohort at 1 February 2023: A 100, B 100, C 200 = 400. On 1 February 2024: 0 + 150 + 120 = 270;
	// capped 0 + 100 + 120 = 220.
	if p.NRRT12M == nil || math.Abs(*p.NRRT12M-270.0/400) > 1e-9 || p.GRRT12M == nil || math.Abs(*p.GRRT12M-220.0/400) > 1e-9 {
		t.Errorf("t12m nrr %v grr %v, want %v %v", p.NRRT12M, p.GRRT12M, 270.0/400, 220.0/400)
	}
}

func TestRevenue_Log(t *testing.T) {
	s := openWith(t, "")
	if _, err := s.DB().Exec(revenueHand); err != nil {
		t.Fatal(err)
	}
	biz := business(t, "preset: b2c\ncurrency: EUR\ntime_zone: UTC\nrevenue: {same_period: split}\n")
	got, err := query.RevenueLog(context.Background(), s.DB(), query.DuckDB{}, biz,
		query.RevenueOptions{From: date("2024-01-01"), To: date("2024-01-31")})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, m := range got.Moves {
		lines = append(lines, strings.Join([]string{m.Customer, m.Period, m.Type, ftoa(m.MRRBefore), ftoa(m.MRRAfter), m.PlanBefore, m.PlanAfter}, " "))
	}
	want := []string{
		"c12 2024-01-01 new 0 7.49  basic",
		"c13 2024-01-01 contraction 90 80 pro pro",
		"c2 2024-01-01 new 0 50  basic",
		"c3 2024-01-01 expansion 80 120 basic pro",
		"c4 2024-01-01 contraction 60 45 pro basic",
		"c5 2024-01-01 churn 30 0 basic ",
		"c6 2024-01-01 reactivation 0 40  basic",
		"c7 2024-01-01 new 0 20  basic",
		"c7 2024-01-01 churn 20 0 basic ",
		"c8 2024-01-01 new 0 30  basic",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestRevenue_BadInput(t *testing.T) {
	biz := business(t, "preset: b2c\ncurrency: EUR\ntime_zone: UTC\n")
	opts := query.RevenueOptions{From: date("2024-01-01"), To: date("2024-03-31")}
	run := func(setup string) error {
		s := openWith(t, "")
		if _, err := s.DB().Exec(setup); err != nil {
			t.Fatal(err)
		}
		_, err := query.RevenueQuery(context.Background(), s.DB(), query.DuckDB{}, biz, opts)
		if err == nil {
			return nil
		}
		if _, lerr := query.RevenueLog(context.Background(), s.DB(), query.DuckDB{}, biz, opts); lerr == nil || lerr.Error() != err.Error() {
			t.Errorf("log error %v, revenue error %v", lerr, err)
		}
		return err
	}
	// A GBP subscription from 5 February without any GBP rate: its first MRR is at 1 March, with
	// the rate of 29 February.
	err := run(`INSERT INTO subscriptions (subscription_id, valid_from, customer_id, status, amount, mrr, currency) VALUES
		('g', '2024-02-05', 'G', 'active', 10, 10, 'GBP'), ('e', '2024-01-05', 'E', 'active', 10, 10, 'EUR')`)
	if err == nil || !strings.Contains(err.Error(), "no exchange rate for GBP→EUR on 2024-02-29") || bowtie.ErrorCode(err) != bowtie.EINVALID {
		t.Errorf("missing rate: %v", err)
	}
	// Overlapping segments of one subscription.
	err = run(`INSERT INTO subscriptions (subscription_id, valid_from, valid_to, customer_id, status, amount, mrr, currency) VALUES
		('ok', '2024-01-01', '2024-02-01', 'A', 'active', 10, 10, 'EUR'), ('ok', '2024-02-01', NULL, 'A', 'active', 20, 20, 'EUR'),
		('bad2', '2024-01-01', NULL, 'B', 'active', 10, 10, 'EUR'), ('bad2', '2024-03-01', NULL, 'B', 'active', 20, 20, 'EUR'),
		('bad1', '2024-01-01', '2024-02-10', 'C', 'active', 10, 10, 'EUR'), ('bad1', '2024-02-01', NULL, 'C', 'active', 20, 20, 'EUR'),
		-- the last segment overlaps only the first, which spans the middle one
		('bad3', '2024-01-01', '2024-12-01', 'D', 'active', 10, 10, 'EUR'), ('bad3', '2024-02-01', '2024-03-01', 'D', 'active', 20, 20, 'EUR'),
		('bad3', '2024-04-01', '2024-05-01', 'D', 'active', 20, 20, 'EUR'),
		('ok3', '2024-01-01', '2024-02-01', 'E', 'active', 10, 10, 'EUR'), ('ok3', '2024-02-01', '2024-03-01', 'E', 'active', 20, 20, 'EUR'),
		('ok3', '2024-03-01', NULL, 'E', 'active', 20, 20, 'EUR')`)
	if err == nil || !strings.HasSuffix(err.Error(), "in subscription_id bad1, bad2, bad3") {
		t.Errorf("overlaps: %v", err)
	}
	// Settings out of range.
	for _, y := range []string{"same_period: both", "mrr_stop: never", "reactivation_window_days: -1", "discount_window_days: -2", "trial_conversion_days: 0"} {
		path := filepath.Join(t.TempDir(), "bowtie.yaml")
		os.WriteFile(path, []byte("preset: b2c\nrevenue: {"+y+"}\n"), 0o644)
		if _, err := bowtie.LoadBusiness(path, false); err == nil || bowtie.ErrorCode(err) != bowtie.EINVALID || !strings.Contains(err.Error(), "revenue.") {
			t.Errorf("revenue: {%s} accepted", y)
		}
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
