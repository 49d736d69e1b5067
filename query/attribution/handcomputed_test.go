package attribution_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	model "github.com/bowtie-analytics/bowtie/model/attribution"
	"github.com/bowtie-analytics/bowtie/query/attribution"
)

const b2cYAML = "preset: b2c\ncurrency: USD\ntime_zone: UTC\n"
const b2bYAML = "preset: b2b\ncurrency: EUR\ntime_zone: UTC\n"

// render writes paths one per line, sorted, for comparison:
// "conv=<time> v=<value> n=<nulls>: ch/campaign/person@time[L][O] > ...".
func render(ps []model.Path) []string {
	var out []string
	for _, p := range ps {
		var b strings.Builder
		if p.Conversions > 0 {
			fmt.Fprintf(&b, "conv=%s v=%g", time.Unix(p.ConvAt, 0).UTC().Format(time.DateTime), p.Value)
		} else {
			fmt.Fprintf(&b, "null=%g", p.Nulls)
		}
		b.WriteString(":")
		for i, t := range p.Touches {
			if i > 0 {
				b.WriteString(" >")
			}
			fmt.Fprintf(&b, " %s/%s/%s@%s", t.Channel, t.Campaign, t.Person, time.Unix(t.At, 0).UTC().Format("01-02 15:04"))
			if t.Milestone&model.LeadCreation != 0 {
				b.WriteString("[L]")
			}
			if t.Milestone&model.OpportunityCreation != 0 {
				b.WriteString("[O]")
			}
		}
		out = append(out, b.String())
	}
	slices.Sort(out)
	return out
}

func comparePaths(t *testing.T, got []model.Path, want []string) {
	t.Helper()
	g := render(got)
	slices.Sort(want)
	if !slices.Equal(g, want) {
		t.Errorf("paths:\n got %d:\n  %s\nwant %d:\n  %s", len(g), strings.Join(g, "\n  "), len(want), strings.Join(want, "\n  "))
	}
}

func TestBuildPaths_PersonHandComputed(t *testing.T) {
	s := openStore(t, "person_small.sql")
	biz := business(t, b2cYAML)
	base := attribution.Request{From: date("2024-03-01"), To: date("2024-03-31"), Lookback: "30d"}
	t.Run("StagePaid", func(t *testing.T) {
		req := base
		req.Conversion = "stage:paid"
		comparePaths(t, paths(t, s, biz, req), []string{
			// p1: the anonymous touch joins through identities; Email twice collapses; the touch after converting is no path
			"conv=2024-03-10 12:00:00 v=0: Paid Social/c1/@03-01 10:00 > Email/news/@03-05 09:00[L] > Paid Search//@03-08 09:00",
			// p2: no touch — direct
			"conv=2024-03-15 12:00:00 v=0:",
			// p3: the touch exactly 30 days before is in, the one a second older and the one at the conversion instant
			// out; the second paid entry is no conversion; paid counts as passing the lead stage (signup), so the
			// lead milestone is the last touch before it
			"conv=2024-03-02 12:00:00 v=0: Referral//@02-01 12:00 > Display//@02-10 12:00[L]",
			// null paths (their touches in the 30 days before April 1): p4, p5, the unidentified visitor a6,
			// p8 after its February conversion; p7's touches are all before the period
			"null=1: Email/news/@03-04 08:00",
			"null=1: Display//@03-20 08:00",
			"null=1: Paid Social/c1/@03-25 08:00",
			"null=1: Display//@03-05 08:00",
		})
	})
	t.Run("KeepRepeats", func(t *testing.T) {
		req := base
		req.Conversion, req.KeepRepeats = "stage:paid", true
		got := render(paths(t, s, biz, req))
		want := "conv=2024-03-10 12:00:00 v=0: Paid Social/c1/@03-01 10:00 > Email/news/@03-05 09:00[L] > Email/news/@03-06 09:00 > Paid Search//@03-08 09:00"
		if !slices.Contains(got, want) {
			t.Errorf("no path %q in\n%s", want, strings.Join(got, "\n"))
		}
	})
	t.Run("EventSeveralConversions", func(t *testing.T) {
		req := base
		req.Conversion = "event:purchase"
		comparePaths(t, paths(t, s, biz, req), []string{
			// p4's second purchase takes the touches since the first; 20 EUR at 1.1
			"conv=2024-03-03 08:00:00 v=10: Organic Social//@03-01 08:00",
			"conv=2024-03-06 08:00:00 v=22: Email/news/@03-04 08:00",
			"null=1: Email/news/@03-05 09:00 > Paid Search//@03-08 09:00 > Display//@03-12 09:00",
			"null=1: Paid Video//@03-02 12:00",
			"null=1: Display//@03-20 08:00",
			"null=1: Paid Social/c1/@03-25 08:00",
			"null=1: Display//@03-05 08:00",
		})
	})
	t.Run("TouchEvents", func(t *testing.T) {
		req := base
		req.Conversion, req.TouchEvents = "stage:paid", []string{"Landing Page"}
		got := render(paths(t, s, biz, req))
		want := "conv=2024-03-10 12:00:00 v=0: Paid Social/c1/@03-01 10:00[L]"
		if !slices.Contains(got, want) {
			t.Errorf("no path %q in\n%s", want, strings.Join(got, "\n"))
		}
	})
}

