package query_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

// cells renders the first n+1 cells of a row as "retained/eligible".
func cells(r query.RetentionRow, n int) string {
	s := ""
	for i := 0; i <= n && i < len(r.Cells); i++ {
		s += fmt.Sprintf("%d/%d ", r.Cells[i].Retained, r.Cells[i].Eligible)
	}
	return s
}

// TestRunRetention_Modes is the worked example of docs/metrics.md: the
// same journeys under "on day N" and "on or after day N", with calendar
// days and rolling 24-hour intervals, in UTC and in New York.
func TestRunRetention_Modes(t *testing.T) {
	s := openWith(t, "retention_small.sql")
	ctx := context.Background()
	asOf := time.Date(2024, 1, 11, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		zone, mode string
		rolling    bool
		want       string
	}{
		// N:          0   1   2   3   4   5   6   7   8   9   10
		{"UTC", "on", false, "4/4 3/4 1/3 1/3 0/3 0/3 0/3 1/3 0/3 0/2 0/0 "},
		{"UTC", "on_or_after", false, "4/4 3/4 2/3 1/3 1/3 1/3 1/3 1/3 0/3 0/2 0/0 "},
		{"UTC", "on", true, "4/4 1/3 0/3 1/3 0/3 0/3 0/3 1/3 0/2 0/0 0/0 "},
		{"UTC", "on_or_after", true, "4/4 2/3 1/3 1/3 1/3 1/3 1/3 1/3 0/2 0/0 0/0 "},
		{"America/New_York", "on", false, "4/4 1/3 1/3 1/3 0/3 0/3 0/3 1/3 0/2 0/0 0/0 "},
	} {
		t.Run(fmt.Sprintf("%s/%s/rolling=%v", tc.zone, tc.mode, tc.rolling), func(t *testing.T) {
			biz := business(t, "preset: b2c\ntime_zone: "+tc.zone+"\n")
			r, err := query.RunRetention(ctx, s.DB(), query.DuckDB{}, biz, query.RetentionRequest{
				CohortEvent: "signup", ReturnEvent: "open", Mode: tc.mode, Rolling: tc.rolling, Periods: 10,
				From: date("2024-01-01"), To: date("2024-01-10"), AsOf: asOf})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Totals) != 1 {
				t.Fatalf("totals %+v", r.Totals)
			}
			if got := cells(r.Totals[0], 10); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	t.Run("AnyEventAndCohorts", func(t *testing.T) {
		biz := business(t, "preset: b2c\ntime_zone: UTC\n")
		r, err := query.RunRetention(ctx, s.DB(), query.DuckDB{}, biz, query.RetentionRequest{
			CohortEvent: "signup", Periods: 4, From: date("2024-01-01"), To: date("2024-01-10"), AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		// Any event: u1's second signup (day 4) and u3's page view (day 3) count.
		if got := cells(r.Totals[0], 4); got != "4/4 3/4 1/3 2/3 1/3 " {
			t.Errorf("any event: %s", got)
		}
		if len(r.Cohorts) != 3 || r.Cohorts[0].Cohort != "2024-01-01" || r.Cohorts[0].Size != 2 || r.Cohorts[2].Cohort != "2024-01-09" {
			t.Errorf("cohorts %+v", r.Cohorts)
		}
		if h := r.Headline[0]; h.D1.Retained != 3 || h.D1.Eligible != 4 || h.D30.Eligible != 0 || h.D30.Rate != nil {
			t.Errorf("headline %+v", h)
		}
	})
	t.Run("Week", func(t *testing.T) {
		biz := business(t, "preset: b2c\ntime_zone: UTC\n")
		r, err := query.RunRetention(ctx, s.DB(), query.DuckDB{}, biz, query.RetentionRequest{
			CohortEvent: "signup", ReturnEvent: "open", Grain: "week", Periods: 2, From: date("2024-01-01"), To: date("2024-01-10"), AsOf: time.Date(2024, 1, 22, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		// Weeks start Monday 2024-01-01 and 01-08: u1 returns in week 1
		// (01-08 and 01-11); u4's cohort week is week 1 and its return is
		// in the same week.
		if got := cells(r.Totals[0], 2); got != "4/4 1/4 0/3 " {
			t.Errorf("weekly: %s", got)
		}
	})
	t.Run("Err", func(t *testing.T) {
		biz := business(t, "preset: b2c\n")
		for _, req := range []query.RetentionRequest{
			{}, {CohortEvent: "a", CohortStage: "b"}, {CohortEvent: "a", Grain: "hour"}, {CohortEvent: "a", Mode: "after"},
			{CohortEvent: "a", Periods: 1000}, {CohortEvent: "a", By: "person.person_id"},
		} {
			req.From, req.To, req.AsOf = date("2024-01-01"), date("2024-01-10"), asOf
			if _, err := query.RunRetention(ctx, s.DB(), query.DuckDB{}, biz, req); bowtie.ErrorCode(err) != bowtie.EINVALID {
				t.Errorf("%+v: err = %v", req, err)
			}
		}
	})
}
