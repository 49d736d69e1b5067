package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

var testSteps = []query.EventMatch{{Event: "view"}, {Event: "cart"}, {Event: "buy", Where: map[string]string{"plan": "pro"}}}

// TestRunEventFunnel_HandComputed checks the event funnel on the journeys
// of testdata/funnel_small.sql (the comments there say what each person
// tests) in every mode, with and without the exclusion, per person and per
// account.
func TestRunEventFunnel_HandComputed(t *testing.T) {
	s := openWith(t, "funnel_small.sql")
	biz := business(t, "preset: b2c\ntime_zone: UTC\n")
	ctx := context.Background()
	excl := []query.Exclusion{{EventMatch: query.EventMatch{Event: "remove"}, From: 1, To: 2}}
	for _, tc := range []struct {
		name string
		req  query.EventFunnelRequest
		want []int64
	}{
		{"Ordered", query.EventFunnelRequest{}, []int64{9, 7, 6}},
		{"OrderedExclusion", query.EventFunnelRequest{Exclusions: excl}, []int64{8, 6, 5}},
		{"OrderedExclusionWholeFunnel", query.EventFunnelRequest{Exclusions: []query.Exclusion{{EventMatch: query.EventMatch{Event: "remove"}}}}, []int64{7, 5, 4}},
		{"Strict", query.EventFunnelRequest{Mode: "strict"}, []int64{9, 5, 2}},
		{"Any", query.EventFunnelRequest{Mode: "any"}, []int64{10, 9, 7}},
		{"Window48h", query.EventFunnelRequest{Window: 48 * time.Hour}, []int64{9, 8, 6}},
		{"Account", query.EventFunnelRequest{Unit: "account", Exclusions: excl}, []int64{2, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.Steps, req.From, req.To = testSteps, date("2024-03-01"), date("2024-03-02")
			if req.Window == 0 {
				req.Window = 24 * time.Hour
			}
			f, err := query.RunEventFunnel(ctx, s.DB(), query.DuckDB{}, biz, req)
			if err != nil {
				t.Fatal(err)
			}
			if got := counts(f.Total); !eqCounts(got, tc.want) {
				t.Errorf("counts %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("Times", func(t *testing.T) {
		f, err := query.RunEventFunnel(ctx, s.DB(), query.DuckDB{}, biz, query.EventFunnelRequest{Steps: testSteps, Window: 24 * time.Hour,
			Exclusions: excl, From: date("2024-03-01"), To: date("2024-03-02"), By: "channel"})
		if err != nil {
			t.Fatal(err)
		}
		// view→cart hours: e1 1, e2 23.5, e3 0, e7 1, e8 1, e9 1/3.
		q := f.Total.Steps[1].TimeFromPrevious
		if q.N != 6 || !near(q.Median, 1.0/24) || !near(q.Mean, (1+23.5+0+1+1+1.0/3)/24/6) {
			t.Errorf("view→cart %+v", q)
		}
		// view→buy hours: e1 2, e2 23.75, e3 0, e7 2, e9 0.5.
		if q := f.Total.Steps[2].TimeFromFirst; q.N != 5 || !near(q.Median, 2.0/24) || !near(q.P90, (2+0.6*21.75)/24) {
			t.Errorf("view→buy %+v", q)
		}
		if len(f.Groups) != 2 || f.Groups[0].Key != "Unassigned" || !eqCounts(counts(f.Groups[1]), []int64{1, 1, 1}) {
			t.Errorf("groups %+v", f.Groups)
		}
	})
	t.Run("Err", func(t *testing.T) {
		for _, req := range []query.EventFunnelRequest{
			{Steps: testSteps[:1]}, {Steps: []query.EventMatch{{Event: "a"}, {Event: ""}}},
			{Steps: []query.EventMatch{{Event: "a", Where: map[string]string{"x') OR 1=1 --": "y"}}, {Event: "b"}}},
			{Steps: testSteps, Mode: "loose"}, {Steps: testSteps, Unit: "deal"},
			{Steps: testSteps, Exclusions: []query.Exclusion{{EventMatch: query.EventMatch{Event: "x"}, From: 2, To: 2}}},
			{Steps: testSteps, By: "person.email_hash"},
		} {
			req.From, req.To = date("2024-03-01"), date("2024-03-02")
			if _, err := query.RunEventFunnel(ctx, s.DB(), query.DuckDB{}, biz, req); bowtie.ErrorCode(err) != bowtie.EINVALID {
				t.Errorf("%+v: err = %v", req, err)
			}
		}
	})
}

// TestRunEventFunnel_Identity checks that a person's anonymous events
// (linked in identities) count as theirs, and that an anonymous id never
// linked is a visitor of its own.
func TestRunEventFunnel_Identity(t *testing.T) {
	s := openWith(t, "funnel_small.sql")
	for _, q := range []string{
		"INSERT INTO people (person_id) VALUES ('e11')",
		"INSERT INTO identities VALUES ('anonymous', 'd11', 'e11', '2024-03-01 10:05', 'identify')",
		"INSERT INTO events (id, ts, type, name, anonymous_id) VALUES ('e11-a', '2024-03-01 10:00', 'page', 'view', 'd11'), ('d12-a', '2024-03-01 10:00', 'page', 'view', 'd12')",
		"INSERT INTO events (id, ts, type, name, person_id, anonymous_id, properties) VALUES ('e11-b', '2024-03-01 10:10', 'track', 'cart', 'e11', 'd11', NULL), ('e11-c', '2024-03-01 10:20', 'track', 'buy', 'e11', 'd11', '{\"plan\": \"pro\"}')",
	} {
		if _, err := s.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	biz := business(t, "preset: b2c\ntime_zone: UTC\n")
	f, err := query.RunEventFunnel(context.Background(), s.DB(), query.DuckDB{}, biz, query.EventFunnelRequest{Steps: testSteps, Window: 24 * time.Hour,
		From: date("2024-03-01"), To: date("2024-03-02")})
	if err != nil {
		t.Fatal(err)
	}
	// The hand-computed 9, 7, 6 plus e11 (all three steps) and visitor d12 (view).
	if got := counts(f.Total); !eqCounts(got, []int64{11, 8, 7}) {
		t.Errorf("counts %v, want [11 8 7]", got)
	}
}

// TestRunEventFunnel_WholeSecondWindow checks that a window with a
// fraction of a second is cut to whole seconds, the same in the per-person
// pass and in the SQL: b 1.2 s after a is outside a 1.5 s window (1 s).
func TestRunEventFunnel_WholeSecondWindow(t *testing.T) {
	s := openWith(t, "")
	biz := business(t, "preset: b2c\ntime_zone: UTC\n")
	if _, err := s.DB().Exec(`INSERT INTO events (id, ts, type, name, person_id) VALUES
		('e1', TIMESTAMP '2024-03-01 10:00:00', 'track', 'a', 'u1'), ('e2', TIMESTAMP '2024-03-01 10:00:01.2', 'track', 'b', 'u1'),
		('e3', TIMESTAMP '2024-03-01 11:00:00', 'track', 'a', 'u2'), ('e4', TIMESTAMP '2024-03-01 11:00:00.9', 'track', 'b', 'u2')`); err != nil {
		t.Fatal(err)
	}
	req := query.EventFunnelRequest{Steps: []query.EventMatch{{Event: "a"}, {Event: "b"}}, Window: 1500 * time.Millisecond,
		From: date("2024-03-01"), To: date("2024-03-01")}
	for _, mode := range []string{"ordered", "any"} {
		req.Mode = mode
		fast, slow := fastAndSQL(t, mode, s.DB(), biz, req)
		for _, f := range []*query.EventFunnel{fast, slow} {
			if got := counts(f.Total); !eqCounts(got, []int64{2, 1}) || f.Window != "1s" {
				t.Errorf("%s: counts %v window %s, want [2 1] and 1s", mode, got, f.Window)
			}
		}
	}
}

// TestRunEventFunnel_OneConnection runs the per-person pass on a pool of
// one connection: the identities it reads alongside the main query must
// not wait for the connection the main query holds.
func TestRunEventFunnel_OneConnection(t *testing.T) {
	s := openWith(t, "funnel_small.sql")
	s.DB().SetMaxOpenConns(1)
	biz := business(t, "preset: b2c\ntime_zone: UTC\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := query.SetFastFunnel(true)
	req := query.EventFunnelRequest{Steps: []query.EventMatch{{Event: "view"}, {Event: "cart"}}, From: date("2024-03-01"), To: date("2024-03-02"), By: "channel"}
	if _, err := query.RunEventFunnel(ctx, s.DB(), query.DuckDB{}, biz, req); err != nil {
		t.Fatal(err)
	}
	if query.SetFastFunnel(true) != before+1 {
		t.Fatal("the per-person pass did not answer")
	}
}
