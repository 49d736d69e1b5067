package query_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

// hostileNames are event names that try to break out of a quoted literal.
var hostileNames = []string{
	`it's`, `''`, `'`, `\`, `a\'b`, `\'; SELECT 1; --`, `x' OR '1'='1`, `'; DROP TABLE events; --`,
	"it’s ‘curly’ “double” ＇fullwidth＇", `$1`, `?`, "tab\tnew\nline\r", `"ident"`, "émoji 🎉", `E'\x27'`, `/* c */`,
}

// badNames are event names no literal may carry: a NUL ends the engine's
// query text early, and the engine refuses invalid UTF-8.
var badNames = []string{"nul\x00' OR true --", "\x00", "latin-1 caf\xe9", "\xff\xfe", "cut \xe2\x82", "surrogate \xed\xa0\x80"}

// TestStringLiteral checks the package's literal builder against the
// engine: every hostile string reads back unchanged, and NUL bytes and
// invalid UTF-8 are refused with EINVALID naming the field.
func TestStringLiteral(t *testing.T) {
	s := openWith(t, "")
	for _, h := range hostileNames {
		lit, err := query.StringLiteral("name", h)
		if err != nil {
			t.Fatalf("%q: %v", h, err)
		}
		var got string
		var n int
		if err := s.DB().QueryRow("SELECT "+lit+", (SELECT count(*) FROM events)").Scan(&got, &n); err != nil {
			t.Fatalf("%q as %s: %v", h, lit, err)
		}
		if got != h {
			t.Errorf("%q as %s reads back as %q", h, lit, got)
		}
	}
	for _, b := range badNames {
		lit, err := query.StringLiteral("step 2", b)
		if bowtie.ErrorCode(err) != bowtie.EINVALID || !strings.HasPrefix(err.Error(), "step 2: ") {
			t.Errorf("%q: got %q, %v; want EINVALID naming step 2", b, lit, err)
		}
	}
}

// TestHostileNames runs retention and the event funnel (per-person pass
// and SQL) on events whose names are hostile strings: each name matches
// exactly its own events, and a name with a NUL byte or invalid UTF-8 is
// refused with EINVALID naming the field, there and in the analyses that
// send names as parameters (stage funnel, sales, activity).
func TestHostileNames(t *testing.T) {
	s := openWith(t, "")
	ctx := context.Background()
	biz := business(t, "preset: b2c\ntime_zone: UTC\n")
	day := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, h := range hostileNames {
		p := fmt.Sprintf("p%d", i)
		for j, ev := range []struct {
			name string
			at   time.Time
		}{{h, day}, {"next", day.Add(time.Hour)}, {h, day.Add(24 * time.Hour)}} {
			if _, err := s.DB().Exec("INSERT INTO events (id, ts, type, name, person_id) VALUES ($1, $2, 'track', $3, $4)",
				fmt.Sprintf("%s-%d", p, j), ev.at, ev.name, p); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.DB().Exec("INSERT INTO people (person_id) VALUES ($1)", p); err != nil {
			t.Fatal(err)
		}
	}
	retReq := func(name string) query.RetentionRequest {
		return query.RetentionRequest{CohortEvent: name, ReturnEvent: name, Periods: 2,
			From: date("2024-03-01"), To: date("2024-03-01"), AsOf: day.AddDate(0, 0, 5)}
	}
	funnelReq := func(name string) query.EventFunnelRequest {
		return query.EventFunnelRequest{Steps: []query.EventMatch{{Event: name}, {Event: "next"}}, Window: 24 * time.Hour,
			From: date("2024-03-01"), To: date("2024-03-01")}
	}
	for _, h := range hostileNames {
		r, err := query.RunRetention(ctx, s.DB(), query.DuckDB{}, biz, retReq(h))
		if err != nil {
			t.Fatalf("retention %q: %v", h, err)
		}
		if len(r.Totals) != 1 || cells(r.Totals[0], 1) != "1/1 1/1 " {
			t.Errorf("retention %q: %+v", h, r.Totals)
		}
		fast, slow := fastAndSQL(t, h, s.DB(), biz, funnelReq(h))
		if got := counts(fast.Total); !eqCounts(got, []int64{1, 1}) {
			t.Errorf("funnel %q (per-person pass): %v", h, got)
		}
		if got := counts(slow.Total); !eqCounts(got, []int64{1, 1}) {
			t.Errorf("funnel %q (SQL): %v", h, got)
		}
	}
	for _, b := range badNames {
		_, err := query.RunRetention(ctx, s.DB(), query.DuckDB{}, biz, retReq(b))
		if bowtie.ErrorCode(err) != bowtie.EINVALID || !strings.Contains(err.Error(), "cohort_event") {
			t.Errorf("retention %q: %v; want EINVALID naming cohort_event", b, err)
		}
		stage := query.RetentionRequest{CohortStage: b, From: date("2024-03-01"), To: date("2024-03-01"), AsOf: day}
		if _, err := query.RunRetention(ctx, s.DB(), query.DuckDB{}, biz, stage); bowtie.ErrorCode(err) != bowtie.EINVALID || !strings.Contains(err.Error(), "cohort_stage") {
			t.Errorf("retention stage %q: %v; want EINVALID naming cohort_stage", b, err)
		}
		for _, fast := range []bool{true, false} {
			query.SetFastFunnel(fast)
			_, err := query.RunEventFunnel(ctx, s.DB(), query.DuckDB{}, biz, funnelReq(b))
			if bowtie.ErrorCode(err) != bowtie.EINVALID || !strings.Contains(err.Error(), "step 1") {
				t.Errorf("funnel %q (fast %v): %v; want EINVALID naming step 1", b, fast, err)
			}
			req := funnelReq("next")
			req.Steps[0].Where = map[string]string{"plan": b}
			_, err = query.RunEventFunnel(ctx, s.DB(), query.DuckDB{}, biz, req)
			if bowtie.ErrorCode(err) != bowtie.EINVALID || !strings.Contains(err.Error(), "step 1") {
				t.Errorf("funnel where %q (fast %v): %v; want EINVALID naming step 1", b, fast, err)
			}
		}
		query.SetFastFunnel(true)
		if _, err := query.RunStageFunnel(ctx, s.DB(), query.DuckDB{}, biz, query.StageFunnelRequest{Stages: []string{"lead", b},
			From: date("2024-03-01"), To: date("2024-03-01")}); bowtie.ErrorCode(err) != bowtie.EINVALID || !strings.Contains(err.Error(), "stages") {
			t.Errorf("stage funnel %q: %v; want EINVALID naming stages", b, err)
		}
		if _, err := query.RunSales(ctx, s.DB(), query.DuckDB{}, biz, query.SalesRequest{Pipeline: b,
			From: date("2024-03-01"), To: date("2024-03-01")}); bowtie.ErrorCode(err) != bowtie.EINVALID || !strings.Contains(err.Error(), "pipeline") {
			t.Errorf("sales %q: %v; want EINVALID naming pipeline", b, err)
		}
		if _, err := query.RunActivity(ctx, s.DB(), query.DuckDB{}, biz, query.ActivityRequest{Event: b,
			From: date("2024-03-01"), To: date("2024-03-01")}); bowtie.ErrorCode(err) != bowtie.EINVALID || !strings.Contains(err.Error(), "event") {
			t.Errorf("activity %q: %v; want EINVALID naming event", b, err)
		}
	}
}

// TestIdent checks that an identifier passes only when it is in the
// allow-list and a plain lower-case name, even if a careless allow-list
// holds something else.
func TestIdent(t *testing.T) {
	allow := []string{"segment", "utm_source", `segment"; DROP TABLE people; --`, "Segment", "a b", "", "1x", "café"}
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"segment", true}, {"utm_source", true}, {"country", false}, {`segment"; DROP TABLE people; --`, false},
		{"Segment", false}, {"a b", false}, {"", false}, {"1x", false}, {"café", false}, {"segment\x00", false},
	} {
		got, ok := query.Ident(tc.name, allow)
		if ok != tc.ok || (ok && got != tc.name) {
			t.Errorf("Ident(%q) = %q, %v; want ok %v", tc.name, got, ok, tc.ok)
		}
	}
}
