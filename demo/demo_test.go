package demo_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/demo"
	"github.com/bowtie-analytics/bowtie/duckdb"
)

// fixture is one generated store, shared by the tests that read it.
type fixture struct {
	store *duckdb.Store
	truth *demo.Truth
	biz   *bowtie.Business
}

var fixtures = map[string]*fixture{}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range fixtures {
		f.store.Close()
	}
	os.Exit(code)
}

// generate returns the store of business at events (generated once per
// test binary).
func generate(tb testing.TB, business string, seed uint64, events int) *fixture {
	tb.Helper()
	k := fmt.Sprintf("%s/%d/%d", business, seed, events)
	if f := fixtures[k]; f != nil {
		return f
	}
	s, err := duckdb.Open(":memory:")
	if err != nil {
		tb.Fatal(err)
	}
	tr, err := demo.Generate(context.Background(), s, demo.Options{Business: business, Seed: seed, Events: events})
	if err != nil {
		s.Close()
		tb.Fatal(err)
	}
	biz, err := bowtie.Preset(business)
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{store: s, truth: tr, biz: biz}
	fixtures[k] = f
	return f
}

// testEvents is the size of the stores most tests read.
const testEvents = 100_000

var businesses = []string{"b2b", "b2c"}

var tables = []string{"accounts", "people", "identities", "events", "spend", "stage_changes", "deals", "subscriptions", "orders", "survey_responses", "fx_rates"}

// checksums returns count and an order-independent hash sum per table.
func checksums(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tab := range tables {
		var n int64
		var h sql.NullString
		if err := db.QueryRow(fmt.Sprintf("SELECT count(*), CAST(sum(hash(t)) AS VARCHAR) FROM %s t", tab)).Scan(&n, &h); err != nil {
			t.Fatal(err)
		}
		out[tab] = fmt.Sprintf("%d/%s", n, h.String)
	}
	return out
}

func TestGenerate_Deterministic(t *testing.T) {
	for _, b := range businesses {
		t.Run(b, func(t *testing.T) {
			a := generate(t, b, 7, 20_000)
			// Generate the same options again into a fresh store.
			s, err := duckdb.Open(":memory:")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			tr, err := demo.Generate(context.Background(), s, demo.Options{Business: b, Seed: 7, Events: 20_000})
			if err != nil {
				t.Fatal(err)
			}
			want, got := checksums(t, a.store.DB()), checksums(t, s.DB())
			for _, tab := range tables {
				if want[tab] != got[tab] {
					t.Errorf("%s: first run %s, second run %s", tab, want[tab], got[tab])
				}
			}
			j1, _ := json.Marshal(a.truth)
			j2, _ := json.Marshal(tr)
			if string(j1) != string(j2) {
				t.Errorf("truth differs between runs")
			}
			// Another seed is another world.
			other := generate(t, b, 8, 20_000)
			if checksums(t, other.store.DB())["events"] == want["events"] {
				t.Errorf("seed 8 gave the same events as seed 7")
			}
		})
	}
}

func TestGenerate_Scales(t *testing.T) {
	for _, b := range businesses {
		t.Run(b, func(t *testing.T) {
			small, large := generate(t, b, 7, 20_000), generate(t, b, 1, testEvents)
			for _, f := range []*fixture{small, large} {
				n := f.truth.Rows["events"]
				if r := float64(n) / float64(f.truth.Target); r < 0.7 || r > 1.4 {
					t.Errorf("%d events for a target of %d", n, f.truth.Target)
				}
				for _, tab := range tables {
					if tab == "accounts" && b == "b2c" || tab == "subscriptions" && b == "b2b" || tab == "deals" && b == "b2c" {
						continue
					}
					// Few small B2B worlds have installed machines yet.
					if f == small && b == "b2b" && (tab == "orders" || tab == "survey_responses") {
						continue
					}
					if f.truth.Rows[tab] == 0 {
						t.Errorf("target %d: table %s is empty", f.truth.Target, tab)
					}
				}
			}
			for _, tab := range []string{"people", "identities", "stage_changes"} {
				r := float64(large.truth.Rows[tab]) / float64(small.truth.Rows[tab])
				if r < 2.5 || r > 8 {
					t.Errorf("%s: %d rows at 20k events, %d at 100k", tab, small.truth.Rows[tab], large.truth.Rows[tab])
				}
			}
			// Spend has a row per campaign and day at any scale; its cost
			// follows the visitors it buys.
			if r := large.truth.Total.Spend / small.truth.Total.Spend; r < 2.5 || r > 8 {
				t.Errorf("spend: %.0f at 20k events, %.0f at 100k", small.truth.Total.Spend, large.truth.Total.Spend)
			}
		})
	}
}

