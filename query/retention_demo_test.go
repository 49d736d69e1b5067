package query_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/bowtie-analytics/bowtie/query"
)

// TestRunRetention_PlantedCurve recovers the B2C demo's planted retention
// curve (a workout_completed in the rolling 24-hour window of day N after
// the signup stage), overall and per acquisition channel: the eligible
// counts must equal the truth's exactly and the rates fall within four
// standard errors of the planted probabilities.
func TestRunRetention_PlantedCurve(t *testing.T) {
	f := demoStore(t, "b2c")
	tr := f.truth
	loc := f.biz.Location()
	r, err := query.RunRetention(context.Background(), f.store.DB(), query.DuckDB{}, f.biz, query.RetentionRequest{
		CohortStage: "signup", ReturnEvent: "workout_completed", Rolling: true, Periods: 365,
		From: localDay(tr.Start, loc), To: localDay(tr.End, loc).AddDate(0, 0, -1), AsOf: tr.End, By: "channel"})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, row := range r.Totals {
		curve := tr.Retention
		name := "all"
		if row.Group != "" {
			name = row.Group
			c := tr.Channels[row.Group]
			if c == nil {
				t.Errorf("channel %q is not in the truth", row.Group)
				continue
			}
			curve = c.Retention
		}
		for _, pt := range curve {
			cell := row.Cells[pt.Day]
			if cell.Eligible != pt.Eligible {
				t.Errorf("%s day %d: %d eligible, the truth has %d", name, pt.Day, cell.Eligible, pt.Eligible)
			}
			within4SE(t, fmt.Sprintf("%s retention day %d", name, pt.Day), cell.Retained, cell.Eligible, pt.Probability)
			if cell.Eligible >= 30 {
				checked++
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d points had 30 or more people", checked)
	}
	// The headline is the same curve at days 1, 7 and 30.
	h := r.Headline[0]
	same := func(a, b query.RetentionCell) bool {
		return a.N == b.N && a.Eligible == b.Eligible && a.Retained == b.Retained
	}
	if !same(h.D1, r.Totals[0].Cells[1]) || !same(h.D7, r.Totals[0].Cells[7]) || !same(h.D30, r.Totals[0].Cells[30]) {
		t.Errorf("headline %+v differs from the matrix", h)
	}
}
