package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
)

// analysesSeed returns SQL that adds, on top of testdata/shop.sql, 24
// people signing up every 3 days from 2025-01-04 over three channels, with
// app opens on days 1, 3, 7, 14 and 30 after sign-up for some of them,
// the event funnel Viewed Pricing → Started Checkout → Purchased, trials
// and payments, and three deals (won, lost, open).
func analysesSeed() string {
	var b strings.Builder
	channels := []string{"Paid Search", "Paid Social", "Organic Search"}
	sources := []string{"google", "facebook", "google"}
	start := time.Date(2025, 1, 4, 10, 0, 0, 0, time.UTC)
	var people, stages, events []string
	ev := 0
	event := func(ts time.Time, typ, name, person, ch, src, props string) {
		ev++
		p := "NULL"
		if props != "" {
			p = "'" + props + "'"
		}
		nm := "NULL"
		if name != "" {
			nm = "'" + name + "'"
		}
		events = append(events, fmt.Sprintf("('x%d', '%s', '%s', %s, 'anon-%s', '%s', '%s', '%s', %s)",
			ev, ts.Format(time.DateTime), typ, nm, person, person, ch, src, p))
	}
	for i := 0; i < 24; i++ {
		id := fmt.Sprintf("q%02d", i)
		ch, src := channels[i%3], sources[i%3]
		t0 := start.AddDate(0, 0, 3*i)
		people = append(people, fmt.Sprintf("('%s', '%s', '%s', '%s')", id, t0.Format(time.DateTime), ch, src))
		stages = append(stages, fmt.Sprintf("('person', '%s', 'signup', '%s')", id, t0.Add(5*time.Minute).Format(time.DateTime)))
		if i%2 == 0 {
			stages = append(stages, fmt.Sprintf("('person', '%s', 'trial', '%s')", id, t0.Add(26*time.Hour).Format(time.DateTime)))
		}
		if i%4 == 0 {
			stages = append(stages, fmt.Sprintf("('person', '%s', 'paid', '%s')", id, t0.Add(8*24*time.Hour).Format(time.DateTime)))
		}
		event(t0, "page", "", id, ch, src, "")
		for _, d := range []int{1, 3, 7, 14, 30} {
			if (i+d)%3 != 0 {
				event(t0.AddDate(0, 0, d).Add(time.Duration(i)*time.Minute), "track", "Opened App", id, ch, src, "")
			}
		}
		plan := []string{"pro", "basic"}[i%2]
		event(t0.Add(time.Hour), "track", "Viewed Pricing", id, ch, src, `{"plan": "`+plan+`"}`)
		if i%3 != 2 {
			event(t0.Add(2*time.Hour), "track", "Started Checkout", id, ch, src, "")
			if i%2 == 0 {
				event(t0.Add(50*time.Hour), "track", "Purchased", id, ch, src, "")
			}
		}
	}
	b.WriteString("INSERT INTO people (person_id, created_at, channel, utm_source) VALUES\n    " + strings.Join(people, ",\n    ") + ";\n")
	b.WriteString("INSERT INTO stage_changes (entity_type, entity_id, stage, ts) VALUES\n    " + strings.Join(stages, ",\n    ") + ";\n")
	b.WriteString("INSERT INTO events (id, ts, type, name, anonymous_id, person_id, channel, utm_source, properties) VALUES\n    " + strings.Join(events, ",\n    ") + ";\n")
	b.WriteString(`INSERT INTO deals (deal_id, person_id, pipeline, stage, status, created_at, closed_at, amount, currency) VALUES
    ('d1', 'q00', 'sales', 'won',      'won',  '2025-01-05 10:00:00', '2025-02-01 10:00:00', 1200, 'USD'),
    ('d2', 'q01', 'sales', 'lost',     'lost', '2025-01-08 10:00:00', '2025-02-10 10:00:00', 800,  'USD'),
    ('d3', 'q02', 'sales', 'proposal', 'open', '2025-02-01 10:00:00', NULL,                  500,  'USD');
INSERT INTO stage_changes (entity_type, entity_id, stage, ts) VALUES
    ('deal', 'd1', 'proposal', '2025-01-10 10:00:00'), ('deal', 'd1', 'won', '2025-02-01 10:00:00'),
    ('deal', 'd2', 'proposal', '2025-01-12 10:00:00'), ('deal', 'd2', 'lost', '2025-02-10 10:00:00'),
    ('deal', 'd3', 'proposal', '2025-02-05 10:00:00');
`)
	return b.String()
}

