package query_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

// quantileCont is DuckDB's quantile_cont: linear interpolation between
// the closest ranks.
func quantileCont(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := math.Floor(pos)
	hi := math.Ceil(pos)
	return s[int(lo)] + (pos-lo)*(s[int(hi)]-s[int(lo)])
}

// refQuantiles is the reference for query.Quantiles.
func refQuantiles(xs []float64) query.Quantiles {
	q := query.Quantiles{N: int64(len(xs)), Distribution: make([]query.DurationBucket, len(query.DurationEdges))}
	for _, x := range xs {
		i := len(query.DurationEdges) - 1
		for i > 0 && x < query.DurationEdges[i] {
			i--
		}
		q.Distribution[i].Count++
	}
	if len(xs) == 0 {
		return q
	}
	m, p75, p90 := quantileCont(xs, 0.5), quantileCont(xs, 0.75), quantileCont(xs, 0.9)
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	q.Median, q.P75, q.P90, q.Mean = &m, &p75, &p90, &mean
	return q
}

func sameQ(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) < 1e-6
}

// compareGroup reports the differences between a funnel group and its
// reference (counts and time quantiles).
func compareGroup(t *testing.T, what string, got query.FunnelGroup, wantCounts []int64, prev, first [][]float64) {
	t.Helper()
	if !eqCounts(counts(got), wantCounts) {
		t.Errorf("%s: counts %v, want %v", what, counts(got), wantCounts)
		return
	}
	for k := 1; k < len(wantCounts); k++ {
		for _, c := range []struct {
			name string
			g    query.Quantiles
			w    query.Quantiles
		}{{"from previous", got.Steps[k].TimeFromPrevious, refQuantiles(prev[k])}, {"from first", got.Steps[k].TimeFromFirst, refQuantiles(first[k])}} {
			if c.g.N != c.w.N || !sameQ(c.g.Median, c.w.Median) || !sameQ(c.g.P75, c.w.P75) || !sameQ(c.g.P90, c.w.P90) || !sameQ(c.g.Mean, c.w.Mean) || !sameDist(c.g, c.w) {
				t.Errorf("%s: step %d time %s: got %s, want %s", what, k, c.name, fmtQ(c.g), fmtQ(c.w))
			}
		}
	}
}

func sameDist(a, b query.Quantiles) bool {
	if len(a.Distribution) != len(b.Distribution) {
		return false
	}
	for i := range a.Distribution {
		if a.Distribution[i].Count != b.Distribution[i].Count {
			return false
		}
	}
	return true
}

func fmtQ(q query.Quantiles) string {
	f := func(p *float64) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprintf("%.6f", *p)
	}
	var d []int64
	for _, b := range q.Distribution {
		d = append(d, b.Count)
	}
	return fmt.Sprintf("n=%d med=%s p75=%s p90=%s mean=%s dist=%v", q.N, f(q.Median), f(q.P75), f(q.P90), f(q.Mean), d)
}

type refEvent struct {
	id, pid, typ, name, plan string
	ts                       time.Time
	// anon, when set, is stored as the event's anonymous_id with no
	// person_id; pid is then what it resolves to (the linked person, or
	// "anon:" + anon).
	anon string
	// channel and campaign are the event's touch (breakdowns only).
	channel, campaign string
}

// refAttempt is one conversion attempt of the reference.
type refAttempt struct {
	pid   string
	i0    string
	times []time.Time // reached steps
	void  bool
}

