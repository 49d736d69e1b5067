package query_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

// refKey is one report row's dimensions in the brute-force reference.
type refKey struct{ channel, month string }

// refRow holds the additive figures of one reference row.
type refRow struct {
	impressions, clicks                    int64
	cost, revenue                          float64
	visitors, leads, mqls, sqls, customers int64
	visitorSet                             map[string]bool
}

// TestRunReport_BruteForce compares the report by channel and month with a
// per-row Go computation of the definitions in docs/metrics.md on random
// data: several currencies with dated rates, people with and without a
// stored channel, repeated and skipped stages, refunds, lost deals, events
// outside the range and a business time zone with DST inside the range.
func TestRunReport_BruteForce(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { bruteForce(t, seed) })
	}
}

func bruteForce(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 99))
	s := openWith(t, "")
	biz := business(t, "preset: b2b\ncurrency: EUR\ntime_zone: America/New_York\ncustomer_entity: person\nrevenue_sources: [orders, deals]\n")
	loc := biz.Location()
	db := s.DB()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(context.Background(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	from, to := date("2024-02-01"), date("2024-04-30") // DST starts 2024-03-10 in New York
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	randTime := func() time.Time { // Jan..May, to have facts outside the range
		return start.Add(time.Duration(r.Int64N(int64(150 * 24 * time.Hour)))).Truncate(time.Second)
	}
	inRange := func(ts time.Time) (string, bool) {
		l := ts.In(loc)
		d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
		if d.Before(from) || d.After(to) {
			return "", false
		}
		return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), true
	}
	channels := []string{"Paid Search", "Paid Social", "Email", "Events"}
	rates := map[string]float64{"EUR": 1, "USD": 0.92, "GBP": 1.17}
	currencies := []string{"EUR", "USD", "GBP"}
	// Rates change on the 1st of each month; conversion uses the newest rate on or before the date.
	rateOn := func(cur string, d time.Time) float64 {
		if cur == "EUR" {
			return 1
		}
		return rates[cur] * (1 + 0.01*float64(d.Month()))
	}
	exec("BEGIN")
	for m := 1; m <= 5; m++ {
		d := time.Date(2024, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
		exec("INSERT INTO fx_rates VALUES (?, 'USD', 'EUR', ?)", d, rateOn("USD", d))
		exec("INSERT INTO fx_rates VALUES (?, 'EUR', 'GBP', ?)", d, 1/rateOn("GBP", d)) // the inverse pair
	}
	ref := map[refKey]*refRow{}
	row := func(ch, month string) *refRow {
		k := refKey{ch, month}
		if ref[k] == nil {
			ref[k] = &refRow{visitorSet: map[string]bool{}}
		}
		return ref[k]
	}
	// Spend: one row per day, channel and campaign in Jan..May.
	for day := 0; day < 150; day++ {
		d := start.AddDate(0, 0, day)
		for ci, ch := range channels {
			if r.IntN(3) == 0 {
				continue
			}
			cur := currencies[r.IntN(3)]
			imp, clk := r.Int64N(5000), r.Int64N(100)
			cost := float64(r.IntN(100000)) / 100
			costType := []string{"media", "media", "events", "tools"}[r.IntN(4)]
			exec("INSERT INTO spend (date, source, channel, campaign, impressions, clicks, cost, currency, cost_type) VALUES (?, ?, ?, 'c', ?, ?, ?, ?, ?)",
				d, fmt.Sprint("src", ci), ch, imp, clk, cost, cur, costType)
			if d.Before(from) || d.After(to) {
				continue
			}
			rr := row(ch, time.Date(2024, d.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
			rr.impressions += imp
			rr.clicks += clk
			if costType != "tools" {
				rr.cost += cost * rateOn(cur, d)
			}
		}
	}
	// People, their stages, revenue and visits.
	stages := []string{"lead", "mql", "sql", "opportunity", "won"}
	for p := 0; p < 300; p++ {
		id := fmt.Sprint("p", p)
		ch := channels[r.IntN(len(channels))]
		stored := r.IntN(4) > 0 // else the channel comes from the first event
		var firstEvent time.Time
		// Visits (some before the range); the earliest carries the channel.
		nEvents := 1 + r.IntN(5)
		evTimes := make([]time.Time, nEvents)
		for i := range evTimes {
			evTimes[i] = randTime()
			if firstEvent.IsZero() || evTimes[i].Before(firstEvent) {
				firstEvent = evTimes[i]
			}
		}
		for i, ts := range evTimes {
			evCh := ch
			if ts != firstEvent {
				evCh = channels[r.IntN(len(channels))]
			}
			typ := []string{"page", "screen", "track"}[r.IntN(3)]
			exec("INSERT INTO events (id, ts, type, person_id, channel) VALUES (?, ?, ?, ?, ?)", fmt.Sprintf("%s-e%d", id, i), ts, typ, id, evCh)
			if m, ok := inRange(ts); ok && typ != "track" {
				row(evCh, m).visitorSet[id] = true
			}
		}
		if stored {
			exec("INSERT INTO people (person_id, channel) VALUES (?, ?)", id, ch)
		} else {
			exec("INSERT INTO people (person_id) VALUES (?)", id)
		}
		// Stages: a random walk up the list, skipping some, repeating some.
		first := map[string]time.Time{}
		ts := randTime()
		for si := r.IntN(3); si < len(stages); si += 1 + r.IntN(2) {
			exec("INSERT INTO stage_changes VALUES ('person', ?, ?, ?, 'x')", id, stages[si], ts)
			for _, earlier := range stages[:si+1] { // skipped stages count as passed
				if _, ok := first[earlier]; !ok {
					first[earlier] = ts
				}
			}
			if r.IntN(4) == 0 { // a repeated entry later
				exec("INSERT INTO stage_changes VALUES ('person', ?, ?, ?, 'x')", id, stages[si], ts.Add(48*time.Hour))
			}
			ts = ts.Add(time.Duration(r.Int64N(int64(20 * 24 * time.Hour))))
			if r.IntN(3) == 0 {
				break
			}
		}
		for _, st := range []struct {
			name string
			add  func(*refRow)
		}{{"lead", func(x *refRow) { x.leads++ }}, {"mql", func(x *refRow) { x.mqls++ }}, {"sql", func(x *refRow) { x.sqls++ }}} {
			if ts, ok := first[st.name]; ok {
				if m, in := inRange(ts); in {
					st.add(row(ch, m))
				}
			}
		}
		// Revenue: orders (some refunded) and deals (some lost).
		var firstRev time.Time
		for o := 0; o < r.IntN(4); o++ {
			ts, cur := randTime(), currencies[r.IntN(3)]
			amount := float64(r.IntN(50000)) / 100
			status := "paid"
			if r.IntN(5) == 0 {
				status = "refunded"
			}
			exec("INSERT INTO orders (order_id, customer_id, ts, amount, currency, status) VALUES (?, ?, ?, ?, ?, ?)", fmt.Sprintf("%s-o%d", id, o), id, ts, amount, cur, status)
			if status != "paid" {
				continue
			}
			if firstRev.IsZero() || ts.Before(firstRev) {
				firstRev = ts
			}
			if m, ok := inRange(ts); ok {
				row(ch, m).revenue += amount * rateOn(cur, ts)
			}
		}
		if r.IntN(3) == 0 {
			ts, cur := randTime(), currencies[r.IntN(3)]
			amount := float64(r.IntN(500000)) / 100
			status := []string{"won", "lost", "open"}[r.IntN(3)]
			exec("INSERT INTO deals (deal_id, person_id, status, created_at, closed_at, amount, currency) VALUES (?, ?, ?, ?, ?, ?, ?)",
				id+"-d", id, status, ts.Add(-time.Hour), ts, amount, cur)
			if status == "won" {
				if firstRev.IsZero() || ts.Before(firstRev) {
					firstRev = ts
				}
				if m, ok := inRange(ts); ok {
					row(ch, m).revenue += amount * rateOn(cur, ts)
				}
			}
		}
		if !firstRev.IsZero() {
			if m, ok := inRange(firstRev); ok {
				row(ch, m).customers++
			}
		}
	}
	for _, rr := range ref {
		rr.visitors = int64(len(rr.visitorSet))
	}
	exec("COMMIT")

	rep, err := query.RunReport(context.Background(), db, query.DuckDB{}, biz, query.ReportRequest{By: []string{"channel", "month"}, From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[refKey]bool{}
	for _, g := range rep.Rows {
		k := refKey{g.Channel, g.Period}
		seen[k] = true
		w := ref[k]
		if w == nil {
			w = &refRow{}
		}
		near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-3 }
		if g.Impressions != w.impressions || g.Clicks != w.clicks || !near(g.Cost, w.cost) || !near(g.Revenue, w.revenue) ||
			g.Visitors != w.visitors || g.Leads != w.leads || g.MQLs != w.mqls || g.SQLs != w.sqls || g.NewCustomers != w.customers {
			t.Errorf("%v:\n got  imp %d clk %d cost %.4f rev %.4f vis %d leads %d mqls %d sqls %d cust %d\n want imp %d clk %d cost %.4f rev %.4f vis %d leads %d mqls %d sqls %d cust %d",
				k, g.Impressions, g.Clicks, g.Cost, g.Revenue, g.Visitors, g.Leads, g.MQLs, g.SQLs, g.NewCustomers,
				w.impressions, w.clicks, w.cost, w.revenue, w.visitors, w.leads, w.mqls, w.sqls, w.customers)
		}
	}
	for k, w := range ref {
		if !seen[k] && (w.impressions != 0 || w.cost != 0 || w.revenue != 0 || w.visitors != 0 || w.leads != 0 || w.mqls != 0 || w.sqls != 0 || w.customers != 0) {
			t.Errorf("%v missing from the report: %+v", k, *w)
		}
	}
}