func TestRun_PersonCreditsAndSpend(t *testing.T) {
	s := openStore(t, "person_small.sql")
	biz := business(t, b2cYAML)
	res := run(t, s, biz, attribution.Request{From: date("2024-03-01"), To: date("2024-03-31"), Lookback: "30d",
		Conversion: "event:purchase", Models: []string{"first", "linear", "markov"}})
	if res.Totals.Conversions != 2 || res.Totals.Revenue != 32 || res.Totals.NullPaths != 5 || res.Totals.ConvertingPaths != 2 {
		t.Errorf("totals %+v", res.Totals)
	}
	os := row(t, res, "Organic Social", "")
	if c := os.Credits["first"]; c.Conversions != 1 || c.Revenue != 10 || c.CostPerConversion == nil || *c.CostPerConversion != 0 || c.ROAS != nil {
		t.Errorf("Organic Social first %+v", c)
	}
	ps := row(t, res, "Paid Social", "")
	// Spend: 100 + 20 media USD (the tools row is not a CAC cost type); platform 5 + 1.
	if ps.Cost != 120 || ps.PlatformConversions != 6 {
		t.Errorf("Paid Social cost %v platform %v", ps.Cost, ps.PlatformConversions)
	}
	if c := ps.Credits["linear"]; c.Conversions != 0 || c.ROAS == nil || *c.ROAS != 0 || c.ROMI == nil || *c.ROMI != -1 {
		t.Errorf("Paid Social linear %+v", c)
	}
	sr := row(t, res, "Paid Search", "")
	if sr.Cost != 55 || sr.PlatformConversions != 2 {
		t.Errorf("Paid Search cost %v platform %v (50 EUR at 1.1; the February row is outside)", sr.Cost, sr.PlatformConversions)
	}
	if res.Totals.Cost != 175 || res.Totals.PlatformConversions != 8 || res.Totals.OverClaim == nil || *res.Totals.OverClaim != 4 {
		t.Errorf("totals cost %v platform %v over-claim %v", res.Totals.Cost, res.Totals.PlatformConversions, res.Totals.OverClaim)
	}
	for _, m := range res.Models {
		var n, v float64
		for _, r := range res.Rows {
			n += r.Credits[m].Conversions
			v += r.Credits[m].Revenue
		}
		if !near(n, 2) || !near(v, 32) {
			t.Errorf("%s credits sum to %v conversions, %v revenue; want 2, 32", m, n, v)
		}
	}
	// Time to convert: 2 days and 2 days; lengths: two one-touch paths.
	if res.TimeToConvert[2].Conversions != 2 || res.PathLengths[1].Conversions != 2 {
		t.Errorf("distributions %+v %+v", res.TimeToConvert, res.PathLengths)
	}
	if res.Markov == nil || len(res.Markov.RemovalEffects) == 0 {
		t.Errorf("markov report missing")
	}

	t.Run("ByCampaign", func(t *testing.T) {
		res := run(t, s, biz, attribution.Request{From: date("2024-03-01"), To: date("2024-03-31"), Lookback: "30d",
			Conversion: "event:purchase", By: "campaign", Models: []string{"last", "markov"}})
		if r := row(t, res, "Email", "news"); r.Credits["last"].Conversions != 1 || !near(r.Credits["last"].Revenue, 22) {
			t.Errorf("Email/news %+v", r.Credits["last"])
		}
		if r := row(t, res, "Paid Social", "c1"); r.Cost != 100 || r.PlatformConversions != 5 {
			t.Errorf("Paid Social/c1 cost %v platform %v", r.Cost, r.PlatformConversions)
		}
		if r := row(t, res, "Paid Social", "c2"); r.Cost != 20 {
			t.Errorf("Paid Social/c2 cost %v", r.Cost)
		}
		var n float64
		for _, r := range res.Rows {
			n += r.Credits["markov"].Conversions
		}
		if !near(n, 2) {
			t.Errorf("markov by campaign sums to %v", n)
		}
	})
}

