package query_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/bowtie-analytics/bowtie/query"
)

// TestRunActivity_HandComputed checks DAU/WAU/MAU, stickiness and the
// lifecycle on testdata/retention_small.sql ("open" events: u5 on 1 Jan,
// u1 on 2, 4, 8 and 11 Jan, u2 on 2 and 3 Jan, u4 on 10 Jan).
func TestRunActivity_HandComputed(t *testing.T) {
	s := openWith(t, "retention_small.sql")
	biz := business(t, "preset: b2c\ntime_zone: UTC\n")
	ctx := context.Background()
	a, err := query.RunActivity(ctx, s.DB(), query.DuckDB{}, biz, query.ActivityRequest{Event: "open", From: date("2024-01-01"), To: date("2024-01-11"), Grain: "day"})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, d := range a.Days {
		got += fmt.Sprintf("%d/%d/%d ", d.DAU, d.WAU, d.MAU)
	}
	want := "1/1/1 2/3/3 1/3/3 1/3/3 0/3/3 0/3/3 0/3/3 1/2/3 0/2/3 1/2/4 1/2/4 "
	if got != want {
		t.Errorf("DAU/WAU/MAU\n got  %s\n want %s", got, want)
	}
	if !near(a.Stickiness, 8.0/33) {
		t.Errorf("stickiness %v, want 8/33", a.Stickiness)
	}
	lc := func(ps []query.LifecyclePeriod) string {
		var s string
		for _, p := range ps {
			s += fmt.Sprintf("%s:%d/%d/%d/%d ", p.Period[5:], p.New, p.Returning, p.Resurrecting, p.Dormant)
		}
		return s
	}
	if got, want := lc(a.Lifecycle[:5]), "01-01:1/0/0/0 01-02:2/0/0/1 01-03:0/1/0/1 01-04:0/0/1/1 01-05:0/0/0/1 "; got != want {
		t.Errorf("daily lifecycle (new/returning/resurrecting/dormant)\n got  %s\n want %s", got, want)
	}
	a, err = query.RunActivity(ctx, s.DB(), query.DuckDB{}, biz, query.ActivityRequest{Event: "open", From: date("2024-01-01"), To: date("2024-01-14")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lc(a.Lifecycle), "01-01:3/0/0/0 01-08:1/1/0/2 "; got != want {
		t.Errorf("weekly lifecycle\n got  %s\n want %s", got, want)
	}
	if a.Lifecycle[1].Active != 2 {
		t.Errorf("active %+v", a.Lifecycle[1])
	}
}
