package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// fakeStore keeps committed rows by table and natural key, the way the
// DuckDB store upserts them (events keep the first copy), so that importer
// tests need no database driver.
type fakeStore struct {
	rows map[string]map[string][]any
}

func newFakeStore() *fakeStore { return &fakeStore{rows: map[string]map[string][]any{}} }

func (s *fakeStore) Begin(ctx context.Context, mode bowtie.WriteMode) (bowtie.Batch, error) {
	return &fakeBatch{s: s}, nil
}

// rowsOf returns table's rows sorted by key.
func (s *fakeStore) rowsOf(table string) [][]any {
	var keys []string
	for k := range s.rows[table] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out [][]any
	for _, k := range keys {
		out = append(out, s.rows[table][k])
	}
	return out
}

// snapshot renders the whole store for before/after comparisons.
func (s *fakeStore) snapshot() string {
	var b strings.Builder
	var tables []string
	for t := range s.rows {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		for _, r := range s.rowsOf(t) {
			fmt.Fprintf(&b, "%s %v\n", t, r)
		}
	}
	return b.String()
}

type fakeBatch struct {
	s      *fakeStore
	staged []staged
	done   bool
}

type staged struct {
	t   bowtie.Table
	row []any
}

func (b *fakeBatch) Add(t bowtie.Table, row []any) error {
	if b.done {
		return errors.New("batch ended")
	}
	if len(row) != len(t.Fields) {
		return fmt.Errorf("%s: %d values, want %d", t.Name, len(row), len(t.Fields))
	}
	for i, v := range row {
		f := t.Fields[i]
		ok := v == nil
		switch x := v.(type) {
		case string:
			ok = f.Type == bowtie.Text || f.Type == bowtie.Currency || f.Type == bowtie.JSON
		case int64:
			ok = f.Type == bowtie.Int
		case float64:
			ok = f.Type == bowtie.Float || (f.Type == bowtie.Money && math.Round(x*1e4)/1e4 == x)
		case bool:
			ok = f.Type == bowtie.Bool
		case time.Time:
			ok = (f.Type == bowtie.Timestamp || f.Type == bowtie.Date) && x.Location() == time.UTC
			if f.Type == bowtie.Date && (x.Hour() != 0 || x.Minute() != 0) {
				ok = false
			}
		}
		if !ok {
			return fmt.Errorf("%s.%s: value %#v does not suit a %s field", t.Name, f.Name, v, f.Type)
		}
	}
	b.staged = append(b.staged, staged{t, append([]any(nil), row...)})
	return nil
}

func (b *fakeBatch) Commit() (map[string]int64, error) {
	if b.done {
		return nil, errors.New("batch ended")
	}
	b.done = true
	counts := map[string]int64{}
	for _, st := range b.staged {
		m := b.s.rows[st.t.Name]
		if m == nil {
			m = map[string][]any{}
			b.s.rows[st.t.Name] = m
		}
		key := naturalKey(st.t, st.row)
		counts[st.t.Name]++
		if _, exists := m[key]; exists && st.t.Name == "events" {
			continue
		}
		m[key] = st.row
	}
	return counts, nil
}

func (b *fakeBatch) Rollback() error { b.done = true; return nil }

// business returns the B2B business (EUR, Europe/Berlin).
func business(t testing.TB) *bowtie.Business {
	t.Helper()
	b, err := bowtie.Preset("b2b")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// field returns the value of field in a row of table.
func field(table, name string, row []any) any {
	t, _ := bowtie.TableByKind(table)
	for i, f := range t.Fields {
		if f.Name == name {
			return row[i]
		}
	}
	panic("no field " + name)
}

// find returns the row of table whose field equals value.
func find(t *testing.T, st *fakeStore, table, name string, value any) []any {
	t.Helper()
	for _, r := range st.rowsOf(table) {
		if reflect.DeepEqual(field(table, name, r), value) {
			return r
		}
	}
	t.Fatalf("no %s row with %s = %v", table, name, value)
	return nil
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t, err = time.Parse("2006-01-02", s)
	}
	if err != nil {
		panic(err)
	}
	return t
}