func TestBuildPaths_AccountHandComputed(t *testing.T) {
	s := openStore(t, "account_small.sql")
	biz := business(t, b2bYAML)
	base := attribution.Request{From: date("2024-03-01"), To: date("2024-03-31"), Lookback: "365d", Level: "account", Conversion: "deal:won"}
	t.Run("Created", func(t *testing.T) {
		comparePaths(t, paths(t, s, biz, base), []string{
			// c1: three touches by two people before the deal's creation; the lead milestone is q1's (the account's first lead), the opportunity the deal's creation
			"conv=2024-03-01 00:00:00 v=1000: Webinars/w1/q1@01-10 10:00[L] > Paid Search/brand/q2@02-01 10:00 > Events/fair/q1@02-15 10:00[O]",
			// c2: no touch; 500 USD at 0.9
			"conv=2024-03-02 00:00:00 v=450:",
			// d3 names no account: direct
			"conv=2024-03-03 00:00:00 v=100:",
			"null=1: Display//q4@03-05 10:00",
		})
	})
	t.Run("Closed", func(t *testing.T) {
		req := base
		req.DealWindow = "closed"
		got := render(paths(t, s, biz, req))
		want := "conv=2024-03-20 00:00:00 v=1000: Webinars/w1/q1@01-10 10:00[L] > Paid Search/brand/q2@02-01 10:00 > Events/fair/q1@02-15 10:00[O] > Email//q2@03-10 10:00"
		if !slices.Contains(got, want) {
			t.Errorf("no path %q in\n%s", want, strings.Join(got, "\n"))
		}
	})
	t.Run("Lookback", func(t *testing.T) {
		req := base
		req.Lookback = "30d" // from 2024-01-31: the webinar falls out
		got := render(paths(t, s, biz, req))
		want := "conv=2024-03-01 00:00:00 v=1000: Paid Search/brand/q2@02-01 10:00 > Events/fair/q1@02-15 10:00[O]"
		if !slices.Contains(got, want) {
			t.Errorf("no path %q in\n%s", want, strings.Join(got, "\n"))
		}
	})
	t.Run("Credits", func(t *testing.T) {
		res := run(t, s, biz, attribution.Request{From: date("2024-03-01"), To: date("2024-03-31"), Level: "account", Models: []string{"w_shaped", "linear", "first"}})
		if res.Conversion != "deal:won" || res.LookbackDays != 365 {
			t.Errorf("defaults: conversion %q lookback %v", res.Conversion, res.LookbackDays)
		}
		// W-shaped: the first touch is also the lead's, so two anchors of 0.3
		// and one other touch of 0.1, over 0.7.
		for ch, w := range map[string]float64{"Webinars": 3.0 / 7, "Paid Search": 1.0 / 7, "Events": 3.0 / 7} {
			if c := row(t, res, ch, "").Credits["w_shaped"]; !near(c.Conversions, w) || !near(c.Revenue, round4(1000*w)) {
				t.Errorf("%s w_shaped %+v, want %v", ch, c, w)
			}
		}
		if c := row(t, res, model.DirectChannel, "").Credits["first"]; c.Conversions != 2 || c.Revenue != 550 {
			t.Errorf("Direct %+v", c)
		}
		if res.Totals.DirectConversions != 2 || res.Totals.Revenue != 1550 {
			t.Errorf("totals %+v", res.Totals)
		}
	})
	t.Run("StageAtAccountLevel", func(t *testing.T) {
		// No account or deal entries for lead: the people's count, each first entry.
		req := base
		req.Conversion = "stage:lead"
		ps := paths(t, s, biz, req)
		var conv float64
		for _, p := range ps {
			conv += p.Conversions
		}
		if conv != 1 { // q4's lead on 03-06; q1 and q2 are before the period
			t.Errorf("conversions %v, want 1:\n%s", conv, strings.Join(render(ps), "\n"))
		}
	})
}

