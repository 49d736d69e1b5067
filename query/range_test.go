package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

// TestDataRange_Future checks that rows dated after today (a far-future
// event, planned spend) never make the last date of the data, and so the
// default period of every view, run past today; today is the date of the
// injected clock in the business time zone.
func TestDataRange_Future(t *testing.T) {
	ctx := context.Background()
	s := openWith(t, "report_small.sql") // spend and events 2023-12-31 .. 2024-03-01
	if _, err := s.DB().Exec(`INSERT INTO events (id, ts, type, name) VALUES
		('far', TIMESTAMP '9999-12-31 23:59:59', 'track', 'x'),
		('late', TIMESTAMP '2024-03-05 07:30:00', 'track', 'x');
		INSERT INTO spend (date, source, cost, currency) VALUES (DATE '2030-01-01', 'google', 10, 'EUR')`); err != nil {
		t.Fatal(err)
	}
	biz := business(t, "preset: b2b\ncurrency: EUR\ntime_zone: America/Los_Angeles\n")
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tt := range []struct {
		now         string
		first, last string
	}{
		// 2024-03-05 07:30 UTC is 2024-03-04 23:30 in Los Angeles.
		{"2024-06-01T12:00:00Z", "2023-12-31", "2024-03-04"},
		{"2024-03-04T20:00:00Z", "2023-12-31", "2024-03-04"}, // 03-04 12:00 local: later today counts
		{"2024-03-04T07:00:00Z", "2023-12-31", "2024-03-01"}, // 03-03 23:00 local: tomorrow's event does not
		{"2024-01-15T12:00:00Z", "2023-12-31", "2024-01-11"}, // the last data on or before today
	} {
		now := at(tt.now)
		first, last, ok, err := query.DataRange(ctx, s.DB(), query.DuckDB{}, biz, now)
		if err != nil || !ok || first.Format(time.DateOnly) != tt.first || last.Format(time.DateOnly) != tt.last {
			t.Errorf("now %s: DataRange = %v %v %v %v, want %s %s", tt.now, first, last, ok, err, tt.first, tt.last)
		}
		last, err = query.LastDataDate(ctx, s.DB(), query.DuckDB{}, biz, now)
		if err != nil || last.Format(time.DateOnly) != tt.last {
			t.Errorf("now %s: LastDataDate = %v %v, want %s", tt.now, last, err, tt.last)
		}
	}
	// Only future rows: like an empty store, the default period ends today.
	future := openWith(t, "")
	if _, err := future.DB().Exec(`INSERT INTO events (id, ts, type) VALUES ('far', TIMESTAMP '9999-12-31 23:59:59', 'track')`); err != nil {
		t.Fatal(err)
	}
	now := at("2024-06-01T12:00:00Z")
	if _, _, ok, err := query.DataRange(ctx, future.DB(), query.DuckDB{}, biz, now); ok || err != nil {
		t.Errorf("only future rows: ok=%v err=%v", ok, err)
	}
	if last, err := query.LastDataDate(ctx, future.DB(), query.DuckDB{}, biz, now); err != nil || last.Format(time.DateOnly) != "2024-06-01" {
		t.Errorf("only future rows: LastDataDate = %v %v", last, err)
	}
}