// zero runs each query and expects a count of 0.
func zero(t *testing.T, db *sql.DB, checks map[string]string, args ...any) {
	t.Helper()
	for name, q := range checks {
		var n int64
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n != 0 {
			t.Errorf("%s: %d rows break it", name, n)
		}
	}
}

func TestGenerate_Integrity(t *testing.T) {
	common := map[string]string{
		"person stage of an unknown person":  `SELECT count(*) FROM stage_changes s WHERE entity_type = 'person' AND NOT EXISTS (SELECT 1 FROM people p WHERE p.person_id = s.entity_id)`,
		"identity of an unknown person":      `SELECT count(*) FROM identities i WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.person_id = i.person_id)`,
		"event of an unknown person":         `SELECT count(*) FROM events e WHERE person_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM people p WHERE p.person_id = e.person_id)`,
		"survey of an unknown person":        `SELECT count(*) FROM survey_responses s WHERE person_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM people p WHERE p.person_id = s.person_id)`,
		"event outside the range":            `SELECT count(*) FROM events WHERE ts < $1 OR ts >= $2 OR received_at < ts`,
		"order outside the range":            `SELECT count(*) FROM orders WHERE ts < $1 OR ts >= $2`,
		"stage change outside the range":     `SELECT count(*) FROM stage_changes WHERE ts < $1 OR ts >= $2`,
		"survey outside the range":           `SELECT count(*) FROM survey_responses WHERE ts < $1 OR ts >= $2`,
		"person created outside the range":   `SELECT count(*) FROM people WHERE created_at < $1 OR created_at >= $2`,
		"duplicate event id":                 `SELECT count(*) - count(DISTINCT id) FROM events`,
		"mql before lead":                    `SELECT count(*) FROM stage_changes m JOIN stage_changes l ON l.entity_id = m.entity_id AND l.entity_type = 'person' AND l.stage IN ('lead', 'signup') WHERE m.entity_type = 'person' AND m.stage NOT IN ('lead', 'signup') AND m.ts <= l.ts`,
		"spend without cost":                 `SELECT count(*) FROM spend WHERE cost <= 0`,
		"spend campaign channel differs":     `SELECT count(*) FROM (SELECT DISTINCT source, campaign, channel FROM spend WHERE campaign <> '') s JOIN (SELECT DISTINCT utm_source, utm_campaign, channel FROM events WHERE utm_campaign IS NOT NULL) e ON e.utm_source = s.source AND e.utm_campaign = s.campaign WHERE e.channel <> s.channel`,
		"response score outside its scale":   `SELECT count(*) FROM survey_responses WHERE (scale = '0-10' AND (score < 0 OR score > 10)) OR (scale = '1-5' AND (score < 1 OR score > 5))`,
		"order margin above amount":          `SELECT count(*) FROM orders WHERE gross_margin > amount OR gross_margin < 0`,
		"identified person's events unnamed": `SELECT count(*) FROM events e JOIN identities i ON i.alias_id = e.anonymous_id WHERE e.ts > i.ts + INTERVAL 1 HOUR AND e.person_id IS NULL AND e.type <> 'page'`,
	}
	b2b := map[string]string{
		"deal of an unknown account":       `SELECT count(*) FROM deals d WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = d.account_id)`,
		"deal of an unknown person":        `SELECT count(*) FROM deals d WHERE person_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM people p WHERE p.person_id = d.person_id)`,
		"account stage of unknown account": `SELECT count(*) FROM stage_changes s WHERE entity_type = 'account' AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = s.entity_id)`,
		"deal stage of unknown deal":       `SELECT count(*) FROM stage_changes s WHERE entity_type = 'deal' AND NOT EXISTS (SELECT 1 FROM deals d WHERE d.deal_id = s.entity_id)`,
		"order of an unknown account":      `SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = o.customer_id)`,
		"person of an unknown account":     `SELECT count(*) FROM people p WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = p.account_id)`,
		"event of an unknown account":      `SELECT count(*) FROM events e WHERE account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = e.account_id)`,
		"deal closed before created":       `SELECT count(*) FROM deals WHERE closed_at < created_at`,
		"deal status and close disagree":   `SELECT count(*) FROM deals WHERE (status = 'open') <> (closed_at IS NULL) OR (status = 'lost') <> (lost_reason IS NOT NULL)`,
		"deal outside the range":           `SELECT count(*) FROM deals WHERE created_at < $1 OR closed_at >= $2`,
		"deal amount out of bounds":        `SELECT count(*) FROM deals WHERE pipeline = 'new business' AND (amount < 80000 OR amount > 900000)`,
		"sql before mql":                   `SELECT count(*) FROM stage_changes s JOIN stage_changes m ON m.entity_id = s.entity_id AND m.stage = 'mql' WHERE s.stage = 'sql' AND s.ts <= m.ts`,
		"committee outside 1..8":           `SELECT count(*) FROM (SELECT account_id, count(*) n FROM people GROUP BY 1) WHERE n > 8`,
		// A new customer's first revenue is its account-level won stage.
		"won stage not the first won deal": `SELECT count(*) FROM stage_changes s WHERE entity_type = 'account' AND stage = 'won'
			AND s.ts IS DISTINCT FROM (SELECT min(closed_at) FROM deals d WHERE d.account_id = s.entity_id AND d.status = 'won')`,
		"won deal without a won stage": `SELECT count(DISTINCT account_id) FROM deals d WHERE status = 'won'
			AND NOT EXISTS (SELECT 1 FROM stage_changes s WHERE s.entity_type = 'account' AND s.stage = 'won' AND s.entity_id = d.account_id)`,
		"order before the account won": `SELECT count(*) FROM orders o JOIN stage_changes s ON s.entity_type = 'account' AND s.stage = 'won' AND s.entity_id = o.customer_id WHERE o.ts < s.ts`,
	}
	b2c := map[string]string{
		"order of an unknown person":        `SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.person_id = o.customer_id)`,
		"subscription of an unknown person": `SELECT count(*) FROM subscriptions s WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.person_id = s.customer_id)`,
		"overlapping segments":              `SELECT count(*) FROM (SELECT valid_to, lead(valid_from) OVER (PARTITION BY subscription_id ORDER BY valid_from) AS nxt FROM subscriptions) WHERE nxt IS NOT NULL AND (valid_to IS NULL OR valid_to > nxt)`,
		"empty segment":                     `SELECT count(*) FROM subscriptions WHERE valid_to <= valid_from`,
		"segment outside the range":         `SELECT count(*) FROM subscriptions WHERE valid_from < $1 OR valid_to >= $2 OR canceled_at >= $2`,
		"mrr of a trial or pause":           `SELECT count(*) FROM subscriptions WHERE status IN ('trialing', 'paused') AND mrr <> 0`,
		"wrong mrr":                         `SELECT count(*) FROM subscriptions WHERE status = 'active' AND NOT ((billing_interval = 'month' AND mrr = amount) OR (billing_interval = 'year' AND mrr = 8.3325 AND amount = 99.99))`,
		"order without an active segment":   `SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id = o.customer_id AND s.status = 'active' AND o.ts >= s.valid_from AND (s.valid_to IS NULL OR o.ts < s.valid_to))`,
		"workout of an unknown person":      `SELECT count(*) FROM events WHERE name = 'workout_completed' AND person_id IS NULL`,
		"account rows in b2c":               `SELECT count(*) FROM accounts`,
		// A new customer's first revenue is its paid stage.
		"paid stage without its first payment": `SELECT count(*) FROM stage_changes s WHERE stage = 'paid'
			AND s.ts IS DISTINCT FROM (SELECT min(ts) FROM orders o WHERE o.customer_id = s.entity_id)`,
		"payer without a paid stage": `SELECT count(DISTINCT customer_id) FROM orders o
			WHERE NOT EXISTS (SELECT 1 FROM stage_changes s WHERE s.stage = 'paid' AND s.entity_id = o.customer_id)`,
	}
	for _, b := range businesses {
		t.Run(b, func(t *testing.T) {
			f := generate(t, b, 1, testEvents)
			db := f.store.DB()
			zero(t, db, common, f.truth.Start, f.truth.End)
			zero(t, db, map[string]string{
				"spend day without an fx rate": `SELECT count(*) FROM (SELECT DISTINCT date, currency FROM spend) s
					WHERE currency <> $1 AND NOT EXISTS (SELECT 1 FROM fx_rates f WHERE f.date = s.date AND f.currency = s.currency AND f.base = $1)`,
			}, f.truth.Currency)
			if b == "b2b" {
				zero(t, db, b2b, f.truth.Start, f.truth.End)
			} else {
				zero(t, db, b2c, f.truth.Start, f.truth.End)
			}
		})
	}
}

