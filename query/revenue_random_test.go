package query_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

// revenueWorld is a random subscription history written into a store.
type revenueWorld struct {
	segs    []refSeg
	fx      refFX
	channel map[string]string
	segment map[string]string
}

// revenueSettings are the policies the random test runs: the defaults,
// each setting changed alone, and all changed at once.
func revenueSettings() []string {
	return []string{
		"",
		"reactivation_window_days: 45",
		"same_period: split",
		"mrr_stop: cancel_request",
		"trials_in_mrr: true",
		"pauses_in_mrr: true",
		"discount_window_days: 40",
		"trial_conversion_days: 3",
		"{reactivation_window_days: 20, same_period: split, mrr_stop: cancel_request, trials_in_mrr: true, pauses_in_mrr: true, discount_window_days: 35}",
	}
}

// TestRevenue_BruteForce compares every figure of the movements (totals
// and each breakdown) with the Go reference, cell by cell, for every
// setting, grain and several time zones.
func TestRevenue_BruteForce(t *testing.T) {
	zones := []string{"UTC", "America/New_York", "Asia/Kolkata"}
	seen := map[string]int{}
	defer func() {
		// The random worlds must exercise every movement, or the
		// comparison proves little.
		for _, typ := range []string{"new", "expansion", "contraction", "churn", "reactivation", "blip", "trial", "converted", "t12m"} {
			if seen[typ] == 0 {
				t.Errorf("no %s in any random world: %v", typ, seen)
			}
		}
		t.Logf("movements compared: %v", seen)
	}()
	for seed := uint64(1); seed <= 3; seed++ {
		tz := zones[int(seed-1)%len(zones)]
		s := openWith(t, "")
		db := s.DB()
		r := rand.New(rand.NewPCG(seed, 7))
		w := writeRevenueWorld(t, db, r)
		for _, setting := range revenueSettings() {
			yaml := "preset: b2c\ncurrency: EUR\ntime_zone: " + tz + "\n"
			if setting != "" {
				if setting[0] == '{' {
					yaml += "revenue: " + setting + "\n"
				} else {
					yaml += "revenue: {" + setting + "}\n"
				}
			}
			biz := business(t, yaml)
			for _, grain := range []string{"day", "week", "month"} {
				from, to := date("2024-02-10"), date("2024-05-20")
				if grain == "day" {
					from, to = date("2024-03-01"), date("2024-03-31") // DST starts 2024-03-10 in New York
				}
				name := fmt.Sprintf("seed%d/%s/%s/%s", seed, tz, setting, grain)
				for _, by := range []string{"", "plan", "channel", "segment", "cohort"} {
					if by != "" && (grain != "month" || setting != "" && setting[0] != '{') {
						continue
					}
					// The change-based query (every breakdown but plan) and, for the
					// totals, the snapshot query too.
					for _, snapshots := range []bool{false, true} {
						if snapshots && by != "" {
							continue
						}
						query.SetRevenueSnapshotsOnly(snapshots)
						got, err := query.RevenueQuery(context.Background(), db, query.DuckDB{}, biz, query.RevenueOptions{From: from, To: to, Grain: grain, By: by, Trailing: grain == "month" && by == ""})
						query.SetRevenueSnapshotsOnly(false)
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						compareRevenue(t, fmt.Sprintf("%s/%s/snapshots=%v", name, by, snapshots), w, biz, got, grain, from, to, by, seen)
					}
				}
			}
		}
	}
}

