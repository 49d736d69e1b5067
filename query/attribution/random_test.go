package attribution_test

import (
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	model "github.com/bowtie-analytics/bowtie/model/attribution"
	"github.com/bowtie-analytics/bowtie/query/attribution"
)

// The random store: rows generated here, inserted into DuckDB, and read
// back plainly (database/sql) for a reference path builder written from
// the definitions in docs/metrics.md, independent of the SQL and the
// rawscan code.

type rEvent struct {
	ts                          time.Time
	name, anon, person, account sql.NullString
	channel, campaign, currency sql.NullString
	revenue                     sql.NullFloat64
}

type rStage struct {
	etype, id, stage string
	ts               time.Time
}

type rDeal struct {
	id              string
	account, person sql.NullString
	status          string
	created         time.Time
	closed          sql.NullTime
	amount          sql.NullFloat64
	currency        sql.NullString
}

type rStore struct {
	events  []rEvent
	stages  []rStage
	deals   []rDeal
	aliases map[string]string // anonymous id → person
	account map[string]string // person → account
}

var randBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func ns(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// genRandomStore writes a random store and returns its rows.
func genRandomStore(t *testing.T, db *sql.DB, seed uint64) *rStore {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	st := &rStore{aliases: map[string]string{}, account: map[string]string{}}
	hour := func() time.Time { return randBase.Add(time.Duration(r.IntN(24*150)) * time.Hour) }
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec("INSERT INTO fx_rates VALUES ('2023-01-01', 'EUR', 'USD', 1.25)")
	for i := 0; i < 40; i++ {
		p := fmt.Sprintf("p%d", i)
		acc := ""
		if r.IntN(5) > 0 {
			acc = fmt.Sprintf("c%d", r.IntN(8))
			st.account[p] = acc
		}
		exec("INSERT INTO people (person_id, account_id) VALUES ($1, $2)", p, ns(acc))
	}
	for i := 0; i < 60; i++ {
		if i < 35 {
			a, p := fmt.Sprintf("a%d", i), fmt.Sprintf("p%d", r.IntN(40))
			st.aliases[a] = p
			exec("INSERT INTO identities VALUES ('anonymous', $1, $2, $3, 'test')", a, p, randBase)
		}
	}
	for i := 0; i < 700; i++ {
		e := rEvent{ts: hour()}
		switch r.IntN(3) {
		case 0:
			e.person = ns(fmt.Sprintf("p%d", r.IntN(40)))
		case 1:
			e.anon = ns(fmt.Sprintf("a%d", r.IntN(60)))
		default:
			e.person = ns(fmt.Sprintf("p%d", r.IntN(40)))
			e.anon = ns(fmt.Sprintf("a%d", r.IntN(60)))
		}
		if r.IntN(6) == 0 {
			e.account = ns(fmt.Sprintf("c%d", r.IntN(8)))
		}
		if r.IntN(10) > 0 {
			e.channel = ns(pick("Paid Search", "Email", "Display", "Direct", "Webinars"))
		}
		e.campaign = ns(pick("", "x", "y"))
		e.name = ns(pick("page_view", "page_view", "signup", "buy"))
		if e.name.String == "buy" {
			e.revenue = sql.NullFloat64{Float64: float64(r.IntN(10000)) / 100, Valid: true}
			e.currency = ns(pick("USD", "EUR"))
		}
		st.events = append(st.events, e)
		exec("INSERT INTO events (id, ts, type, name, anonymous_id, person_id, account_id, channel, utm_campaign, revenue, currency) VALUES ($1, $2, 'track', $3, $4, $5, $6, $7, $8, $9, $10)",
			fmt.Sprintf("e%d", i), e.ts, e.name, e.anon, e.person, e.account, e.channel, e.campaign, e.revenue, e.currency)
	}
	seen := map[string]bool{}
	addStage := func(s rStage) {
		k := s.etype + s.id + s.stage + s.ts.String()
		if seen[k] {
			return
		}
		seen[k] = true
		st.stages = append(st.stages, s)
		exec("INSERT INTO stage_changes VALUES ($1, $2, $3, $4, 'test')", s.etype, s.id, s.stage, s.ts)
	}
	for i := 0; i < 90; i++ {
		addStage(rStage{"person", fmt.Sprintf("p%d", r.IntN(40)), pick("lead", "mql", "sql", "opportunity", "won"), hour()})
	}
	for i := 0; i < 10; i++ {
		addStage(rStage{"account", fmt.Sprintf("c%d", r.IntN(8)), "won", hour()})
	}
	for i := 0; i < 25; i++ {
		d := rDeal{id: fmt.Sprintf("d%d", i), status: pick("won", "won", "lost", "open"), created: hour()}
		if r.IntN(8) > 0 {
			d.account = ns(fmt.Sprintf("c%d", r.IntN(8)))
		}
		if r.IntN(8) > 0 {
			d.person = ns(fmt.Sprintf("p%d", r.IntN(40)))
		}
		if d.status != "open" {
			d.closed = sql.NullTime{Time: d.created.Add(time.Duration(r.IntN(24*60)) * time.Hour), Valid: true}
		}
		d.amount = sql.NullFloat64{Float64: float64(r.IntN(100000)) / 100, Valid: true}
		d.currency = ns(pick("USD", "EUR"))
		st.deals = append(st.deals, d)
		exec("INSERT INTO deals (deal_id, account_id, person_id, status, created_at, closed_at, amount, currency) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			d.id, d.account, d.person, d.status, d.created, d.closed, d.amount, d.currency)
		addStage(rStage{"deal", d.id, pick("opportunity", "won"), d.created.Add(time.Hour)})
	}
	return st
}

// refTouch and refConv are the reference's rows.
type refTouch struct {
	ts                     int64
	channel, campaign, who string
}

type refConv struct {
	unit           string // "" none
	conv, win, opp int64
	value          float64
}

// refPaths builds the paths of req from the rows, by the definitions.
func refPaths(st *rStore, req attribution.Request, stages []string, lookbackDays int) []model.Path {
	level := req.Level
	person := func(e rEvent) string {
		if e.person.Valid {
			return e.person.String
		}
		if e.anon.Valid {
			return st.aliases[e.anon.String]
		}
		return ""
	}
	unitOf := func(e rEvent) (unit, who string) {
		p := person(e)
		who = p
		if who == "" && e.anon.Valid {
			who = e.anon.String
		}
		if level == "account" {
			acc := e.account.String
			if !e.account.Valid && p != "" {
				acc = st.account[p]
			}
			if acc == "" {
				return "", who
			}
			return "c" + acc, who
		}
		if p != "" {
			return "p" + p, who
		}
		if e.anon.Valid {
			return "a" + e.anon.String, who
		}
		return "", who
	}
	rate := func(cur string) float64 {
		if cur == "EUR" {
			return 1.25
		}
		return 1
	}
	round4 := func(v float64) float64 { return math.Round(v*1e4) / 1e4 }
	var convs []refConv
	kind, name, _ := strings.Cut(req.Conversion, ":")
	switch kind {
	case "stage":
		etype := "person"
		if level == "account" {
			has := map[string]bool{}
			for _, s := range st.stages {
				if s.stage == name {
					has[s.etype] = true
				}
			}
			for _, et := range []string{"person", "deal", "account"} {
				if has[et] {
					etype = et
				}
			}
		}
		first := map[string]time.Time{}
		for _, s := range st.stages {
			if s.etype == etype && s.stage == name {
				if f, ok := first[s.id]; !ok || s.ts.Before(f) {
					first[s.id] = s.ts
				}
			}
		}
		for id, ts := range first {
			c := refConv{conv: ts.Unix(), win: ts.Unix()}
			switch {
			case level == "person":
				c.unit = "p" + id
			case etype == "account":
				c.unit = "c" + id
			case etype == "deal":
				for _, d := range st.deals {
					if d.id == id {
						c.opp = d.created.Unix()
						if d.account.Valid {
							c.unit = "c" + d.account.String
						}
					}
				}
			default:
				if a := st.account[id]; a != "" {
					c.unit = "c" + a
				}
			}
			convs = append(convs, c)
		}
	case "event":
		for _, e := range st.events {
			if e.name.String != name {
				continue
			}
			u, _ := unitOf(e)
			c := refConv{unit: u, conv: e.ts.Unix(), win: e.ts.Unix()}
			if e.revenue.Valid {
				c.value = round4(e.revenue.Float64 * rate(e.currency.String))
			}
			convs = append(convs, c)
		}
	case "deal":
		for _, d := range st.deals {
			if d.status != "won" || !d.closed.Valid {
				continue
			}
			c := refConv{conv: d.closed.Time.Unix(), win: d.created.Unix(), opp: d.created.Unix(), value: round4(d.amount.Float64 * rate(d.currency.String))}
			if req.DealWindow == "closed" {
				c.win = c.conv
			}
			if level == "account" && d.account.Valid {
				c.unit = "c" + d.account.String
			}
			if level == "person" && d.person.Valid {
				c.unit = "p" + d.person.String
			}
			convs = append(convs, c)
		}
	}
	// Milestones per unit.
	leadSet, oppSet := stages[slices.Index(stages, "lead"):], stages[slices.Index(stages, "opportunity"):]
	lead, opp := map[string]int64{}, map[string]int64{}
	minTo := func(m map[string]int64, k string, v int64) {
		if old, ok := m[k]; !ok || v < old {
			m[k] = v
		}
	}
	for _, s := range st.stages {
		var u string
		switch {
		case s.etype == "person" && level == "person":
			u = "p" + s.id
		case s.etype == "person" && st.account[s.id] != "":
			u = "c" + st.account[s.id]
		case s.etype == "account" && level == "account":
			u = "c" + s.id
		case s.etype == "deal" && level == "account":
			for _, d := range st.deals {
				if d.id == s.id && d.account.Valid {
					u = "c" + d.account.String
				}
			}
			if u != "" && slices.Contains(oppSet, s.stage) {
				minTo(opp, u, s.ts.Unix())
			}
			continue
		}
		if u == "" {
			continue
		}
		if slices.Contains(leadSet, s.stage) {
			minTo(lead, u, s.ts.Unix())
		}
		if slices.Contains(oppSet, s.stage) {
			minTo(opp, u, s.ts.Unix())
		}
	}
	for _, d := range st.deals {
		if level == "person" && d.person.Valid {
			minTo(opp, "p"+d.person.String, d.created.Unix())
		}
		if level == "account" && d.account.Valid {
			minTo(opp, "c"+d.account.String, d.created.Unix())
		}
	}
	// Touches per unit.
	touches := map[string][]refTouch{}
	for _, e := range st.events {
		if !e.channel.Valid {
			continue
		}
		if len(req.TouchEvents) > 0 && !slices.Contains(req.TouchEvents, e.name.String) {
			continue
		}
		u, who := unitOf(e)
		if u == "" {
			continue
		}
		if level == "person" {
			who = ""
		}
		touches[u] = append(touches[u], refTouch{e.ts.Unix(), e.channel.String, e.campaign.String, who})
	}
	start := req.From.Unix()
	end := req.To.AddDate(0, 0, 1).Unix()
	lb := int64(lookbackDays) * 86400
	make1 := func(ts []refTouch, lo, hi, leadAt, oppAt int64) []model.Touch {
		var w []refTouch
		for _, t := range ts {
			if t.ts >= lo && t.ts < hi {
				w = append(w, t)
			}
		}
		if req.ExcludeDirect {
			var k []refTouch
			for _, t := range w {
				if t.channel != "Direct" {
					k = append(k, t)
				}
			}
			if len(k) > 0 {
				w = k
			}
		}
		var out []model.Touch
		for i, t := range w {
			if i > 0 && !req.KeepRepeats {
				p := w[i-1]
				if p.channel == t.channel && (req.By != "campaign" || p.campaign == t.campaign) && p.who == t.who {
					continue
				}
			}
			out = append(out, model.Touch{Channel: t.channel, Campaign: t.campaign, At: t.ts, Person: t.who})
		}
		for _, m := range []struct {
			at   int64
			flag uint8
		}{{leadAt, model.LeadCreation}, {oppAt, model.OpportunityCreation}} {
			if len(out) == 0 || m.at == 0 || m.at < out[0].At || m.at > hi {
				continue
			}
			k := -1
			for i := range out {
				if out[i].At <= m.at {
					k = i
				}
			}
			out[k].Milestone |= m.flag
		}
		return out
	}
	byUnit := map[string][]refConv{}
	var out []model.Path
	for _, c := range convs {
		if c.unit == "" {
			if c.conv >= start && c.conv < end {
				out = append(out, model.Path{ConvAt: c.win, Conversions: 1, Value: c.value})
			}
			continue
		}
		byUnit[c.unit] = append(byUnit[c.unit], c)
	}
	units := map[string]bool{}
	for u := range byUnit {
		units[u] = true
	}
	for u := range touches {
		units[u] = true
	}
	for u := range units {
		ts := touches[u]
		sort.Slice(ts, func(i, j int) bool {
			a, b := ts[i], ts[j]
			if a.ts != b.ts {
				return a.ts < b.ts
			}
			if a.channel != b.channel {
				return a.channel < b.channel
			}
			if a.campaign != b.campaign {
				return a.campaign < b.campaign
			}
			return a.who < b.who
		})
		cs := byUnit[u]
		sort.Slice(cs, func(i, j int) bool {
			a, b := cs[i], cs[j]
			if a.win != b.win {
				return a.win < b.win
			}
			if a.conv != b.conv {
				return a.conv < b.conv
			}
			if a.value != b.value {
				return a.value < b.value
			}
			return a.opp < b.opp
		})
		prev := int64(math.MinInt64)
		converted := false
		for _, c := range cs {
			if c.conv >= end {
				continue
			}
			lo := max(c.win-lb, prev)
			prev = c.win
			if c.conv < start {
				continue
			}
			converted = true
			om := c.opp
			if om == 0 {
				om = opp[u]
			}
			out = append(out, model.Path{ConvAt: c.win, Conversions: 1, Value: c.value, Touches: make1(ts, lo, c.win, lead[u], om)})
		}
		if converted {
			continue
		}
		w := make1(ts, max(end-lb, prev), end, 0, 0)
		if len(w) > 0 {
			var last int64
			for _, t := range ts {
				if t.ts >= max(end-lb, prev) && t.ts < end {
					last = t.ts
				}
			}
			if last >= start {
				out = append(out, model.Path{Nulls: 1, Touches: w})
			}
		}
	}
	return out
}

func TestBuildPaths_RandomReference(t *testing.T) {
	biz := business(t, "preset: b2b\ncurrency: USD\ntime_zone: UTC\n")
	reqs := []attribution.Request{
		{Level: "person", Conversion: "stage:mql", Lookback: "20d"},
		{Level: "person", Conversion: "event:buy", Lookback: "45d"},
		{Level: "person", Conversion: "event:buy", Lookback: "45d", KeepRepeats: true, ExcludeDirect: true},
		{Level: "account", Conversion: "event:buy", Lookback: "30d", By: "campaign"},
		{Level: "account", Conversion: "deal:won", Lookback: "60d"},
		{Level: "account", Conversion: "deal:won", Lookback: "60d", DealWindow: "closed", ExcludeDirect: true},
		{Level: "person", Conversion: "deal:won", Lookback: "90d", TouchEvents: []string{"page_view"}},
		{Level: "account", Conversion: "stage:won", Lookback: "40d"},
		{Level: "account", Conversion: "stage:mql", Lookback: "40d"},
	}
	seeds := []uint64{1, 2, 3}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		s := openStore(t)
		st := genRandomStore(t, s.DB(), seed)
		for i, req := range reqs {
			req.From, req.To = date("2024-02-15"), date("2024-04-15")
			t.Run(fmt.Sprintf("seed%d/%d_%s_%s", seed, i, req.Level, req.Conversion), func(t *testing.T) {
				got := paths(t, s, biz, req)
				days, _ := attribution.ParseDays("lookback", req.Lookback)
				want := render(refPaths(st, req, biz.Stages, int(days)))
				if g := render(got); !slices.Equal(g, want) {
					var diff []string
					for _, x := range g {
						if !slices.Contains(want, x) {
							diff = append(diff, "+ "+x)
						}
					}
					for _, x := range want {
						if !slices.Contains(g, x) {
							diff = append(diff, "- "+x)
						}
					}
					t.Fatalf("%d paths, reference %d; differences (+ built only, - reference only):\n%s", len(g), len(want), strings.Join(diff, "\n"))
				}
				if len(got) < 5 {
					t.Fatalf("only %d paths: the random store exercises too little", len(got))
				}
				// Every model's credits sum to the totals.
				res := run(t, s, biz, req)
				var conv, value float64
				for _, p := range got {
					conv += p.Conversions
					value += p.Value
				}
				if !near(res.Totals.Conversions, conv) || math.Abs(res.Totals.Revenue-value) > 1e-6 {
					t.Errorf("totals %v / %v, paths %v / %v", res.Totals.Conversions, res.Totals.Revenue, conv, value)
				}
				for _, m := range res.Models {
					var n, v float64
					for _, r := range res.Rows {
						n += r.Credits[m].Conversions
						v += r.Credits[m].Revenue
					}
					if math.Abs(n-conv) > 1e-9*max(1, conv) || math.Abs(v-value) > 1e-4*float64(len(res.Rows))+1e-9*value {
						t.Errorf("%s: credits sum to %v conversions and %v revenue, totals %v and %v", m, n, v, conv, value)
					}
				}
			})
		}
	}
}