// byChannel runs a query returning (channel, value) rows.
func byChannel(t *testing.T, db *sql.DB, q string, args ...any) map[string]float64 {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var ch sql.NullString
		var v float64
		if err := rows.Scan(&ch, &v); err != nil {
			t.Fatal(err)
		}
		out[ch.String] = v
	}
	return out
}

func TestGenerate_TruthCounts(t *testing.T) {
	for _, b := range businesses {
		t.Run(b, func(t *testing.T) {
			f := generate(t, b, 1, testEvents)
			db := f.store.DB()
			tr := f.truth
			revenue := `SELECT p.channel, sum(o.amount) FROM orders o JOIN people p ON p.person_id = o.customer_id WHERE o.status = 'paid' GROUP BY 1`
			customers := `SELECT p.channel, count(DISTINCT p.person_id) FROM stage_changes s JOIN people p ON p.person_id = s.entity_id WHERE s.entity_type = 'person' AND s.stage = 'paid' GROUP BY 1`
			if b == "b2b" {
				revenue = `SELECT a.channel, sum(x.amount) FROM (
					SELECT account_id AS customer, amount FROM deals WHERE status = 'won' AND closed_at < $1
					UNION ALL SELECT customer_id, amount FROM orders WHERE status = 'paid') x
					JOIN accounts a ON a.account_id = x.customer GROUP BY 1`
				customers = `SELECT a.channel, count(DISTINCT a.account_id) FROM stage_changes s JOIN accounts a ON a.account_id = s.entity_id WHERE s.entity_type = 'account' AND s.stage = 'won' GROUP BY 1`
			}
			var args []any
			if b == "b2b" {
				args = []any{tr.End}
			}
			stage := func(st string) string {
				return `SELECT p.channel, count(DISTINCT p.person_id) FROM stage_changes s JOIN people p ON p.person_id = s.entity_id WHERE s.entity_type = 'person' AND s.stage = '` + st + `' GROUP BY 1`
			}
			checks := []struct {
				name string
				got  map[string]float64
				want func(c *demo.ChannelTruth) float64
				tol  float64
			}{
				{"revenue", byChannel(t, db, revenue, args...), func(c *demo.ChannelTruth) float64 { return c.Revenue }, 0.005},
				{"customers", byChannel(t, db, customers), func(c *demo.ChannelTruth) float64 { return float64(c.Customers) }, 0},
				{"people", byChannel(t, db, `SELECT channel, count(*) FROM people GROUP BY 1`), func(c *demo.ChannelTruth) float64 { return float64(c.People) }, 0},
				{"leads", byChannel(t, db, stage(f.biz.ReportStages.Lead)), func(c *demo.ChannelTruth) float64 { return float64(c.Leads) }, 0},
				{"mqls", byChannel(t, db, stage(f.biz.ReportStages.MQL)), func(c *demo.ChannelTruth) float64 { return float64(c.MQLs) }, 0},
				{"visitors", byChannel(t, db, `SELECT channel, count(*) FROM (SELECT anonymous_id, channel FROM events WHERE anonymous_id IS NOT NULL QUALIFY row_number() OVER (PARTITION BY anonymous_id ORDER BY ts, id) = 1) GROUP BY 1`),
					func(c *demo.ChannelTruth) float64 { return float64(c.Visitors) }, 0},
				{"spend", byChannel(t, db, `SELECT s.channel, sum(s.cost * CASE WHEN s.currency = $1 THEN 1 ELSE f.rate END)
					FROM spend s LEFT JOIN fx_rates f ON f.date = s.date AND f.currency = s.currency AND f.base = $1 GROUP BY 1`, tr.Currency),
					func(c *demo.ChannelTruth) float64 { return c.Spend }, 0.01},
			}
			if b == "b2b" {
				checks = append(checks,
					struct {
						name string
						got  map[string]float64
						want func(c *demo.ChannelTruth) float64
						tol  float64
					}{"sqls", byChannel(t, db, stage("sql")), func(c *demo.ChannelTruth) float64 { return float64(c.SQLs) }, 0},
					struct {
						name string
						got  map[string]float64
						want func(c *demo.ChannelTruth) float64
						tol  float64
					}{"accounts", byChannel(t, db, `SELECT channel, count(*) FROM accounts WHERE channel IS NOT NULL GROUP BY 1`), func(c *demo.ChannelTruth) float64 { return float64(c.Accounts) }, 0},
				)
			}
			for _, c := range checks {
				for name, ct := range tr.Channels {
					want, got := c.want(ct), c.got[name]
					if math.Abs(want-got) > c.tol {
						t.Errorf("%s of %s: truth %.4f, store %.4f", c.name, name, want, got)
					}
				}
				for name, v := range c.got {
					if _, ok := tr.Channels[name]; !ok && v != 0 {
						t.Errorf("%s: channel %q in the store but not in the truth", c.name, name)
					}
				}
			}
			if tr.Total.Revenue <= 0 || tr.Total.Spend <= 0 || tr.Total.Customers == 0 {
				t.Errorf("empty totals: %+v", tr.Total)
			}
		})
	}
}