// want checks fields of a row.
func want(t *testing.T, table string, row []any, fields map[string]any) {
	t.Helper()
	for name, w := range fields {
		if got := field(table, name, row); !reflect.DeepEqual(got, w) {
			t.Errorf("%s.%s = %#v, want %#v", table, name, got, w)
		}
	}
}

func TestImport_Presets(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		preset  string
		opts    func(*Options)
		rows    map[string]int
		skipped []Skip
		check   func(t *testing.T, st *fakeStore)
	}{
		{
			preset:  "google-ads",
			rows:    map[string]int{"spend": 7},
			skipped: []Skip{{"total rows", 3}},
			check: func(t *testing.T, st *fakeStore) {
				r := find(t, st, "spend", "campaign", "Generic, DE - Search")
				want(t, "spend", r, map[string]any{"date": utc("2024-03-01"), "source": "google", "channel": "Paid Search",
					"impressions": int64(12530), "clicks": int64(310), "cost": 1045.18, "currency": "EUR",
					"platform_conversions": 11.5, "cost_type": "media", "ad_group": nil})
				for campaign, ch := range map[string]string{"PMax - All products": "Cross-network", "YouTube Awareness": "Paid Video",
					"Remarketing Display": "Display", "Demand Gen - Lookalike": "Cross-network"} {
					want(t, "spend", find(t, st, "spend", "campaign", campaign), map[string]any{"channel": ch})
				}
				if got := sumOf(st, "spend", "cost"); got != 1971.65 {
					t.Errorf("total cost %v, want 1971.65 (the report's own total)", got)
				}
			},
		},
		{
			preset:  "meta-ads",
			rows:    map[string]int{"spend": 4},
			skipped: []Skip{{"summary rows", 1}},
			check: func(t *testing.T, st *fakeStore) {
				r := find(t, st, "spend", "cost", 112.5)
				want(t, "spend", r, map[string]any{"date": utc("2024-03-01"), "source": "facebook", "channel": "Paid Social",
					"campaign": "Spring Sale – Prospecting", "ad_group": "Lookalike 1% DE", "creative": "Spring Sale\nCarousel",
					"impressions": int64(20118), "clicks": int64(302), "currency": "EUR", "platform_conversions": 14.0})
				want(t, "spend", find(t, st, "spend", "creative", "Video 15s"), map[string]any{"platform_conversions": nil})
				if got := sumOf(st, "spend", "cost"); got != 310.27 {
					t.Errorf("total cost %v, want 310.27 (the summary row)", got)
				}
			},
		},
		{
			preset: "linkedin-ads",
			rows:   map[string]int{"spend": 3},
			check: func(t *testing.T, st *fakeStore) {
				r := find(t, st, "spend", "campaign", "Webinar: Predictive Maintenance, Part 2")
				want(t, "spend", r, map[string]any{"date": utc("2024-03-01"), "source": "linkedin", "channel": "Paid Social",
					"cost": 180.1, "currency": "EUR", "impressions": int64(3050), "platform_conversions": 6.0})
				want(t, "spend", find(t, st, "spend", "cost", 244.9), map[string]any{"date": utc("2024-03-02"), "platform_conversions": 0.0})
			},
		},
		{
			preset: "hubspot-contacts",
			rows:   map[string]int{"people": 4, "stage_changes": 12},
			check: func(t *testing.T, st *fakeStore) {
				r := find(t, st, "people", "person_id", "51")
				want(t, "people", r, map[string]any{"email_hash": HashEmail("anna.schmidt@example.de"), "account_id": "9001",
					"role": "Head of\nProcurement", "country": "Germany", "lifecycle_stage": "won", "channel": "Paid Search",
					"created_at": utc("2024-01-15 08:30"), // 09:30 in Berlin
					"properties": `{"original_source":"Paid Search","original_source_drill_down_1":"google","original_source_drill_down_2":"predictive maintenance"}`})
				want(t, "people", find(t, st, "people", "person_id", "53"), map[string]any{"email_hash": nil, "channel": "Offline", "lifecycle_stage": "lead"})
				want(t, "people", find(t, st, "people", "person_id", "52"), map[string]any{"lifecycle_stage": "mql", "channel": "Organic Search"})
				var stages []string
				for _, r := range st.rowsOf("stage_changes") {
					if field("stages", "entity_id", r) == "51" {
						stages = append(stages, field("stages", "stage", r).(string)+"@"+field("stages", "ts", r).(time.Time).Format("01-02T15:04"))
					}
				}
				sort.Strings(stages)
				wantStages := []string{"lead@01-15T08:30", "mql@01-20T13:00", "opportunity@02-10T15:45", "sql@02-01T09:00", "won@04-02T09:00"}
				if !reflect.DeepEqual(stages, wantStages) {
					t.Errorf("stages of 51 = %v, want %v", stages, wantStages)
				}
			},
		},
		{
			preset: "hubspot-deals",
			opts:   func(o *Options) { o.Currency = "EUR" },
			rows:   map[string]int{"deals": 3},
			check: func(t *testing.T, st *fakeStore) {
				want(t, "deals", find(t, st, "deals", "deal_id", "7001"), map[string]any{"name": "Line 3 retrofit, Phase 1", "status": "won",
					"closed_at": utc("2024-04-02 09:00"), "amount": 125000.0, "currency": "EUR", "account_id": "9001", "owner": "Jane Doe",
					"properties": `{"deal_type":"New Business"}`})
				want(t, "deals", find(t, st, "deals", "deal_id", "7002"), map[string]any{"status": "lost", "account_id": "9002",
					"lost_reason": "Budget frozen", "amount": 48000.5})
				want(t, "deals", find(t, st, "deals", "deal_id", "7003"), map[string]any{"status": "open", "closed_at": nil,
					"stage": "Contract Sent (Service Pipeline)", "amount": 18500.0})
			},
		},
		{
			preset:  "salesforce-opportunity-history",
			rows:    map[string]int{"stage_changes": 5},
			skipped: []Skip{{"footer lines", 5}, {"history rows without a stage change", 1}},
			check: func(t *testing.T, st *fakeStore) {
				r := find(t, st, "stage_changes", "stage", "Prospecting")
				want(t, "stages", r, map[string]any{"entity_type": "deal", "entity_id": "0065g00000AbCdEAAA",
					"ts": utc("2024-02-10 15:45"), "source": "salesforce"})
				want(t, "stages", find(t, st, "stage_changes", "stage", "Closed Lost"), map[string]any{"ts": utc("2024-03-28 14:20")})
			},
		},
		{
			preset:  "stripe-subscriptions",
			rows:    map[string]int{"subscriptions": 8},
			skipped: []Skip{{"incomplete subscriptions (the first payment never succeeded)", 1}},
			check: func(t *testing.T, st *fakeStore) {
				segs := map[string][]string{}
				for _, r := range st.rowsOf("subscriptions") {
					id := field("subscriptions", "subscription_id", r).(string)
					to := "open"
					if v, ok := field("subscriptions", "valid_to", r).(time.Time); ok {
						to = v.Format("01-02T15:04")
					}
					segs[id] = append(segs[id], fmt.Sprintf("%s %s..%s mrr=%v", field("subscriptions", "status", r),
						field("subscriptions", "valid_from", r).(time.Time).Format("01-02T15:04"), to, field("subscriptions", "mrr", r)))
				}
				wantSegs := map[string][]string{
					"sub_1OaTrialActive":  {"trialing 01-05T10:12..01-12T10:12 mrr=0", "active 01-12T10:12..open mrr=29"},
					"sub_1ObYearly3Seats": {"active 02-01T08:00..open mrr=60"},
					"sub_1OcCanceled":     {"trialing 01-10T09:00..01-17T09:00 mrr=0", "active 01-17T09:00..03-17T09:00 mrr=29"},
					"sub_1OdTrialOnly":    {"trialing 03-01T07:00..03-03T18:00 mrr=0"},
					"sub_1OeTrialing":     {"trialing 03-28T20:00..open mrr=0"},
					"sub_1OfCancelAtEnd":  {"active 01-02T12:00..open mrr=75"},
				}
				if !reflect.DeepEqual(segs, wantSegs) {
					t.Errorf("segments:\n got %v\nwant %v", segs, wantSegs)
				}
				want(t, "subscriptions", find(t, st, "subscriptions", "subscription_id", "sub_1ObYearly3Seats"), map[string]any{
					"amount": 720.0, "quantity": int64(3), "currency": "EUR", "billing_interval": "year", "interval_count": int64(1),
					"customer_id": "cus_PB2", "plan": "price_team_yearly"})
				want(t, "subscriptions", find(t, st, "subscriptions", "subscription_id", "sub_1OfCancelAtEnd"), map[string]any{
					"canceled_at": utc("2024-03-20 08:00"), "valid_to": nil})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			st := newFakeStore()
			opts := Options{Preset: tt.preset, Business: business(t)}
			if tt.opts != nil {
				tt.opts(&opts)
			}
			path := filepath.Join("testdata", tt.preset+".csv")
			res, err := Import(ctx, st, path, opts)
			if err != nil {
				t.Fatal(err)
			}
			for table, n := range tt.rows {
				if got := len(st.rowsOf(table)); got != n {
					t.Errorf("%s has %d rows, want %d", table, got, n)
				}
			}
			if !reflect.DeepEqual(res.Skipped, tt.skipped) {
				t.Errorf("skipped %v, want %v", res.Skipped, tt.skipped)
			}
			tt.check(t, st)

			// Re-importing the same file changes nothing.
			before := st.snapshot()
			if _, err := Import(ctx, st, path, opts); err != nil {
				t.Fatal(err)
			}
			if after := st.snapshot(); after != before {
				t.Errorf("re-import changed the store:\nbefore\n%s\nafter\n%s", before, after)
			}
		})
	}
}