// MustOpenAnalyses returns the shop store with analysesSeed added.
func MustOpenAnalyses(tb testing.TB) *duckdb.Store {
	tb.Helper()
	st := MustOpenShop(tb)
	if _, err := st.DB().Exec(analysesSeed()); err != nil {
		tb.Fatalf("seed: %v", err)
	}
	return st
}

// sameAs checks that body is the JSON of what run returns.
func sameAs(name string, run func() (any, error)) func(*testing.T, *http.Response, []byte) {
	return func(t *testing.T, _ *http.Response, body []byte) {
		t.Helper()
		v, err := run()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(v)
		var g, w any
		if err := json.Unmarshal(body, &g); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		json.Unmarshal(want, &w)
		if path := jsonDiff("", g, w); path != "" {
			t.Fatalf("API answer differs from %s at %s:\n got %s\nwant %s", name, path, body, want)
		}
	}
}

// jsonDiff returns the path of the first difference between decoded JSON
// values a and b ("" when equal). Numbers may differ in the last bits:
// DuckDB sums in parallel, so a mean can change in its 16th digit from one
// run to the next.
func jsonDiff(path string, a, b any) string {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return path
		}
		for k, v := range a {
			if d := jsonDiff(path+"."+k, v, bm[k]); d != "" {
				return d
			}
		}
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return path
		}
		for i := range a {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", path, i), a[i], bl[i]); d != "" {
				return d
			}
		}
	case float64:
		bf, ok := b.(float64)
		if !ok || math.Abs(a-bf) > 1e-9*math.Max(1, math.Abs(bf)) {
			return path
		}
	default:
		if a != b {
			return path
		}
	}
	return ""
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestServer_Analyses runs the analysis endpoints against the query
// functions they wrap: each answer must be byte for byte the JSON (or CSV)
// of the same call, with the CLI's defaults, and every bad parameter an
// error from the table.
func TestServer_Analyses(t *testing.T) {
	st := MustOpenAnalyses(t)
	biz := MustBusiness(t, "b2c")
	const token = "analyses-read-token"
	s, _ := MustNew(t, server.Config{ReadToken: token, Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: biz}}})
	ctx := context.Background()
	db, d := st.DB(), query.DuckDB{}
	auth := map[string]string{"Authorization": "Bearer " + token}
	from, to := day("2025-01-01"), day("2025-03-31")
	const rng = "from=2025-01-01&to=2025-03-31"

	// The default range: 90 days up to the last day with data (the last
	// event, 2025-04-11 + 30 days of opens).
	var last time.Time
	if err := db.QueryRow("SELECT CAST(max(ts) AS DATE) FROM events").Scan(&last); err != nil {
		t.Fatal(err)
	}
	defTo, defFrom := last, last.AddDate(0, 0, -89)

	stages := func(req query.StageFunnelRequest) func() (any, error) {
		return func() (any, error) {
			if req.From.IsZero() {
				req.From, req.To = from, to
			}
			return query.RunStageFunnel(ctx, db, d, biz, req)
		}
	}
	retention := func(req query.RetentionRequest) func() (any, error) {
		return func() (any, error) {
			req.From, req.To = from, to
			if req.CohortEvent == "" && req.CohortStage == "" {
				req.CohortStage = biz.ReportStages.Lead
			}
			return query.RunRetention(ctx, db, d, biz, req)
		}
	}
	funnel := func(req query.EventFunnelRequest) func() (any, error) {
		return func() (any, error) {
			req.From, req.To = from, to
			return query.RunEventFunnel(ctx, db, d, biz, req)
		}
	}
	pricing := []query.EventMatch{{Event: "Viewed Pricing"}, {Event: "Started Checkout"}, {Event: "Purchased"}}

	checkNonTrivial := func(t *testing.T, _ *http.Response, body []byte) {
		var f query.StageFunnel
		if err := json.Unmarshal(body, &f); err != nil {
			t.Fatal(err)
		}
		if f.Total.Steps[0].Count < 20 || f.Total.Steps[1].Count == 0 || len(f.Groups) != 3 {
			t.Fatalf("the seed should give a real funnel with 3 channels: %+v", f)
		}
	}

	scenarios := []apiScenario{
		// Stage funnel.
		{Name: "StagesDefaults", URL: "/api/v1/stages?" + rng, WantStatus: 200,
			WantHeader: map[string]string{"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"},
			Check:      sameAs("RunStageFunnel", stages(query.StageFunnelRequest{}))},
		{Name: "StagesDefaultRange", URL: "/api/v1/stages", WantStatus: 200,
			Check: sameAs("RunStageFunnel", stages(query.StageFunnelRequest{From: defFrom, To: defTo}))},
		{Name: "StagesByChannel", URL: "/api/v1/stages?by=channel&" + rng, WantStatus: 200, Check: func(t *testing.T, res *http.Response, body []byte) {
			sameAs("RunStageFunnel", stages(query.StageFunnelRequest{By: "channel"}))(t, res, body)
			checkNonTrivial(t, res, body)
		}},
		{Name: "StagesPeriodStrict", URL: "/api/v1/stages?mode=period&strict=true&stages=signup,trial,paid&workspace=shop&" + rng, WantStatus: 200,
			Check: sameAs("RunStageFunnel", stages(query.StageFunnelRequest{Mode: "period", Strict: true, Stages: []string{"signup", "trial", "paid"}}))},
		{Name: "StagesWithin", URL: "/api/v1/stages?within=3&stages=signup,paid&" + rng, WantStatus: 200,
			Check: sameAs("RunStageFunnel", stages(query.StageFunnelRequest{WithinDays: 3, Stages: []string{"signup", "paid"}}))},
		{Name: "StagesDeals", URL: "/api/v1/stages?entity=deal&stages=proposal,won&" + rng, WantStatus: 200,
			Check: sameAs("RunStageFunnel", stages(query.StageFunnelRequest{Entity: "deal", Stages: []string{"proposal", "won"}}))},
		{Name: "StagesCSV", URL: "/api/v1/stages?format=csv&by=channel&" + rng, WantStatus: 200,
			WantHeader: map[string]string{"Content-Type": "text/csv; charset=utf-8",
				"Content-Disposition": `attachment; filename="bowtie-stages-shop-2025-01-01-2025-03-31.csv"`},
			Check: sameCSVOf(stages(query.StageFunnelRequest{By: "channel"}))},
		{Name: "ErrStagesMode", URL: "/api/v1/stages?mode=weekly", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"cohort or period"}},
		{Name: "ErrStagesWithinNotNumber", URL: "/api/v1/stages?within=a", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"within"}},
		{Name: "ErrStagesWithinPeriod", URL: "/api/v1/stages?within=3&mode=period", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrStagesStrict", URL: "/api/v1/stages?strict=yes", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"strict"}},
		{Name: "ErrStagesOneStage", URL: "/api/v1/stages?stages=signup", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"at least two"}},
		{Name: "ErrStagesBy", URL: "/api/v1/stages?by=planet", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrStagesUnknownParam", URL: "/api/v1/stages?stage=signup", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"unknown parameter"}},
		{Name: "ErrStagesRepeated", URL: "/api/v1/stages?mode=cohort&mode=period", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"given 2 times"}},
		{Name: "ErrStagesFormat", URL: "/api/v1/stages?format=xml", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrStagesRange", URL: "/api/v1/stages?from=2025-03-01&to=2025-01-01", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrStagesDate", URL: "/api/v1/stages?from=1.1.2025", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrStagesWorkspace", URL: "/api/v1/stages?workspace=nope", WantStatus: 404, WantCode: bowtie.ENOTFOUND},

		// Sales.
		{Name: "Sales", URL: "/api/v1/sales?" + rng, WantStatus: 200, WantContent: []string{`"won":1`, `"lost":1`, `"open":1`},
			Check: sameAs("RunSales", func() (any, error) {
				return query.RunSales(ctx, db, d, biz, query.SalesRequest{From: from, To: to})
			})},
		{Name: "SalesPipeline", URL: "/api/v1/sales?pipeline=other&" + rng, WantStatus: 200, WantContent: []string{`"won":0`},
			Check: sameAs("RunSales", func() (any, error) {
				return query.RunSales(ctx, db, d, biz, query.SalesRequest{From: from, To: to, Pipeline: "other"})
			})},
		{Name: "SalesCSV", URL: "/api/v1/sales?format=csv&" + rng, WantStatus: 200,
			Check: sameCSVOf(func() (any, error) { return query.RunSales(ctx, db, d, biz, query.SalesRequest{From: from, To: to}) })},
		{Name: "ErrSalesParam", URL: "/api/v1/sales?by=channel", WantStatus: 400, WantCode: bowtie.EINVALID},

		// Retention.
		{Name: "RetentionDefaults", URL: "/api/v1/retention?" + rng, WantStatus: 200, WantContent: []string{`"cohort_stage":"signup"`, `"grain":"day"`},
			Check: sameAs("RunRetention", retention(query.RetentionRequest{}))},
		{Name: "RetentionWeekOnOrAfterByChannel", URL: "/api/v1/retention?grain=week&periods=6&mode=on_or_after&by=channel&return=Opened+App&" + rng, WantStatus: 200,
			Check: sameAs("RunRetention", retention(query.RetentionRequest{Grain: "week", Periods: 6, Mode: "on_or_after", By: "channel", ReturnEvent: "Opened App"}))},
		{Name: "RetentionRollingAsOf", URL: "/api/v1/retention?rolling=true&cohort_event=Viewed+Pricing&as_of=2025-03-15&" + rng, WantStatus: 200,
			WantContent: []string{`"as_of":"2025-03-16T00:00:00Z"`},
			Check:       sameAs("RunRetention", retention(query.RetentionRequest{Rolling: true, CohortEvent: "Viewed Pricing", AsOf: day("2025-03-16")}))},
		{Name: "RetentionCSV", URL: "/api/v1/retention?format=csv&grain=month&" + rng, WantStatus: 200,
			Check: sameCSVOf(retention(query.RetentionRequest{Grain: "month"}))},
		{Name: "ErrRetentionBothCohorts", URL: "/api/v1/retention?cohort_event=a&cohort_stage=signup", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrRetentionGrain", URL: "/api/v1/retention?grain=year", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrRetentionPeriodsZero", URL: "/api/v1/retention?periods=0", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrRetentionPeriodsBig", URL: "/api/v1/retention?periods=401", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrRetentionMode", URL: "/api/v1/retention?mode=after", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrRetentionAsOf", URL: "/api/v1/retention?as_of=soon", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"as_of"}},
		{Name: "ErrRetentionRolling", URL: "/api/v1/retention?rolling=maybe", WantStatus: 400, WantCode: bowtie.EINVALID},

		// Activity.
		{Name: "Activity", URL: "/api/v1/activity?grain=month&" + rng, WantStatus: 200,
			Check: sameAs("RunActivity", func() (any, error) {
				return query.RunActivity(ctx, db, d, biz, query.ActivityRequest{From: from, To: to, Grain: "month"})
			})},
		{Name: "ActivityEventCSV", URL: "/api/v1/activity?event=Opened+App&format=csv&" + rng, WantStatus: 200,
			Check: sameCSVOf(func() (any, error) {
				return query.RunActivity(ctx, db, d, biz, query.ActivityRequest{Event: "Opened App", From: from, To: to})
			})},
		{Name: "ActivityLifecycleCSV", URL: "/api/v1/activity?lifecycle=true&format=csv&" + rng, WantStatus: 200,
			WantContent: []string{"resurrecting"},
			Check: func(t *testing.T, res *http.Response, body []byte) {
				a, err := query.RunActivity(ctx, db, d, biz, query.ActivityRequest{From: from, To: to})
				if err != nil {
					t.Fatal(err)
				}
				var want bytes.Buffer
				a.WriteLifecycleCSV(&want)
				if !bytes.Equal(body, want.Bytes()) {
					t.Fatalf("got\n%s\nwant\n%s", body, want.Bytes())
				}
			}},
		{Name: "ErrActivityGrain", URL: "/api/v1/activity?grain=hour", WantStatus: 400, WantCode: bowtie.EINVALID},

		// Event funnel.
		{Name: "Funnel", URL: "/api/v1/funnel?step=Viewed+Pricing&step=Started+Checkout&step=Purchased&" + rng, WantStatus: 200,
			Check: sameAs("RunEventFunnel", funnel(query.EventFunnelRequest{Steps: pricing}))},
		{Name: "FunnelFilterWindowBy", URL: "/api/v1/funnel?step=Viewed+Pricing+plan%3Dpro&step=Purchased&window=36h&mode=strict&by=channel&" + rng, WantStatus: 200,
			WantContent: []string{`"where":{"plan":"pro"}`, `"window":"36h`},
			Check: sameAs("RunEventFunnel", funnel(query.EventFunnelRequest{Steps: []query.EventMatch{{Event: "Viewed Pricing", Where: map[string]string{"plan": "pro"}}, {Event: "Purchased"}},
				Window: 36 * time.Hour, Mode: "strict", By: "channel"}))},
		{Name: "FunnelExcludeAny", URL: "/api/v1/funnel?step=Viewed+Pricing&step=Started+Checkout&step=Purchased&exclude=Opened+App+between%3D2-3&exclude=Bounced&mode=any&window=2w&" + rng, WantStatus: 200,
			Check: sameAs("RunEventFunnel", funnel(query.EventFunnelRequest{Steps: pricing, Mode: "any", Window: 14 * 24 * time.Hour,
				Exclusions: []query.Exclusion{{EventMatch: query.EventMatch{Event: "Opened App"}, From: 2, To: 3}, {EventMatch: query.EventMatch{Event: "Bounced"}}}}))},
		{Name: "FunnelCSV", URL: "/api/v1/funnel?step=Viewed+Pricing&step=Purchased&format=csv&" + rng, WantStatus: 200,
			WantHeader: map[string]string{"Content-Disposition": `attachment; filename="bowtie-funnel-shop-2025-01-01-2025-03-31.csv"`},
			Check:      sameCSVOf(funnel(query.EventFunnelRequest{Steps: []query.EventMatch{{Event: "Viewed Pricing"}, {Event: "Purchased"}}}))},
		{Name: "ErrFunnelOneStep", URL: "/api/v1/funnel?step=Viewed+Pricing", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"2 to 20"}},
		{Name: "ErrFunnelNoName", URL: "/api/v1/funnel?step=plan%3Dpro&step=Purchased", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"event name comes first"}},
		{Name: "ErrFunnelBadItem", URL: "/api/v1/funnel?step=Viewed+Pricing+%3Dpro&step=Purchased", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"KEY=VALUE"}},
		{Name: "ErrFunnelBetween", URL: "/api/v1/funnel?step=A&step=B&exclude=C+between%3Dx", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"between"}},
		{Name: "ErrFunnelWindow", URL: "/api/v1/funnel?step=A&step=B&window=soon", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"window"}},
		{Name: "ErrFunnelMode", URL: "/api/v1/funnel?step=A&step=B&mode=loose", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrFunnelRepeatedWindow", URL: "/api/v1/funnel?step=A&step=B&window=1d&window=2d", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"given 2 times"}},
	}
	for _, sc := range scenarios {
		if sc.Header == nil {
			sc.Header = auth
		}
		sc.run(t, s)
	}

	// Transport: every endpoint is read-only and needs the token.
	for _, p := range []string{"stages", "sales", "retention", "activity", "funnel"} {
		apiScenario{Name: "ErrNoToken/" + p, URL: "/api/v1/" + p, WantStatus: 401, WantCode: "unauthorized",
			WantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="bowtie"`}}.run(t, s)
		apiScenario{Name: "ErrWrongToken/" + p, URL: "/api/v1/" + p, Header: map[string]string{"Authorization": "Bearer nope"}, WantStatus: 401, WantCode: "unauthorized"}.run(t, s)
		apiScenario{Name: "ErrPost/" + p, Method: http.MethodPost, URL: "/api/v1/" + p, Header: auth, WantStatus: 405, WantCode: "method_not_allowed",
			WantHeader: map[string]string{"Allow": "GET, HEAD"}}.run(t, s)
	}
}

// TestServer_AnalysesWorkspaces checks workspace= with several workspaces.
func TestServer_AnalysesWorkspaces(t *testing.T) {
	a, b := MustOpenAnalyses(t), MustOpenShop(t)
	biz := MustBusiness(t, "b2c")
	s, _ := MustNew(t, server.Config{Workspaces: []server.Workspace{
		{Name: "big", DB: a.DB(), Dialect: query.DuckDB{}, Business: biz},
		{Name: "small", DB: b.DB(), Dialect: query.DuckDB{}, Business: biz},
	}})
	for _, sc := range []apiScenario{
		{Name: "ErrNoWorkspace", URL: "/api/v1/retention", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"name one"}},
		{Name: "Small", URL: "/api/v1/stages?workspace=small&from=2025-01-01&to=2025-03-31", WantStatus: 200, WantContent: []string{`"total":{"key":"","steps":[{"name":"visitor","count":4,`}},
		{Name: "Big", URL: "/api/v1/stages?workspace=big&stages=signup,paid&from=2025-01-01&to=2025-03-31", WantStatus: 200, WantContent: []string{`"steps":[{"name":"signup","count":28,`, `{"name":"paid","count":8,`}},
	} {
		sc.run(t, s)
	}
}

// sameCSVOf checks that body is the WriteCSV output of what run returns.
func sameCSVOf(run func() (any, error)) func(*testing.T, *http.Response, []byte) {
	return func(t *testing.T, _ *http.Response, body []byte) {
		t.Helper()
		v, err := run()
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := v.(interface{ WriteCSV(io.Writer) error }).WriteCSV(&want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, want.Bytes()) {
			t.Fatalf("CSV differs:\n got %s\nwant %s", body, want.Bytes())
		}
	}
}
