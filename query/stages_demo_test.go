package query_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/demo"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/query"
)

// demoEvents is the size of the demo stores the planted-truth tests read.
const demoEvents = 150_000

type demoFixture struct {
	store *duckdb.Store
	truth *demo.Truth
	biz   *bowtie.Business
}

var (
	demoMu       sync.Mutex
	demoFixtures = map[string]*demoFixture{}
)

// demoStore returns an in-memory store holding the demo business (b2b or
// b2c) at demoEvents, generated once per test binary.
func demoStore(t *testing.T, business string) *demoFixture {
	t.Helper()
	demoMu.Lock()
	defer demoMu.Unlock()
	if f := demoFixtures[business]; f != nil {
		return f
	}
	s, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := demo.Generate(context.Background(), s, demo.Options{Business: business, Seed: 1, Events: demoEvents})
	if err != nil {
		t.Fatal(err)
	}
	biz, err := bowtie.Preset(business)
	if err != nil {
		t.Fatal(err)
	}
	f := &demoFixture{store: s, truth: tr, biz: biz}
	demoFixtures[business] = f
	return f
}

// within4SE checks an observed proportion against the planted one: within
// four standard errors (plus 0.002 for rounding), as demo/demo_test.go.
func within4SE(t *testing.T, what string, hits, n int64, p float64) {
	t.Helper()
	if n < 30 {
		return
	}
	obs := float64(hits) / float64(n)
	se := math.Sqrt(p * (1 - p) / float64(n))
	if math.Abs(obs-p) > 4*se+0.002 {
		t.Errorf("%s: observed %.4f over %d, planted %.4f (%.1f standard errors)", what, obs, n, p, math.Abs(obs-p)/se)
	}
}

// localDay returns the civil date of t in loc.
func localDay(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// TestRunStageFunnel_PlantedRates recovers the demo's planted per-channel
// conversion rates with the cohort-based stage funnel: B2B lead→MQL and
// MQL→SQL (people), B2C signup→trial and trial→paid, on cohorts that had
// time to convert.
func TestRunStageFunnel_PlantedRates(t *testing.T) {
	for _, tc := range []struct {
		business string
		stages   []string
		cut      int // days before the end the cohort closes
		rates    func(c *demo.ChannelTruth) []float64
	}{
		{"b2b", []string{"lead", "mql", "sql"}, 150, func(c *demo.ChannelTruth) []float64 { return []float64{c.LeadToMQL, c.MQLToSQL} }},
		{"b2c", []string{"signup", "trial", "paid"}, 60, func(c *demo.ChannelTruth) []float64 { return []float64{c.SignupToTrial, c.TrialToPaid} }},
	} {
		t.Run(tc.business, func(t *testing.T) {
			f := demoStore(t, tc.business)
			loc := f.biz.Location()
			req := stageReq(tc.stages, localDay(f.truth.Start, loc), localDay(f.truth.End, loc).AddDate(0, 0, -tc.cut))
			got, err := runStage(f, req)
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, g := range got.Groups {
				c := f.truth.Channels[g.Key]
				if c == nil {
					t.Errorf("channel %q is not in the truth", g.Key)
					continue
				}
				for k, p := range tc.rates(c) {
					within4SE(t, fmt.Sprintf("%s %s→%s", g.Key, tc.stages[k], tc.stages[k+1]), g.Steps[k+1].Count, g.Steps[k].Count, p)
					if g.Steps[k].Count >= 30 {
						checked++
					}
				}
			}
			if checked < 6 {
				t.Errorf("only %d rates had 30 or more people", checked)
			}
			t.Logf("%d per-channel rates checked", checked)
		})
	}
}

// TestRunSales_PlantedFollowUp recovers the B2B demo's planted MQL
// follow-up: 85 % of MQLs touched, after a lognormal delay with a median
// of 5 hours (σ 0.9 in log space). The period ends a week before the data
// so that every planted touch is inside it.
func TestRunSales_PlantedFollowUp(t *testing.T) {
	f := demoStore(t, "b2b")
	loc := f.biz.Location()
	s, err := query.RunSales(context.Background(), f.store.DB(), query.DuckDB{}, f.biz, query.SalesRequest{
		From: localDay(f.truth.Start, loc), To: localDay(f.truth.End, loc).AddDate(0, 0, -8)})
	if err != nil {
		t.Fatal(err)
	}
	m := s.MQLFollowUp
	if m.MQLs < 100 {
		t.Fatalf("only %d MQLs", m.MQLs)
	}
	within4SE(t, "touched", m.Touched, m.MQLs, 0.85)
	median := 5.0 / 24
	se := 1.2533 * 0.9 / math.Sqrt(float64(m.Touched)) // of the log of a sample median
	if m.Time.Median == nil || math.Abs(math.Log(*m.Time.Median/median)) > 4*se {
		t.Errorf("median time to first touch %v days, planted %.4f (±%.0f %%)", m.Time.Median, median, 400*se)
	}
	t.Logf("%d MQLs, %d touched, median %.3f days", m.MQLs, m.Touched, *m.Time.Median)
}