// refFunnel is the brute-force reference of RunEventFunnel: the
// definitions of docs/metrics.md applied person by person.
func refFunnel(evs []refEvent, accountOf map[string]string, req query.EventFunnelRequest, start, end time.Time) ([]int64, [][]float64, [][]float64) {
	n := len(req.Steps)
	match := func(m query.EventMatch, e refEvent) bool {
		if e.name != m.Event {
			return false
		}
		if p, ok := m.Where["plan"]; ok && p != e.plan {
			return false
		}
		return true
	}
	byPerson := map[string][]refEvent{}
	for _, e := range evs {
		if e.pid == "" || (e.typ != "track" && e.typ != "page" && e.typ != "screen") || e.ts.Before(start) || e.ts.After(end.Add(req.Window)) {
			continue
		}
		byPerson[e.pid] = append(byPerson[e.pid], e)
	}
	best := map[string]refAttempt{}
	better := func(a, b refAttempt) bool { // a beats b
		if len(a.times) != len(b.times) {
			return len(a.times) > len(b.times)
		}
		if !a.times[0].Equal(b.times[0]) {
			return a.times[0].Before(b.times[0])
		}
		return a.i0 < b.i0
	}
	for pid, es := range byPerson {
		sort.Slice(es, func(i, j int) bool {
			if !es[i].ts.Equal(es[j].ts) {
				return es[i].ts.Before(es[j].ts)
			}
			return es[i].id < es[j].id
		})
		for si, s := range es {
			if s.ts.Before(start) || !s.ts.Before(end) {
				continue
			}
			deadline := s.ts.Add(req.Window)
			var at refAttempt
			switch req.Mode {
			case "any":
				isStep := false
				for _, m := range req.Steps {
					isStep = isStep || match(m, s)
				}
				if !isStep {
					continue
				}
				for _, m := range req.Steps {
					for _, e := range es {
						if !e.ts.Before(s.ts) && !e.ts.After(deadline) && match(m, e) {
							at.times = append(at.times, e.ts)
							break
						}
					}
				}
				sort.Slice(at.times, func(i, j int) bool { return at.times[i].Before(at.times[j]) })
			default:
				if !match(req.Steps[0], s) {
					continue
				}
				at.times = []time.Time{s.ts}
				used := map[string]bool{s.id: true}
				pos := si
				for k := 1; k < n; k++ {
					found := -1
					if req.Mode == "strict" {
						if pos+1 < len(es) && match(req.Steps[k], es[pos+1]) && !es[pos+1].ts.After(deadline) {
							found = pos + 1
						}
					} else {
						for j, e := range es { // sorted by (ts, id): the first hit is the minimum
							if match(req.Steps[k], e) && !used[e.id] && !e.ts.Before(at.times[k-1]) && !e.ts.After(deadline) {
								found = j
								break
							}
						}
					}
					if found < 0 {
						break
					}
					at.times = append(at.times, es[found].ts)
					used[es[found].id] = true
					pos = found
				}
			}
			at.pid, at.i0 = pid, s.id
			for _, x := range req.Exclusions {
				if len(at.times) < x.From {
					continue
				}
				lo, hi := at.times[x.From-1], deadline
				if len(at.times) >= x.To {
					hi = at.times[x.To-1]
				}
				for _, e := range es {
					if match(x.EventMatch, e) && e.ts.After(lo) && e.ts.Before(hi) {
						at.void = true
					}
				}
			}
			if at.void {
				continue
			}
			unit := pid
			if req.Unit == "account" {
				if unit = accountOf[pid]; unit == "" {
					continue
				}
			}
			if b, ok := best[unit]; !ok || better(at, b) {
				best[unit] = at
			}
		}
	}
	cnt := make([]int64, n)
	prev, first := make([][]float64, n), make([][]float64, n)
	for _, a := range best {
		for k := range a.times {
			cnt[k]++
			if k > 0 {
				prev[k] = append(prev[k], a.times[k].Sub(a.times[k-1]).Seconds()/86400)
				first[k] = append(first[k], a.times[k].Sub(a.times[0]).Seconds()/86400)
			}
		}
	}
	return cnt, prev, first
}