// rate compares an observed proportion with the planted one.
func rate(t *testing.T, what, channel string, hits, n, p float64) {
	t.Helper()
	if n < 30 {
		return
	}
	obs := hits / n
	se := math.Sqrt(p * (1 - p) / n)
	if math.Abs(obs-p) > 4*se+0.002 {
		t.Errorf("%s of %s: observed %.4f over %.0f, planted %.4f (%.1f standard errors)", what, channel, obs, n, p, math.Abs(obs-p)/se)
	}
}

// rates runs a query returning (channel, hits, n) rows.
func rates(t *testing.T, db *sql.DB, q string, args ...any) map[string][2]float64 {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	out := map[string][2]float64{}
	for rows.Next() {
		var ch string
		var h, n float64
		if err := rows.Scan(&ch, &h, &n); err != nil {
			t.Fatal(err)
		}
		out[ch] = [2]float64{h, n}
	}
	return out
}

func TestGenerate_PlantedRates(t *testing.T) {
	for _, b := range businesses {
		t.Run(b, func(t *testing.T) {
			f := generate(t, b, 1, testEvents)
			db := f.store.DB()
			tr := f.truth
			cut := func(d int) time.Time { return tr.End.AddDate(0, 0, -d) }
			visitors := rates(t, db, `SELECT channel, count(i.alias_id), count(*) FROM (
				SELECT anonymous_id, channel, ts AS first FROM events WHERE anonymous_id IS NOT NULL QUALIFY row_number() OVER (PARTITION BY anonymous_id ORDER BY ts, id) = 1) v
				LEFT JOIN identities i ON i.alias_id = v.anonymous_id WHERE first < $1 GROUP BY 1`, cut(60))
			stageShare := func(from []string, to []string, days int) map[string][2]float64 {
				return rates(t, db, `SELECT p.channel, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM stage_changes s WHERE s.entity_id = p.person_id AND s.stage IN (SELECT unnest($2::VARCHAR[])))), count(*)
					FROM people p WHERE EXISTS (SELECT 1 FROM stage_changes s WHERE s.entity_id = p.person_id AND s.stage IN (SELECT unnest($1::VARCHAR[])))
					AND p.created_at < $3 GROUP BY 1`, from, to, cut(days))
			}
			for name, c := range tr.Channels {
				v := visitors[name]
				rate(t, "visitor→lead", name, v[0], v[1], c.VisitorToLead)
			}
			if b == "b2b" {
				l2m := stageShare([]string{"lead"}, []string{"mql", "sql"}, 60)
				m2s := stageShare([]string{"mql", "sql"}, []string{"sql"}, 120)
				won := rates(t, db, `SELECT a.channel, count(*) FILTER (WHERE d.status = 'won'), count(*) FROM deals d JOIN accounts a USING (account_id)
					WHERE d.pipeline = 'new business' AND d.status <> 'open' GROUP BY 1`)
				for name, c := range tr.Channels {
					rate(t, "lead→MQL", name, l2m[name][0], l2m[name][1], c.LeadToMQL)
					rate(t, "MQL→SQL", name, m2s[name][0], m2s[name][1], c.MQLToSQL)
					rate(t, "opportunity→won", name, won[name][0], won[name][1], c.SQLToWon)
				}
				return
			}
			s2t := stageShare([]string{"signup"}, []string{"trial"}, 12)
			t2p := rates(t, db, `SELECT p.channel, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM stage_changes x WHERE x.entity_id = p.person_id AND x.stage = 'paid')), count(*)
				FROM people p JOIN stage_changes s ON s.entity_id = p.person_id AND s.stage = 'trial' WHERE s.ts < $1 GROUP BY 1`, cut(8))
			for name, c := range tr.Channels {
				rate(t, "signup→trial", name, s2t[name][0], s2t[name][1], c.SignupToTrial)
				rate(t, "trial→paid", name, t2p[name][0], t2p[name][1], c.TrialToPaid)
			}
			// Retention: a workout in the 24-hour window of day N.
			for _, pt := range tr.Retention {
				var hits, n float64
				err := db.QueryRow(`SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM events e WHERE e.person_id = s.entity_id AND e.name = 'workout_completed'
						AND e.ts >= s.ts + to_days($1::INT) AND e.ts < s.ts + to_days($1::INT + 1))), count(*)
					FROM stage_changes s WHERE s.stage = 'signup' AND s.ts + to_days($1::INT + 1) <= $2`, pt.Day, tr.End).Scan(&hits, &n)
				if err != nil {
					t.Fatal(err)
				}
				if int64(n) != pt.Eligible {
					t.Errorf("day %d: %0.f eligible in the store, %d in the truth", pt.Day, n, pt.Eligible)
				}
				rate(t, fmt.Sprintf("retention day %d", pt.Day), "all", hits, n, pt.Probability)
			}
		})
	}
}