// writeRevenueWorld draws customers with one to three subscriptions,
// each a chain of segments (trials, active at several prices, plans and
// intervals, pauses, canceled stretches, gaps, cancellation requests
// before the end, segments still running), in EUR, USD and GBP with rates
// quoted (directly or inversely) on random dates, and people with and
// without a channel and segment, and writes them into db.
func writeRevenueWorld(t *testing.T, db *sql.DB, r *rand.Rand) *revenueWorld {
	t.Helper()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	w := &revenueWorld{channel: map[string]string{}, segment: map[string]string{}}
	quotes := map[string]map[time.Time]float64{"USD": {}, "GBP": {}}
	for _, cur := range []string{"USD", "GBP"} {
		for i := 0; i < 40; i++ {
			d := date("2022-12-01")
			if i > 0 {
				d = d.AddDate(0, 0, r.IntN(660))
			}
			if _, dup := quotes[cur][d]; dup {
				continue
			}
			v := math.Round((0.5+r.Float64())*1e6) / 1e6
			quotes[cur][d] = v
			if r.IntN(2) == 0 {
				exec("INSERT INTO fx_rates VALUES (?, ?, 'EUR', ?)", d, cur, v)
			} else {
				exec("INSERT INTO fx_rates VALUES (?, 'EUR', ?, ?)", d, cur, 1/v)
			}
		}
	}
	w.fx = func(cur string, d time.Time) (float64, bool) {
		if cur == "EUR" {
			return 1, true
		}
		var best time.Time
		v, ok := 0.0, false
		for qd, qv := range quotes[cur] {
			if !qd.After(d) && (!ok || qd.After(best)) {
				best, v, ok = qd, qv, true
			}
		}
		return v, ok
	}
	channels := []string{"Paid Social", "Organic Search", "Referral Program", ""}
	segments := []string{"fitness", "yoga", ""}
	plans := []string{"basic", "pro", "team"}
	prices := []float64{9.99, 19, 29.5, 120, 240, 4.5}
	intervals := []string{"month", "month", "year", "week"}
	nc := 14 + r.IntN(6)
	for c := 0; c < nc; c++ {
		cust := fmt.Sprintf("c%02d", c)
		ch, sg := channels[r.IntN(len(channels))], segments[r.IntN(len(segments))]
		w.channel[cust], w.segment[cust] = cmpOr(ch, "Unassigned"), cmpOr(sg, "(none)")
		exec("INSERT INTO people (person_id, channel, segment) VALUES (?, NULLIF(?, ''), NULLIF(?, ''))", cust, ch, sg)
		for sub := 0; sub < 1+r.IntN(3); sub++ {
			sid := fmt.Sprintf("%s-s%d", cust, sub)
			cur := []string{"EUR", "EUR", "USD", "GBP"}[r.IntN(4)]
			at := date("2023-01-01").Add(time.Duration(r.Int64N(int64(500 * 24 * time.Hour)))).Truncate(time.Second)
			n := 1 + r.IntN(6)
			for i := 0; i < n; i++ {
				s := refSeg{sub: sid, cust: cust, cur: cur, from: at, plan: plans[r.IntN(len(plans))],
					interval: intervals[r.IntN(len(intervals))], count: 1 + r.IntN(2)/1, amount: prices[r.IntN(len(prices))]}
				if r.IntN(3) > 0 {
					s.count = 1
				}
				x := r.Float64()
				switch {
				case i == 0 && x < 0.4:
					s.status = "trialing"
				case x < 0.12:
					s.status = "paused"
				case x < 0.2:
					s.status = "canceled"
				default:
					s.status = "active"
				}
				if s.status == "active" {
					s.mrr = math.Round(refNorm(s)*1e4) / 1e4
				}
				if r.IntN(8) == 0 {
					// a period boundary exactly (UTC midnight on the 1st)
					m := at.AddDate(0, 1, 0)
					s.to = time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, time.UTC)
				} else {
					s.to = at.Add(time.Duration(r.Int64N(int64(80*24*time.Hour)) + int64(time.Hour))).Truncate(time.Second)
				}
				if r.IntN(4) == 0 {
					s.canceled = s.from.Add(time.Duration(r.Int64N(int64(s.to.Sub(s.from)) + 1))).Truncate(time.Second)
					if r.IntN(4) == 0 {
						s.canceled = s.from.Add(-time.Hour)
					}
				}
				at = s.to
				if r.IntN(5) == 0 {
					at = at.Add(time.Duration(r.Int64N(int64(100 * 24 * time.Hour)))).Truncate(time.Second)
				}
				if i == n-1 && r.IntN(5) < 2 {
					s.to = time.Time{}
				}
				w.segs = append(w.segs, s)
				exec(`INSERT INTO subscriptions (subscription_id, valid_from, valid_to, customer_id, plan, status, billing_interval,
					interval_count, amount, quantity, mrr, currency, canceled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
					sid, s.from, nullTime(s.to), cust, s.plan, s.status, s.interval, s.count, s.amount, s.mrr, s.cur, nullTime(s.canceled))
			}
		}
	}
	return w
}

func cmpOr(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// bounds returns the boundary instants and rate dates of a grid, as the
// documentation defines them, computed here without the package's code.
func bounds(grain string, loc *time.Location, from, to time.Time, extra int) (bt, bd, starts []time.Time) {
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc)
	switch grain {
	case "week":
		for start.Weekday() != time.Monday {
			start = start.AddDate(0, 0, -1)
		}
	case "month":
		start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, loc)
	}
	step := func(n int) time.Time {
		switch grain {
		case "week":
			return start.AddDate(0, 0, 7*n)
		case "month":
			return start.AddDate(0, n, 0)
		}
		return start.AddDate(0, 0, n)
	}
	end := time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, loc)
	for k := -extra; ; k++ {
		b := step(k)
		last := b.AddDate(0, 0, -1)
		bt = append(bt, b)
		bd = append(bd, time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC))
		p := step(k - 1)
		starts = append(starts, time.Date(p.Year(), p.Month(), p.Day(), 0, 0, 0, 0, time.UTC))
		if !b.Before(end) {
			return
		}
	}
}

type refAgg struct {
	open, closing, nw, exp, con, churn, react float64
	oc, cc, nc, rc, chc                       int64
}

func aggregate(moves []refMove, group func(m refMove) string) map[string]*refAgg {
	out := map[string]*refAgg{}
	for _, m := range moves {
		g := group(m)
		a := out[g]
		if a == nil {
			a = &refAgg{}
			out[g] = a
		}
		a.open += m.before
		a.closing += m.after
		if m.before > 0 {
			a.oc++
		}
		if m.after > 0 {
			a.cc++
		}
		switch m.typ {
		case "new":
			a.nw += m.after - m.before + m.bv
			if m.before == 0 {
				a.nc++
			}
		case "reactivation":
			a.react += m.after - m.before + m.bv
			if m.before == 0 {
				a.rc++
			}
		case "expansion":
			a.exp += m.after - m.before
		case "contraction":
			a.con += m.before - m.after
		case "churn":
			a.churn += m.before
			a.chc++
		}
		if m.bv > 0 {
			a.churn += m.bv
			a.chc++
		}
	}
	return out
}

func compareRevenue(t *testing.T, name string, w *revenueWorld, biz *bowtie.Business, got *query.Revenue, grain string, from, to time.Time, by string, seen map[string]int) {
	t.Helper()
	loc := biz.Location()
	bt, bd, starts := bounds(grain, loc, from, to, 0)
	ref, _ := refRevenue(w.segs, biz.Revenue, w.fx, loc, bt, bd)
	if len(got.Periods) != len(ref) {
		t.Fatalf("%s: %d periods, want %d", name, len(got.Periods), len(ref))
	}
	st := refBuild(w.segs, biz.Revenue)
	group := func(m refMove) string { return "" }
	switch by {
	case "plan":
		group = func(m refMove) string {
			if m.pa != "" {
				return m.pa
			}
			if m.pb != "" {
				return m.pb
			}
			return "(none)"
		}
	case "channel":
		group = func(m refMove) string { return w.channel[m.c] }
	case "segment":
		group = func(m refMove) string { return w.segment[m.c] }
	case "cohort":
		group = func(m refMove) string { return st.spells[m.c][0].ss.In(loc).Format("2006-01") }
	}
	near := func(what string, a, b float64, tol float64) {
		t.Helper()
		if math.Abs(a-b) > tol {
			t.Errorf("%s: %s = %v, want %v", name, what, a, b)
		}
	}
	var groups []query.RevenuePeriod
	for k := 1; k < len(bt); k++ {
		p := got.Periods[k-1]
		rp := ref[k-1]
		if want := starts[k].Format(time.DateOnly); p.Period != want {
			t.Fatalf("%s: period %d is %s, want %s", name, k, p.Period, want)
		}
		aggs := aggregate(rp.moves, group)
		for _, m := range rp.moves {
			seen[m.typ]++
			if m.bv > 0 {
				seen["blip"]++
			}
		}
		seen["trial"] += int(rp.trials)
		seen["converted"] += int(rp.trialsConverted)
		var keys []string
		for g := range aggs {
			keys = append(keys, g)
		}
		sort.Strings(keys)
		if by == "" {
			a := aggs[""]
			if a == nil {
				a = &refAgg{}
			}
			check := func(what string, got *query.RevenuePeriod, a *refAgg) {
				near(what+" opening", got.OpeningMRR, a.open, 1e-3)
				near(what+" closing", got.ClosingMRR, a.closing, 1e-3)
				near(what+" new", got.NewMRR, a.nw, 1e-3)
				near(what+" expansion", got.Expansion, a.exp, 1e-3)
				near(what+" contraction", got.Contraction, a.con, 1e-3)
				near(what+" churn", got.Churn, a.churn, 1e-3)
				near(what+" reactivation", got.Reactivation, a.react, 1e-3)
				near(what+" net new", got.NetNewMRR, got.NewMRR+got.Expansion-got.Contraction-got.Churn+got.Reactivation, 2e-3)
				if got.OpeningCustomers != a.oc || got.ClosingCustomers != a.cc || got.NewCustomers != a.nc || got.ReactivatedCustomers != a.rc || got.ChurnedCustomers != a.chc {
					t.Errorf("%s: %s customers open/new/react/churn/close = %d/%d/%d/%d/%d, want %d/%d/%d/%d/%d", name, what,
						got.OpeningCustomers, got.NewCustomers, got.ReactivatedCustomers, got.ChurnedCustomers, got.ClosingCustomers,
						a.oc, a.nc, a.rc, a.chc, a.cc)
				}
			}
			check(p.Period, &p, a)
			if p.AverageDailyCustomers == nil {
				t.Errorf("%s: %s: no average daily customers", name, p.Period)
			} else {
				near(p.Period+" average daily customers", *p.AverageDailyCustomers, rp.avgDaily, 1e-9)
			}
			if p.TrialsStarted != rp.trials || p.TrialsConverted != rp.trialsConverted {
				t.Errorf("%s: %s trials %d→%d, want %d→%d", name, p.Period, p.TrialsStarted, p.TrialsConverted, rp.trials, rp.trialsConverted)
			}
			if got.Grain == "month" && p.NRRT12M != nil {
				ebt, ebd, _ := bounds("month", loc, from, to, 12)
				grr, nrr, ok := refT12M(w.segs, biz.Revenue, w.fx, ebt, ebd, k+12)
				if !ok {
					t.Errorf("%s: %s: t12m present, reference has no cohort", name, p.Period)
				} else {
					seen["t12m"]++
					near(p.Period+" nrr_t12m", *p.NRRT12M, nrr, 1e-6)
					near(p.Period+" grr_t12m", *p.GRRT12M, grr, 1e-6)
				}
			}
			continue
		}
		for _, g := range keys {
			a := aggs[g]
			if a.open == 0 && a.closing == 0 && a.nw == 0 && a.react == 0 && a.churn == 0 {
				continue
			}
			groups = append(groups, query.RevenuePeriod{Period: p.Period, Group: g, OpeningMRR: a.open, ClosingMRR: a.closing,
				NewMRR: a.nw, Expansion: a.exp, Contraction: a.con, Churn: a.churn, Reactivation: a.react,
				OpeningCustomers: a.oc, ClosingCustomers: a.cc, NewCustomers: a.nc, ReactivatedCustomers: a.rc, ChurnedCustomers: a.chc})
		}
	}
	if by == "" {
		return
	}
	if len(groups) != len(got.Groups) {
		t.Fatalf("%s: %d group rows, want %d\ngot %+v\nwant %+v", name, len(got.Groups), len(groups), got.Groups, groups)
	}
	for i, w := range groups {
		g := got.Groups[i]
		what := g.Period + "/" + g.Group
		if g.Period != w.Period || g.Group != w.Group {
			t.Fatalf("%s: group row %d is %s/%s, want %s/%s", name, i, g.Period, g.Group, w.Period, w.Group)
		}
		near(what+" opening", g.OpeningMRR, w.OpeningMRR, 1e-3)
		near(what+" closing", g.ClosingMRR, w.ClosingMRR, 1e-3)
		near(what+" new", g.NewMRR, w.NewMRR, 1e-3)
		near(what+" expansion", g.Expansion, w.Expansion, 1e-3)
		near(what+" contraction", g.Contraction, w.Contraction, 1e-3)
		near(what+" churn", g.Churn, w.Churn, 1e-3)
		near(what+" reactivation", g.Reactivation, w.Reactivation, 1e-3)
		if g.OpeningCustomers != w.OpeningCustomers || g.ClosingCustomers != w.ClosingCustomers || g.NewCustomers != w.NewCustomers ||
			g.ReactivatedCustomers != w.ReactivatedCustomers || g.ChurnedCustomers != w.ChurnedCustomers {
			t.Errorf("%s: %s customers %d/%d/%d/%d/%d, want %d/%d/%d/%d/%d", name, what, g.OpeningCustomers, g.NewCustomers,
				g.ReactivatedCustomers, g.ChurnedCustomers, g.ClosingCustomers, w.OpeningCustomers, w.NewCustomers,
				w.ReactivatedCustomers, w.ChurnedCustomers, w.ClosingCustomers)
		}
	}
}