// fastAndSQL runs req by the per-person pass (failing the test if the pass
// did not answer) and by the SQL.
func fastAndSQL(t *testing.T, name string, db *sql.DB, biz *bowtie.Business, req query.EventFunnelRequest) (fast, slow *query.EventFunnel) {
	t.Helper()
	before := query.SetFastFunnel(true)
	fast, err := query.RunEventFunnel(context.Background(), db, query.DuckDB{}, biz, req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if query.SetFastFunnel(false) != before+1 {
		t.Fatalf("%s: the per-person pass did not answer", name)
	}
	defer query.SetFastFunnel(true)
	if slow, err = query.RunEventFunnel(context.Background(), db, query.DuckDB{}, biz, req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return fast, slow
}

// TestRunEventFunnel_BruteForce compares the SQL funnel with refFunnel on
// random journeys full of repeated events, same-second ties, events
// outside the window and period, exclusion events, property filters and
// anonymous events (linked to their person or not), in every mode, per
// person and per account.
func TestRunEventFunnel_BruteForce(t *testing.T) {
	biz := business(t, "preset: b2c\ntime_zone: UTC\n")
	for seed := uint64(1); seed <= 3; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		s := openWith(t, "")
		db := s.DB()
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := tx.Exec(q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
		accountOf := map[string]string{}
		var evs []refEvent
		ids := r.Perm(100000)
		// Each person browses under an anonymous id before identifying; two
		// thirds are linked in identities (their anonymous events are
		// theirs), the others' anonymous events stay units of their own.
		// Some anonymous ids are spelled like another person's id.
		anonOf, linked := map[string]string{}, map[string]bool{}
		for p := 0; p < 150; p++ {
			pid := fmt.Sprint("p", p)
			anonOf[pid] = fmt.Sprint("v", p)
			if p%5 == 0 {
				anonOf[pid] = fmt.Sprint("p", (p+7)%150)
			}
			if p%3 != 0 {
				linked[pid] = true
				exec("INSERT INTO identities (kind, alias_id, person_id, ts) VALUES ('anonymous', ?, ?, ?)", anonOf[pid], pid, base)
			}
		}
		for a := 0; a < 20; a++ {
			exec("INSERT INTO accounts (account_id, tier) VALUES (?, ?)", fmt.Sprint("A", a), sql.NullString{String: fmt.Sprint(a % 3), Valid: a%3 != 0})
		}
		for p := 0; p < 150; p++ {
			pid := fmt.Sprint("p", p)
			acct := ""
			if r.IntN(3) > 0 {
				acct = fmt.Sprint("A", r.IntN(20))
				accountOf[pid] = acct
			}
			maybe := func(vs ...string) sql.NullString {
				v := vs[r.IntN(len(vs))]
				return sql.NullString{String: v, Valid: v != ""}
			}
			exec("INSERT INTO people (person_id, account_id, segment, channel) VALUES (?, ?, ?, ?)", pid, sql.NullString{String: acct, Valid: acct != ""},
				maybe("smb", "enterprise", ""), maybe("Paid Search", "Email", "", ""))
			at := base.Add(time.Duration(r.IntN(5*24)) * time.Hour)
			for i := 0; i < 3+r.IntN(16); i++ {
				at = at.Add(time.Duration(r.IntN(4)) * time.Duration(r.IntN(20)) * time.Minute * 30) // many ties
				e := refEvent{id: fmt.Sprintf("e%06d", ids[len(evs)]), pid: pid, ts: at, typ: []string{"track", "track", "track", "page", "identify"}[r.IntN(5)],
					name: []string{"a", "a", "b", "b", "c", "c", "x", "o"}[r.IntN(8)], plan: []string{"pro", "basic"}[r.IntN(2)]}
				e.channel = []string{"Paid Social", "Organic Search", ""}[r.IntN(3)]
				e.campaign = []string{"spring", "brand", ""}[r.IntN(3)]
				if e.typ == "identify" || (e.typ == "page" && r.IntN(4) == 0) {
					// Only track, page and screen events have a name, and
					// page views need not (they still break a strict chain).
					e.name = ""
				}
				switch r.IntN(15) {
				case 0:
					e.pid = "" // neither person nor anonymous id: no unit
				case 1, 2, 3:
					e.anon, e.pid = anonOf[pid], "anon:"+anonOf[pid] // before identify
					if linked[pid] {
						e.pid = pid
					}
				}
				evs = append(evs, e)
			}
		}
		// Visitors never identified, one spelled like a person id.
		for v := 0; v < 20; v++ {
			anon := fmt.Sprint("w", v)
			if v == 0 {
				anon = "p1"
			}
			at := base.Add(time.Duration(r.IntN(5*24)) * time.Hour)
			for i := 0; i < 1+r.IntN(6); i++ {
				at = at.Add(time.Duration(r.IntN(3)) * time.Hour)
				evs = append(evs, refEvent{id: fmt.Sprintf("e%06d", ids[len(evs)]), pid: "anon:" + anon, anon: anon, ts: at, typ: "track",
					name: []string{"a", "b", "c", "x", "o"}[r.IntN(5)], plan: "pro",
					channel: []string{"Paid Social", "Referral", ""}[r.IntN(3)], campaign: []string{"spring", ""}[r.IntN(2)]})
			}
		}
		var vals []string
		var args []any
		for _, e := range evs {
			vals = append(vals, "(?, ?, ?, NULLIF(?, ''), ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''))")
			person := sql.NullString{String: e.pid, Valid: e.pid != "" && e.anon == ""}
			args = append(args, e.id, e.ts, e.typ, e.name, person, sql.NullString{String: e.anon, Valid: e.anon != ""}, `{"plan": "`+e.plan+`"}`, e.channel, e.campaign)
		}
		exec("INSERT INTO events (id, ts, type, name, person_id, anonymous_id, properties, channel, utm_campaign) VALUES "+strings.Join(vals, ", "), args...)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		from, to := date("2024-03-02"), date("2024-03-04")
		start, end := from, to.AddDate(0, 0, 1)
		steps := []query.EventMatch{{Event: "a"}, {Event: "b"}, {Event: "c", Where: map[string]string{"plan": "pro"}}, {Event: "a"}}
		// Disjoint steps: the ordered and any-order per-person funnels take
		// the per-person pass (funnel_fast.go); it must agree with the
		// reference and with the SQL.
		disjoint := []query.EventMatch{{Event: "a"}, {Event: "b"}, {Event: "c", Where: map[string]string{"plan": "pro"}}, {Event: "c", Where: map[string]string{"plan": "basic"}}, {Event: "o"}}
		for xi, excl := range [][]query.Exclusion{nil, {{EventMatch: query.EventMatch{Event: "x"}, From: 2, To: 3}}, {{EventMatch: query.EventMatch{Event: "b", Where: map[string]string{"plan": "pro"}}, From: 1, To: 5}}} {
			mode := []string{"ordered", "any"}[xi%2]
			if seed == 2 {
				mode = []string{"any", "ordered"}[xi%2]
			}
			req := query.EventFunnelRequest{Steps: disjoint, Window: time.Duration(20+r.IntN(40)) * time.Hour, Mode: mode, Exclusions: excl, From: from, To: to}
			name := fmt.Sprintf("seed%d/disjoint/%s/excl%d", seed, mode, xi)
			cnt, prev, first := refFunnel(evs, accountOf, req, start, end)
			fast, slow := fastAndSQL(t, name, db, biz, req)
			compareGroup(t, name+"/fast", fast.Total, cnt, prev, first)
			compareGroup(t, name+"/sql", slow.Total, cnt, prev, first)
			t.Logf("%s: %v", name, cnt)
		}
		// Breakdowns: the per-person pass against the SQL, group by group
		// (visitors take their first event's touch; people their own or
		// their first event's).
		for _, by := range []string{"channel", "campaign", "person.segment", "account.tier"} {
			req := query.EventFunnelRequest{Steps: disjoint, Window: 30 * time.Hour, From: from, To: to, By: by}
			name := fmt.Sprintf("seed%d/disjoint/by=%s", seed, by)
			fast, slow := fastAndSQL(t, name, db, biz, req)
			if len(fast.Groups) != len(slow.Groups) || len(slow.Groups) < 2 {
				t.Fatalf("%s: %d groups by the pass, %d by the SQL", name, len(fast.Groups), len(slow.Groups))
			}
			for i, sg := range slow.Groups {
				fg := fast.Groups[i]
				if fg.Key != sg.Key {
					t.Errorf("%s: group %d is %q, the SQL's %q", name, i, fg.Key, sg.Key)
					continue
				}
				var want []int64
				for _, st := range sg.Steps {
					want = append(want, st.Count)
				}
				if !eqCounts(counts(fg), want) {
					t.Errorf("%s/%s: counts %v, the SQL's %v", name, sg.Key, counts(fg), want)
				}
				for k := 1; k < len(sg.Steps); k++ {
					for _, c := range [][2]query.Quantiles{{fg.Steps[k].TimeFromPrevious, sg.Steps[k].TimeFromPrevious}, {fg.Steps[k].TimeFromFirst, sg.Steps[k].TimeFromFirst}} {
						if c[0].N != c[1].N || !sameQ(c[0].Median, c[1].Median) || !sameQ(c[0].P90, c[1].P90) || !sameQ(c[0].Mean, c[1].Mean) || !sameDist(c[0], c[1]) {
							t.Errorf("%s/%s: step %d time: %s, the SQL's %s", name, sg.Key, k, fmtQ(c[0]), fmtQ(c[1]))
						}
					}
				}
			}
			var keys []string
			for _, g := range fast.Groups {
				keys = append(keys, fmt.Sprintf("%s=%d", g.Key, g.Steps[0].Count))
			}
			t.Logf("%s: %s", name, strings.Join(keys, " "))
		}
		for _, mode := range []string{"ordered", "strict", "any"} {
			for _, unit := range []string{"person", "account"} {
				for xi, excl := range [][]query.Exclusion{nil, {{EventMatch: query.EventMatch{Event: "x"}, From: 2, To: 3}}} {
					req := query.EventFunnelRequest{Steps: steps, Window: time.Duration(20+r.IntN(40)) * time.Hour, Mode: mode, Unit: unit, Exclusions: excl, From: from, To: to}
					name := fmt.Sprintf("seed%d/%s/%s/excl%d", seed, mode, unit, xi)
					got, err := query.RunEventFunnel(context.Background(), db, query.DuckDB{}, biz, req)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					cnt, prev, first := refFunnel(evs, accountOf, req, start, end)
					compareGroup(t, name, got.Total, cnt, prev, first)
					t.Logf("%s: %v", name, cnt)
				}
			}
		}
	}
}