func TestGenerate_AcquisitionChannel(t *testing.T) {
	for _, b := range businesses {
		t.Run(b, func(t *testing.T) {
			f := generate(t, b, 1, testEvents)
			db := f.store.DB()
			// Every distinct touch carries the channel the business rules give it.
			rows, err := db.Query(`SELECT DISTINCT utm_source, utm_medium, utm_campaign, click_id_type, referrer, channel FROM events`)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var src, med, camp, click, ref, ch sql.NullString
				if err := rows.Scan(&src, &med, &camp, &click, &ref, &ch); err != nil {
					t.Fatal(err)
				}
				want := f.biz.Channel(bowtie.Touch{Source: src.String, Medium: med.String, Campaign: camp.String, ClickIDType: click.String, Referrer: ref.String})
				if ch.String != want {
					t.Errorf("touch %v/%v/%v/%v/%v has channel %q, the rules say %q", src, med, camp, click, ref, ch.String, want)
				}
				n++
			}
			rows.Close()
			if n < 10 {
				t.Errorf("only %d distinct touches", n)
			}
			// people.channel and utm_* are the first event's.
			rows, err = db.Query(`SELECT p.person_id, p.channel, p.utm_source, p.utm_medium, p.utm_campaign,
					e.utm_source, e.utm_medium, e.utm_campaign, e.click_id_type, e.referrer, e.channel
				FROM people p JOIN identities i ON i.person_id = p.person_id JOIN events e ON e.anonymous_id = i.alias_id OR e.person_id = p.person_id
				QUALIFY row_number() OVER (PARTITION BY p.person_id ORDER BY e.ts, e.id) = 1`)
			if err != nil {
				t.Fatal(err)
			}
			n = 0
			for rows.Next() {
				var id string
				var pch, psrc, pmed, pcamp, src, med, camp, click, ref, ech sql.NullString
				if err := rows.Scan(&id, &pch, &psrc, &pmed, &pcamp, &src, &med, &camp, &click, &ref, &ech); err != nil {
					t.Fatal(err)
				}
				want := f.biz.Channel(bowtie.Touch{Source: src.String, Medium: med.String, Campaign: camp.String, ClickIDType: click.String, Referrer: ref.String})
				if pch.String != want || ech.String != want || psrc != src || pmed != med || pcamp != camp {
					t.Errorf("%s: people has %v %v/%v/%v, first event %v/%v/%v (%s)", id, pch, psrc, pmed, pcamp, src, med, camp, want)
				}
				n++
			}
			rows.Close()
			if int64(n) != f.truth.Rows["people"] {
				t.Errorf("%d people with a first event, %d people", n, f.truth.Rows["people"])
			}
			if b == "b2c" {
				return
			}
			// accounts.channel is its earliest person's.
			zero(t, db, map[string]string{
				"account channel not its first person's": `SELECT count(*) FROM accounts a JOIN (
					SELECT p.account_id, p.channel AS ch, p.utm_source AS src, p.utm_campaign AS camp FROM people p JOIN (
						SELECT i.person_id, min(e.ts) AS first FROM identities i JOIN events e ON e.anonymous_id = i.alias_id GROUP BY 1) e USING (person_id)
					QUALIFY row_number() OVER (PARTITION BY p.account_id ORDER BY e.first) = 1) f USING (account_id)
					WHERE a.channel IS DISTINCT FROM f.ch OR a.utm_source IS DISTINCT FROM f.src OR a.utm_campaign IS DISTINCT FROM f.camp`,
				"account with people but no channel": `SELECT count(*) FROM accounts a WHERE channel IS NULL AND EXISTS (SELECT 1 FROM people p WHERE p.account_id = a.account_id)`,
			})
		})
	}
}

