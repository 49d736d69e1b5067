package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

// TestRunEventFunnel_PlantedRates recovers the B2C demo's planted
// visitor → sign-up rate per acquisition channel with the event funnel
// Landing Page → signup_completed (anonymous visits joined to the person
// through identities; unconverted visitors broken down by the touch of
// their first event), on visitors who had 60 days to convert.
func TestRunEventFunnel_PlantedRates(t *testing.T) {
	f := demoStore(t, "b2c")
	tr := f.truth
	loc := f.biz.Location()
	got, err := query.RunEventFunnel(context.Background(), f.store.DB(), query.DuckDB{}, f.biz, query.EventFunnelRequest{
		Steps:  []query.EventMatch{{Event: "Landing Page"}, {Event: "signup_completed"}},
		Window: 60 * 24 * time.Hour, From: localDay(tr.Start, loc), To: localDay(tr.End, loc).AddDate(0, 0, -61), By: "channel"})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, g := range got.Groups {
		c := tr.Channels[g.Key]
		if c == nil {
			t.Errorf("channel %q is not in the truth", g.Key)
			continue
		}
		within4SE(t, g.Key+" visitor→signup", g.Steps[1].Count, g.Steps[0].Count, c.VisitorToLead)
		if g.Steps[0].Count >= 30 {
			checked++
		}
	}
	if checked < 6 {
		t.Errorf("only %d channels had 30 or more visitors", checked)
	}
}