func sumOf(st *fakeStore, table, name string) float64 {
	var s float64
	for _, r := range st.rowsOf(table) {
		if v, ok := field(table, name, r).(float64); ok {
			s += v
		}
	}
	return math.Round(s*1e4) / 1e4
}

// TestImport_BadFiles runs the corpus of bad files: each must fail with
// exactly the expected errors and leave the store as it was.
func TestImport_BadFiles(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join("testdata", "bad")
	tests := []struct {
		file string
		kind string
		want []string
	}{
		{"bad-date.csv", "spend", []string{
			`testdata/bad/bad-date.csv:3: date: "2024-02-30" is not a date: February has no day 30`,
			`testdata/bad/bad-date.csv:4: date: "31/13/2024" is not a date (use 2024-03-31, 2024-03-31T14:05:00Z, 03/31/2024, 31.03.2024, Mar 31, 2024 or Unix seconds)`,
		}},
		{"missing-column.csv", "spend", []string{
			`testdata/bad/missing-column.csv:1: header: missing required column "cost" (the header on line 1 has "date", "source", "campaign", "currency"); if it is there under another name, map it with --map field=column`,
		}},
		{"bad-money.csv", "spend", []string{
			`testdata/bad/bad-money.csv:2: cost: "twelve" is not an amount`,
			`testdata/bad/bad-money.csv:3: cost: "12,5,0" is not an amount`,
			`testdata/bad/bad-money.csv:4: cost: "12.50%" is a percentage, not an amount`,
		}},
		{"unknown-currency.csv", "spend", []string{
			`testdata/bad/unknown-currency.csv:2: currency: "EUX" is not an ISO 4217 currency code (EUR, USD, GBP, ...)`,
			`testdata/bad/unknown-currency.csv:3: currency: cost "$12.00" uses "$", the symbol of several currencies: add a currency column or pass --currency`,
			`testdata/bad/unknown-currency.csv:4: cost: "€12.00" is in EUR but the row's currency is USD`,
		}},
		{"duplicate.csv", "spend", []string{
			`testdata/bad/duplicate.csv:4: date: duplicate spend key (date=2024-03-01, source=google, campaign=Brand, ad_group=, creative=) first seen on line 2`,
		}},
		{"truncated.csv", "spend", []string{
			`testdata/bad/truncated.csv:3: record: a quoted cell opened on this line is never closed: the file ends inside it; is it truncated?`,
		}},
		{"short-last.csv", "spend", []string{
			`testdata/bad/short-last.csv:3: record: has 3 cells but the header (line 1) has 5; the file ends here: is it truncated?`,
		}},
		{"latin1.csv", "spend", []string{
			`testdata/bad/latin1.csv:3: campaign: invalid UTF-8 (byte 0xFC in column 3): the file is not UTF-8; if it is Latin-1 (ISO-8859-1 or Windows-1252), convert it with: iconv -f latin1 -t utf-8 testdata/bad/latin1.csv > latin1.utf8.csv`,
		}},
		{"bom-bad-row.csv", "spend", []string{
			`testdata/bad/bom-bad-row.csv:3: clicks: "12x" is not a whole number`,
		}},
		{"bad-enum.csv", "deals", []string{
			`testdata/bad/bad-enum.csv:3: status: "pending" is not one of open, won, lost`,
		}},
		{"ambiguous-dates.csv", "spend", []string{
			`testdata/bad/ambiguous-dates.csv:2: date: "03/04/2024" could be month/day or day/month, and no date in column "date" has a day above 12 to tell: pass --date-format us (month first) or --date-format eu (day first)`,
		}},
		{"events.jsonl", "events", []string{
			`testdata/bad/events.jsonl:2: type: "click" is not one of track, page, screen, identify, group, alias`,
			`testdata/bad/events.jsonl:4: ts: required, but missing`,
			`testdata/bad/events.jsonl:5: name: "Signed Up": an identify event has no name (only track, page and screen events do); leave it empty`,
			`testdata/bad/events.jsonl:6: record: not a JSON object: unexpected EOF; the file ends here: is it truncated?`,
		}},
		{"mixed-date-order.csv", "spend", []string{
			`testdata/bad/mixed-date-order.csv:3: date: "13/02/2024" is not a date when read month first (us); pass --date-format eu if the column is day first`,
		}},
		{"bad-timestamp.csv", "orders", []string{
			`testdata/bad/bad-timestamp.csv:3: ts: "2024-03-01 25:00" has no valid time of day (use 14:05, 14:05:00 or 2:05 PM, optionally with Z or +02:00)`,
			`testdata/bad/bad-timestamp.csv:4: ts: "yesterday" is not a date (use 2024-03-31, 2024-03-31T14:05:00Z, 03/31/2024, 31.03.2024, Mar 31, 2024 or Unix seconds)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			st := newFakeStore()
			// A store with data in it: a failed import must not touch it.
			if _, err := Import(ctx, st, filepath.Join("testdata", "google-ads.csv"), Options{Preset: "google-ads", Business: business(t)}); err != nil {
				t.Fatal(err)
			}
			before := st.snapshot()
			_, err := Import(ctx, st, dir+"/"+tt.file, Options{Kind: tt.kind, Business: business(t)})
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v, want *Errors", err)
			}
			if got := errs.Lines(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
			if after := st.snapshot(); after != before {
				t.Errorf("the store changed")
			}
		})
	}
}

func TestImport_ManyErrors(t *testing.T) {
	st := newFakeStore()
	_, err := Import(context.Background(), st, "testdata/bad/many-errors.csv", Options{Kind: "spend", Business: business(t)})
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want *Errors", err)
	}
	lines := errs.Lines()
	if len(lines) != MaxErrors+1 || lines[MaxErrors] != "... and 5 more errors" {
		t.Fatalf("got %d lines ending %q, want %d and \"... and 5 more errors\"", len(lines), lines[len(lines)-1], MaxErrors+1)
	}
	if lines[0] != `testdata/bad/many-errors.csv:2: cost: "n/a" is not an amount` {
		t.Errorf("first line %q", lines[0])
	}
}

func TestImport_SkipBad(t *testing.T) {
	st := newFakeStore()
	var rejects bytes.Buffer
	res, err := Import(context.Background(), st, "testdata/bad/mixed.csv", Options{Kind: "spend", Business: business(t), Rejects: &rejects})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected != 2 || len(st.rowsOf("spend")) != 2 || res.Tables[0].Rows != 2 {
		t.Fatalf("rejected %d, stored %d (reported %d), want 2 and 2", res.Rejected, len(st.rowsOf("spend")), res.Tables[0].Rows)
	}
	want := `line,field,reason,date,source,campaign,cost,currency
3,cost,"""oops"" is not an amount",2024-03-02,google,Brand,oops,EUR
5,currency,"""XXX"" is not an ISO 4217 currency code (EUR, USD, GBP, ...)",2024-03-04,google,Brand,1.00,XXX
`
	if rejects.String() != want {
		t.Errorf("rejects:\n%s\nwant\n%s", rejects.String(), want)
	}
	want2 := find(t, st, "spend", "campaign", `Brand, "EU"`)
	if field("spend", "cost", want2) != 7.25 {
		t.Errorf("quoted campaign row: %v", want2)
	}
}

func TestImport_MapAndFormats(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("MapTabsAndEuropeanNumbers", func(t *testing.T) {
		st := newFakeStore()
		p := write("kosten.tsv", "Tag\tQuelle\tKampagne\tKosten\tMedium\n31.03.2024\tbing\tMarke\t1.234,56 EUR\tcpc\n")
		_, err := Import(ctx, st, p, Options{Kind: "spend", Business: business(t),
			Map: map[string]string{"date": "tag", "source": "QUELLE", "campaign": "Kampagne", "cost": "Kosten", "medium": "Medium"}})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "spend", st.rowsOf("spend")[0], map[string]any{"date": utc("2024-03-31"), "cost": 1234.56, "currency": "EUR", "channel": "Paid Search"})
	})
	t.Run("JSONLinesEvents", func(t *testing.T) {
		st := newFakeStore()
		p := write("events.jsonl", `{"ID":"e1","ts":1709287200,"type":"Page","url":"https://x.example/?utm_source=newsletter&utm_medium=email&utm_campaign=march","context":{"ip":"x"}}
{"id":"e2","ts":"2024-03-01T11:00:00+01:00","type":"track","name":"Order Completed","revenue":"€49,90","referrer":"https://www.google.com/search?q=x"}
{"id":"e3","ts":"2024-03-01 12:00:00","type":"page","click_id_type":"gclid","click_id":"abc","properties":{"plan":"pro"}}
`)
		res, err := Import(ctx, st, p, Options{Kind: "events", Business: business(t)})
		if err != nil {
			t.Fatal(err)
		}
		want(t, "events", find(t, st, "events", "id", "e1"), map[string]any{"ts": time.Unix(1709287200, 0).UTC(), "type": "page",
			"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "march", "channel": "Email"})
		want(t, "events", find(t, st, "events", "id", "e2"), map[string]any{"ts": utc("2024-03-01 10:00"), "revenue": 49.9,
			"currency": "EUR", "channel": "Organic Search"})
		want(t, "events", find(t, st, "events", "id", "e3"), map[string]any{"ts": utc("2024-03-01 11:00"), "channel": "Paid Search",
			"properties": `{"plan":"pro"}`})
		if !reflect.DeepEqual(res.Ignored, []string{"context"}) {
			t.Errorf("ignored %v, want [context]", res.Ignored)
		}
	})
	t.Run("TimezoneAndUSDates", func(t *testing.T) {
		st := newFakeStore()
		p := write("orders.csv", "order_id,customer_id,ts,amount,currency\nO1,c1,3/31/2024 11:30 PM,\"$1,200.00\",USD\nO2,c1,04/01/2024 08:00,12,USD\n")
		ny, _ := time.LoadLocation("America/New_York")
		if _, err := Import(ctx, st, p, Options{Kind: "orders", Business: business(t), Location: ny}); err != nil {
			t.Fatal(err)
		}
		want(t, "orders", find(t, st, "orders", "order_id", "O1"), map[string]any{"ts": utc("2024-04-01 03:30"), "amount": 1200.0, "status": "paid"})
		want(t, "orders", find(t, st, "orders", "order_id", "O2"), map[string]any{"ts": utc("2024-04-01 12:00")})
	})
	t.Run("DateOrderFromLaterRow", func(t *testing.T) {
		st := newFakeStore()
		p := write("later.csv", "date,source,campaign,cost,currency\n2024-03-01,google,a,1,EUR\n03/04/2024,google,b,1,EUR\n25/04/2024,google,c,1,EUR\n")
		if _, err := Import(ctx, st, p, Options{Kind: "spend", Business: business(t)}); err != nil {
			t.Fatal(err)
		}
		want(t, "spend", find(t, st, "spend", "campaign", "b"), map[string]any{"date": utc("2024-04-03")})
	})
	t.Run("ForcedDateFormat", func(t *testing.T) {
		st := newFakeStore()
		p := write("amb.csv", "date,source,cost,currency\n03/04/2024,google,1,EUR\n")
		if _, err := Import(ctx, st, p, Options{Kind: "spend", Business: business(t), DateOrder: OrderDMY}); err != nil {
			t.Fatal(err)
		}
		want(t, "spend", st.rowsOf("spend")[0], map[string]any{"date": utc("2024-04-03")})
	})
	t.Run("PeopleEmailIsHashed", func(t *testing.T) {
		st := newFakeStore()
		p := write("people.csv", "person_id,email,utm_source,utm_medium\np1,Ann@Example.com,linkedin,paid_social\np2,,,\n")
		if _, err := Import(ctx, st, p, Options{Kind: "people", Business: business(t)}); err != nil {
			t.Fatal(err)
		}
		want(t, "people", find(t, st, "people", "person_id", "p1"), map[string]any{"email_hash": HashEmail("ann@example.com"), "channel": "Paid Social"})
		// Without any touch a person keeps no channel rather than "Direct".
		want(t, "people", find(t, st, "people", "person_id", "p2"), map[string]any{"email_hash": nil, "channel": nil})
	})
	t.Run("ErrUnknownMapField", func(t *testing.T) {
		_, err := Import(ctx, newFakeStore(), write("x.csv", "a\n1\n"), Options{Kind: "spend", Business: business(t), Map: map[string]string{"costs": "a"}})
		if bowtie.ErrorCode(err) != bowtie.EINVALID || !strings.Contains(err.Error(), `spend has no input "costs"`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrParquetWithoutReader", func(t *testing.T) {
		_, err := Import(ctx, newFakeStore(), write("x.parquet", "PAR1"), Options{Kind: "spend", Business: business(t)})
		if err == nil {
			t.Fatal("no error")
		}
	})
}

// TestImport_UTF16 reads a spreadsheet program's "Unicode text" export.
func TestImport_UTF16(t *testing.T) {
	text := "date\tsource\tcost\tcurrency\r\n2024-03-01\tgoogle\t12,50\tEUR\r\n"
	var b bytes.Buffer
	b.WriteString("\xff\xfe")
	for _, r := range text {
		b.WriteByte(byte(r))
		b.WriteByte(byte(r >> 8))
	}
	p := filepath.Join(t.TempDir(), "u16.csv")
	os.WriteFile(p, b.Bytes(), 0o644)
	st := newFakeStore()
	if _, err := Import(context.Background(), st, p, Options{Kind: "spend", Business: business(t)}); err != nil {
		t.Fatal(err)
	}
	want(t, "spend", st.rowsOf("spend")[0], map[string]any{"cost": 12.5})
}

// TestImporter_NoDriver keeps the package free of database drivers: it
// reaches the store only through bowtie.Batch and the injected Parquet
// reader.
func TestImporter_NoDriver(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "duckdb") || strings.Contains(dep, "clickhouse") {
			t.Errorf("importer depends on %s", dep)
		}
	}
}