func TestGenerate_Errors(t *testing.T) {
	s, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := demo.Generate(ctx, s, demo.Options{Business: "b2x"}); bowtie.ErrorCode(err) != bowtie.EINVALID {
		t.Errorf("unknown business: %v", err)
	}
	if _, err := demo.Generate(ctx, s, demo.Options{Business: "b2c", Events: 2000}); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Generate(ctx, s, demo.Options{Business: "b2c", Events: 2000}); bowtie.ErrorCode(err) != bowtie.EINVALID {
		t.Errorf("second generation into the same store: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	s2, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := demo.Generate(cctx, s2, demo.Options{Business: "b2b", Events: 20_000}); err == nil {
		t.Errorf("canceled context: no error")
	}
	// Cancelled in the middle of the events: the write stops promptly.
	s3, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	mctx, mcancel := context.WithCancel(ctx)
	defer mcancel()
	start := time.Now()
	_, err = demo.Generate(mctx, s3, demo.Options{Business: "b2c", Events: 5_000_000, Progress: func(done, total int64) {
		if done > 50_000 {
			mcancel()
		}
	}})
	if err == nil || time.Since(start) > 20*time.Second {
		t.Errorf("cancelled mid-way: %v after %v", err, time.Since(start))
	}
}

func TestGenerate_Progress(t *testing.T) {
	s, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var calls int
	var last, lastTotal int64
	_, err = demo.Generate(context.Background(), s, demo.Options{Business: "b2c", Events: 20_000, Progress: func(done, total int64) {
		if done < last || done > total {
			t.Errorf("progress went from %d to %d of %d", last, done, total)
		}
		calls++
		last, lastTotal = done, total
	}})
	if err != nil {
		t.Fatal(err)
	}
	if calls < 5 || last != lastTotal {
		t.Errorf("%d progress calls, last %d of %d", calls, last, lastTotal)
	}
}

func TestGenerate_Range(t *testing.T) {
	start := time.Date(2024, 1, 10, 13, 30, 0, 0, time.UTC)
	end := time.Date(2024, 2, 20, 0, 0, 0, 0, time.UTC)
	for _, b := range businesses {
		t.Run(b, func(t *testing.T) {
			s, err := duckdb.Open(":memory:")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			tr, err := demo.Generate(context.Background(), s, demo.Options{Business: b, Seed: 3, Events: 20_000, Start: start, End: end})
			if err != nil {
				t.Fatal(err)
			}
			if tr.Rows["events"] == 0 || !tr.Start.Equal(start) || !tr.End.Equal(end) {
				t.Errorf("%d events, range %v–%v", tr.Rows["events"], tr.Start, tr.End)
			}
			zero(t, s.DB(), map[string]string{
				"event outside":  `SELECT count(*) FROM events WHERE ts < $1 OR ts >= $2`,
				"order outside":  `SELECT count(*) FROM orders WHERE ts < $1 OR ts >= $2`,
				"stage outside":  `SELECT count(*) FROM stage_changes WHERE ts < $1 OR ts >= $2`,
				"person outside": `SELECT count(*) FROM people WHERE created_at < $1 OR created_at >= $2`,
			}, start, end)
		})
	}
	s, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := demo.Generate(context.Background(), s, demo.Options{Business: "b2c", Start: end, End: start}); bowtie.ErrorCode(err) != bowtie.EINVALID {
		t.Errorf("end before start: %v", err)
	}
}
