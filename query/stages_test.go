package query_test

import (
	"context"
	"math"
	"testing"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

func counts(g query.FunnelGroup) []int64 {
	var out []int64
	for _, s := range g.Steps {
		out = append(out, s.Count)
	}
	return out
}

func eqCounts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func near(p *float64, w float64) bool { return p != nil && math.Abs(*p-w) < 1e-9 }

// TestRunStageFunnel_HandComputed checks the stage funnel on
// testdata/stages_small.sql against figures worked out by hand: a repeated
// stage, skipped stages, two stages at one instant, entries before and
// after the period, a stage outside the list and another entity type.
func TestRunStageFunnel_HandComputed(t *testing.T) {
	s := openWith(t, "stages_small.sql")
	biz := business(t, "preset: b2b\ncurrency: EUR\ntime_zone: UTC\nstages: [lead, mql, sql, won]\nreport_stages: {lead: lead, mql: mql, sql: sql}\n")
	ctx := context.Background()
	run := func(req query.StageFunnelRequest) *query.StageFunnel {
		t.Helper()
		req.From, req.To = date("2024-01-01"), date("2024-01-31")
		f, err := query.RunStageFunnel(ctx, s.DB(), query.DuckDB{}, biz, req)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	t.Run("Cohort", func(t *testing.T) {
		f := run(query.StageFunnelRequest{})
		st := f.Total.Steps
		if got := counts(f.Total); !eqCounts(got, []int64{4, 4, 3, 2}) {
			t.Fatalf("counts %v, want [4 4 3 2]", got)
		}
		if st[0].StepConversion != nil || !near(st[1].StepConversion, 1) || !near(st[2].StepConversion, 0.75) || !near(st[3].StepConversion, 2.0/3) || !near(st[3].OverallConversion, 0.5) {
			t.Errorf("conversions %+v", st)
		}
		if st[1].DropOff != 0 || st[2].DropOff != 1 || st[3].DropOff != 1 {
			t.Errorf("drop-offs %+v", st)
		}
		// lead→mql days: p1 2, p2 20, p3 0, p5 60.
		q := st[1].TimeFromPrevious
		if q.N != 4 || !near(q.Median, 11) || !near(q.P75, 30) || !near(q.P90, 48) || !near(q.Mean, 20.5) {
			t.Errorf("lead→mql %+v", q)
		}
		// mql→sql days: p1 6, p3 0, p5 0.
		q = st[2].TimeFromPrevious
		if q.N != 3 || !near(q.Median, 0) || !near(q.P75, 3) || !near(q.P90, 4.8) {
			t.Errorf("mql→sql %+v", q)
		}
		// lead→won: p1 44, p5 60.
		if q := st[3].TimeFromFirst; q.N != 2 || !near(q.Median, 52) {
			t.Errorf("lead→won %+v", q)
		}
	})
	t.Run("Within", func(t *testing.T) {
		for _, tc := range []struct {
			days int
			want []int64
		}{{30, []int64{4, 3, 2, 0}}, {45, []int64{4, 3, 2, 1}}, {60, []int64{4, 4, 3, 2}}} {
			if got := counts(run(query.StageFunnelRequest{WithinDays: tc.days}).Total); !eqCounts(got, tc.want) {
				t.Errorf("within %d: %v, want %v", tc.days, got, tc.want)
			}
		}
	})
	t.Run("Strict", func(t *testing.T) {
		if got := counts(run(query.StageFunnelRequest{Strict: true}).Total); !eqCounts(got, []int64{3, 2, 1, 1}) {
			t.Errorf("strict: %v, want [3 2 1 1]", got)
		}
	})
	t.Run("Period", func(t *testing.T) {
		f := run(query.StageFunnelRequest{Mode: "period"})
		if got := counts(f.Total); !eqCounts(got, []int64{4, 4, 3, 0}) {
			t.Errorf("period: %v, want [4 4 3 0]", got)
		}
	})
	t.Run("ByChannel", func(t *testing.T) {
		f := run(query.StageFunnelRequest{By: "channel"})
		want := map[string][]int64{"Paid Social": {2, 2, 1, 1}, "Email": {1, 1, 1, 0}, "Unassigned": {1, 1, 1, 1}}
		if len(f.Groups) != 3 || f.Groups[0].Key != "Paid Social" {
			t.Fatalf("groups %+v", f.Groups)
		}
		for _, g := range f.Groups {
			if !eqCounts(counts(g), want[g.Key]) {
				t.Errorf("%s: %v, want %v", g.Key, counts(g), want[g.Key])
			}
		}
		f = run(query.StageFunnelRequest{By: "person.segment"})
		for _, g := range f.Groups {
			if w := map[string]int64{"smb": 2, "ent": 1, "(not set)": 1}[g.Key]; g.Steps[0].Count != w {
				t.Errorf("segment %s: %d, want %d", g.Key, g.Steps[0].Count, w)
			}
		}
	})
	t.Run("Deals", func(t *testing.T) {
		f := run(query.StageFunnelRequest{Entity: "deal", Stages: []string{"opportunity", "proposal", "won"}})
		if got := counts(f.Total); !eqCounts(got, []int64{4, 1, 1}) {
			t.Errorf("deals: %v, want [4 1 1]", got)
		}
		if q := f.Total.Steps[2].TimeFromPrevious; !near(q.Median, 21) {
			t.Errorf("proposal→won %+v", q)
		}
	})
	t.Run("Err", func(t *testing.T) {
		for _, req := range []query.StageFunnelRequest{
			{Entity: "lead"}, {Stages: []string{"lead"}}, {Stages: []string{"lead", "lead"}}, {Mode: "x"},
			{Mode: "period", WithinDays: 3}, {By: "person.email_hash"}, {By: "name"}, {Entity: "account", By: "person.segment"},
		} {
			req.From, req.To = date("2024-01-01"), date("2024-01-31")
			if _, err := query.RunStageFunnel(ctx, s.DB(), query.DuckDB{}, biz, req); bowtie.ErrorCode(err) != bowtie.EINVALID {
				t.Errorf("%+v: err = %v, want EINVALID", req, err)
			}
		}
	})
}

// TestRunSales_HandComputed checks the pipeline metrics on
// testdata/stages_small.sql.
func TestRunSales_HandComputed(t *testing.T) {
	s := openWith(t, "stages_small.sql")
	biz := business(t, "preset: b2b\ncurrency: EUR\ntime_zone: UTC\n")
	got, err := query.RunSales(context.Background(), s.DB(), query.DuckDB{}, biz, query.SalesRequest{From: date("2024-01-01"), To: date("2024-02-29"), Pipeline: "new"})
	if err != nil {
		t.Fatal(err)
	}
	// Won d1 (30 days, 1000) and d3 (50 days, 3000 USD = 2700 EUR), lost d2.
	if got.Won != 2 || got.Lost != 1 || !near(got.WinRate, 2.0/3) {
		t.Errorf("won %d lost %d rate %v", got.Won, got.Lost, got.WinRate)
	}
	if q := got.SalesCycle; q.N != 2 || !near(q.Median, 40) || !near(q.P75, 45) || !near(q.P90, 48) || !near(q.Mean, 40) {
		t.Errorf("cycle %+v", q)
	}
	if !near(got.AverageDealSize, 1850) || got.WonValue != 3700 {
		t.Errorf("deal size %v won value %v", got.AverageDealSize, got.WonValue)
	}
	// Open d4 (proposal: closed deals through proposal d1, d3 both won →
	// 1) and d5 (negotiation: no history → overall 3 of 4 closed won).
	if got.Open != 2 || got.OpenValue != 3000 || got.WeightedValue != 2750 {
		t.Errorf("open %d value %v weighted %v; weights %+v", got.Open, got.OpenValue, got.WeightedValue, got.StageWinRates)
	}
	// Pipeline order: proposal has history, negotiation none (last).
	if len(got.StageWinRates) != 2 || got.StageWinRates[1].Stage != "negotiation" || !got.StageWinRates[1].Fallback || got.StageWinRates[0].Stage != "proposal" || !near(got.StageWinRates[0].Rate, 1) {
		t.Errorf("weights %+v", got.StageWinRates)
	}
	if !near(got.Velocity, 2*(2.0/3)*1850/40) {
		t.Errorf("velocity %v", got.Velocity)
	}
}

// TestRunSales_MQLFollowUp checks the MQL follow-up figures on a
// hand-computed case: touches before the MQL, by nobody's person, after a
// second MQL entry, of MQLs outside the period or too close to its end.
func TestRunSales_MQLFollowUp(t *testing.T) {
	s := openWith(t, "")
	biz := business(t, "preset: b2b\ntime_zone: UTC\n")
	for _, q := range []string{
		`INSERT INTO stage_changes VALUES
			('person', 'p1', 'mql', '2024-01-10 10:00', 'crm'),
			('person', 'p2', 'mql', '2024-01-20 08:00', 'crm'),
			('person', 'p3', 'mql', '2024-01-25 00:00', 'crm'),
			('person', 'p4', 'mql', '2023-12-01 00:00', 'crm'),
			('person', 'p5', 'mql', '2024-01-31 12:00', 'crm'),
			('person', 'p6', 'mql', '2024-01-05 10:00', 'crm'),
			('person', 'p6', 'mql', '2024-01-15 00:00', 'crm'),
			('person', 'p3', 'sql', '2024-01-26 00:00', 'crm')`,
		`INSERT INTO events (id, ts, type, name, person_id) VALUES
			('e1', '2024-01-10 09:00', 'track', 'sales_call', 'p1'),
			('e2', '2024-01-10 16:00', 'track', 'sales_email', 'p1'),
			('e3', '2024-01-12 09:00', 'track', 'sales_call', 'p1'),
			('e4', '2024-01-23 08:00', 'track', 'sales_meeting', 'p2'),
			('e5', '2024-01-25 01:00', 'track', 'webinar_attended', 'p3'),
			('e6', '2024-01-25 02:00', 'track', 'sales_call', NULL),
			('e7', '2024-01-05 00:00', 'track', 'sales_call', 'p4'),
			('e8', '2024-01-31 13:00', 'track', 'sales_call', 'p5'),
			('e9', '2024-01-15 10:00', 'track', 'sales_email', 'p6')`,
	} {
		if _, err := s.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	got, err := query.RunSales(context.Background(), s.DB(), query.DuckDB{}, biz, query.SalesRequest{From: date("2024-01-01"), To: date("2024-01-31")})
	if err != nil {
		t.Fatal(err)
	}
	f := got.MQLFollowUp
	// MQLs p1, p2, p3, p5, p6; touched p1 (6 h after), p2 (3 days), p5
	// (1 h), p6 (10 days after its first MQL); day-eligible all but p5, of
	// which only p1 within a day.
	if f.Stage != "mql" || f.MQLs != 5 || f.Touched != 4 || f.Untouched != 1 || f.DayEligible != 4 || !near(f.WithinDay, 0.25) {
		t.Errorf("follow-up %+v", f)
	}
	if q := f.Time; q.N != 4 || !near(q.Median, (0.25+3)/2) || !near(q.P90, 3+0.7*7) || !near(q.Mean, (1.0/24+0.25+3+10)/4) {
		t.Errorf("time to first touch %s", fmtQ(q))
	}
	// A business without touch events reports nothing.
	biz.SalesTouchEvents = nil
	got, err = query.RunSales(context.Background(), s.DB(), query.DuckDB{}, biz, query.SalesRequest{From: date("2024-01-01"), To: date("2024-01-31")})
	if err != nil {
		t.Fatal(err)
	}
	if f := got.MQLFollowUp; f.MQLs != 0 || f.Touched != 0 || f.WithinDay != nil || f.Time.N != 0 {
		t.Errorf("without touch events: %+v", f)
	}
}