func TestRun_Errors(t *testing.T) {
	s := openStore(t, "person_small.sql")
	biz := business(t, b2cYAML)
	base := attribution.Request{From: date("2024-03-01"), To: date("2024-03-31")}
	for _, tc := range []struct {
		name string
		mod  func(r *attribution.Request)
		want string
	}{
		{"UnknownModel", func(r *attribution.Request) { r.Models = []string{"fist"} }, `unknown model "fist"`},
		{"ZeroLookback", func(r *attribution.Request) { r.Lookback = "0d" }, "lookback must be positive"},
		{"NegativeLookback", func(r *attribution.Request) { r.Lookback = "-3d" }, "lookback must be positive"},
		{"BadLookback", func(r *attribution.Request) { r.Lookback = "soon" }, `lookback: "soon" is not a duration`},
		{"UnknownStage", func(r *attribution.Request) { r.Conversion = "stage:payed" }, `no stage_changes entry has stage "payed"; closest stages: "paid"`},
		{"UnknownEvent", func(r *attribution.Request) { r.Conversion = "event:purchased" }, `no event is named "purchased"; closest event names: "purchase"`},
		{"UnknownKind", func(r *attribution.Request) { r.Conversion = "order:first" }, `unknown kind "order"`},
		{"NoDeals", func(r *attribution.Request) { r.Conversion = "deal:won" }, "no won deal"},
		{"NoPayments", func(r *attribution.Request) { r.Conversion = "payment:first" }, "no paid order"},
		{"PaymentLevel", func(r *attribution.Request) { r.Conversion, r.Level = "payment:first", "account" }, "customers, who are persons"},
		{"Level", func(r *attribution.Request) { r.Level = "team" }, `level: "team"`},
		{"MarkovOrder", func(r *attribution.Request) { r.MarkovOrder = 4 }, "markov_order: 4"},
		{"FromAfterTo", func(r *attribution.Request) { r.From = date("2024-04-01") }, "is after to"},
		{"Dataset", func(r *attribution.Request) { r.Dataset = "ga4" }, `dataset "ga4"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := base
			req.Conversion = "stage:paid"
			tc.mod(&req)
			_, err := attribution.Run(t.Context(), s.DB(), queryDuckDB, biz, req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestRun_Dataset(t *testing.T) {
	s := openStore(t, `CREATE TABLE IF NOT EXISTS paths (dataset VARCHAR NOT NULL, path VARCHAR NOT NULL DEFAULT '', conversions DOUBLE NOT NULL,
		value DECIMAL(18,4) NOT NULL, currency VARCHAR NOT NULL, nulls DOUBLE NOT NULL, PRIMARY KEY (dataset, path))`,
		`INSERT INTO paths VALUES
		('ga', 'Paid Search > Email', 3, 300, 'USD', 7),
		('ga', 'Email', 1, 40, 'EUR', 9),
		('ga', '', 2, 20, 'USD', 0),
		('ga', ' Display>Display >Email', 1, 10, 'USD', 1),
		('bad', 'Paid Search >  > Email', 1, 1, 'USD', 0)`,
		"INSERT INTO fx_rates VALUES ('2024-01-01', 'EUR', 'USD', 1.5)",
		"INSERT INTO spend (date, source, channel, cost, currency, platform_conversions) VALUES ('2024-03-05', 'google', 'Paid Search', 90, 'USD', 4)")
	biz := business(t, b2cYAML)
	req := attribution.Request{From: date("2024-03-01"), To: date("2024-03-31"), Dataset: "ga"}
	comparePaths(t, paths(t, s, biz, req), []string{
		"conv=1970-01-01 00:00:00 v=300: Paid Search//@01-01 00:00 > Email//@01-01 00:00",
		"conv=1970-01-01 00:00:00 v=60: Email//@01-01 00:00",
		"conv=1970-01-01 00:00:00 v=20:",
		"conv=1970-01-01 00:00:00 v=10: Display//@01-01 00:00 > Email//@01-01 00:00",
	})
	res := run(t, s, biz, req)
	if res.Totals.Conversions != 7 || res.Totals.Revenue != 390 || res.Totals.NullPaths != 17 || res.Totals.DirectConversions != 2 {
		t.Errorf("totals %+v", res.Totals)
	}
	if slices.Contains(res.Models, "time_decay") || slices.Contains(res.Models, "w_shaped") || len(res.Notes) == 0 {
		t.Errorf("models %v notes %v: time decay and W-shaped need times and milestones", res.Models, res.Notes)
	}
	// Last touch: Email 3 + 1 + 1, Direct 2; first: Paid Search 3, Email 1, Display 1, Direct 2.
	if c := row(t, res, "Email", "").Credits["last"]; c.Conversions != 5 || c.Revenue != 370 {
		t.Errorf("Email last %+v", c)
	}
	ps := row(t, res, "Paid Search", "")
	if c := ps.Credits["first"]; c.Conversions != 3 || ps.Cost != 90 || c.CostPerConversion == nil || *c.CostPerConversion != 30 || ps.PlatformConversions != 4 {
		t.Errorf("Paid Search first %+v cost %v platform %v", c, ps.Cost, ps.PlatformConversions)
	}
	// Top paths by conversions; the conversion rate counts the nulls.
	if p := res.TopPaths[0]; p.Path != "Paid Search > Email" || p.ConversionRate == nil || *p.ConversionRate != 0.3 {
		t.Errorf("top path %+v", p)
	}
	for _, tc := range []struct {
		req  attribution.Request
		want string
	}{
		{attribution.Request{Dataset: "bad"}, `dataset "bad", path "Paid Search >  > Email": touch 2 has no channel name`},
		{attribution.Request{Dataset: "gaa"}, `dataset "gaa": no imported path has this dataset name; closest datasets: "ga"`},
		{attribution.Request{Dataset: "ga", Models: []string{"time_decay"}}, "imported paths carry no touch times"},
	} {
		tc.req.From, tc.req.To = req.From, req.To
		_, err := attribution.Run(t.Context(), s.DB(), queryDuckDB, biz, tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// TestRun_EmptyPeriod runs every model over a period with no touch and no
// conversion: empty rows, zero totals, a note, no error.
func TestRun_EmptyPeriod(t *testing.T) {
	s := openStore(t, "person_small.sql")
	biz := business(t, b2cYAML)
	res := run(t, s, biz, attribution.Request{From: date("2023-01-01"), To: date("2023-01-31"), Conversion: "stage:paid"})
	if res.Totals.Conversions != 0 || res.Totals.NullPaths != 0 || len(res.Rows) != 0 || len(res.Notes) == 0 {
		t.Errorf("totals %+v rows %d notes %v", res.Totals, len(res.Rows), res.Notes)
	}
}
