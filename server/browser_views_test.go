package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
)

// mustServeAnalyses starts a server with the analyses seed as workspace
// "shop" (B2C) behind the read token.
func mustServeAnalyses(t *testing.T, token string) *httptest.Server {
	t.Helper()
	st := MustOpenAnalyses(t)
	s, _ := MustNew(t, server.Config{
		ReadToken:  token,
		Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}},
	})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

// openViewError opens a dashboard view that must fail and returns the
// message the page shows.
func openViewError(t *testing.T, bin, base, token, params string) string {
	t.Helper()
	dom := runChromium(t, bin, base+"/?token="+token+"&"+params, "--dump-dom")
	state, msg, shown := "", "", false
	for _, e := range parseDOM(dom) {
		if e.Tag == "body" {
			state = e.Attr["data-state"]
		}
		if e.Attr["id"] == "error" {
			_, hidden := e.Attr["hidden"]
			msg, shown = e.Text, !hidden
		}
	}
	if state != "error" || !shown {
		t.Fatalf("%s: the page is in state %q (error shown %v, %q), want the error state", params, state, shown, msg)
	}
	return msg
}

// apiError fetches an API path that must fail with 400 and returns the
// message of its error answer.
func apiError(t *testing.T, base, token, path, params string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path+"?"+params, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusBadRequest || body.Error.Message == "" {
		t.Fatalf("%s?%s: %s %+v, want 400 with a message", path, params, res.Status, body)
	}
	return body.Error.Message
}

// jsonAt returns the value at a dotted path of a decoded JSON object.
func jsonAt(v map[string]any, path string) (any, bool) {
	var cur any = v
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// checkSteps checks the step table (data-scope="total", data-step the
// 1-based step number) and the breakdown table of an event funnel page
// against the API's answer, and that every step input shows its step.
func checkSteps(t *testing.T, els []domElement, res map[string]any, steps []string) {
	t.Helper()
	inputs := map[string]string{}
	for _, e := range els {
		if n := e.Attr["data-step-input"]; n != "" {
			inputs[n] = e.Attr["value"]
		}
	}
	if len(inputs) != len(steps) {
		t.Errorf("the builder shows %d steps, want %d: %v", len(inputs), len(steps), inputs)
	}
	for i, s := range steps {
		if got := inputs[strconv.Itoa(i+1)]; got != s {
			t.Errorf("step input %d shows %q, want %q", i+1, got, s)
		}
	}

	cells := figures(t, els, "data-scope", "data-step")
	apiSteps := res["total"].(map[string]any)["steps"].([]any)
	if len(apiSteps) != len(steps) {
		t.Fatalf("the API has %d steps, want %d", len(apiSteps), len(steps))
	}
	for i, s := range apiSteps {
		step := s.(map[string]any)
		prev := step["time_from_previous"].(map[string]any)
		first := step["time_from_first"].(map[string]any)
		for _, m := range []struct {
			key string
			v   any
		}{{"count", step["count"]}, {"step_conversion", step["step_conversion"]}, {"overall_conversion", step["overall_conversion"]},
			{"drop_off", step["drop_off"]}, {"median_days", prev["median"]}, {"p75_days", prev["p75"]}, {"p90_days", prev["p90"]},
			{"median_days_from_first", first["median"]}} {
			id := "total/" + strconv.Itoa(i+1) + "/" + m.key
			e, ok := cells[id]
			if !ok {
				t.Errorf("no cell %s", id)
				continue
			}
			want, wok := num(m.v)
			checkFigure(t, id, e, want, wok)
			delete(cells, id)
		}
	}
	for id := range cells {
		t.Errorf("step cell %s is not in the API answer", id)
	}

	cells = figures(t, els, "data-group", "data-step")
	for _, g := range res["groups"].([]any) {
		group := g.(map[string]any)
		for i, s := range group["steps"].([]any) {
			step := s.(map[string]any)
			keys := []string{"count"}
			if i > 0 {
				keys = append(keys, "overall_conversion")
			}
			for _, k := range keys {
				id := group["key"].(string) + "/" + strconv.Itoa(i+1) + "/" + k
				e, ok := cells[id]
				if !ok {
					t.Errorf("no cell %s", id)
					continue
				}
				want, wok := num(step[k])
				checkFigure(t, id, e, want, wok)
				delete(cells, id)
			}
		}
	}
	for id := range cells {
		t.Errorf("breakdown cell %s is not in the API answer", id)
	}
}

// TestBrowser_EventFunnel opens the Event funnel view with built steps
// (with and without a breakdown, in two modes) and with the preset's
// default steps, and checks that the builder shows the steps and every
// figure of the step and breakdown tables equals GET /api/v1/funnel for
// the same request; and that a bad window or step shows the API's error.
func TestBrowser_EventFunnel(t *testing.T) {
	bin := chromium(t)
	const token = "browser-test-token"
	ts := mustServeAnalyses(t, token)
	const rng = "from=2025-01-01&to=2025-03-31"

	for _, tc := range []struct {
		name, mode, window, by string
		steps                  []string
		groups                 int
	}{
		{name: "OK", mode: "ordered", window: "7d", by: "channel", steps: []string{"Viewed Pricing", "Started Checkout", "Purchased"}, groups: 3},
		{name: "OKFilterAny", mode: "any", window: "3d", steps: []string{"Viewed Pricing plan=pro", "Purchased"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"step": tc.steps, "window": {tc.window}, "mode": {tc.mode}}
			if tc.by != "" {
				q.Set("by", tc.by)
			}
			dom, els := openView(t, bin, ts.URL, token, "view=event-funnel&"+q.Encode()+"&"+rng)
			svgIn(t, dom, els, "ef-chart")
			res := getAPI(t, ts.URL, token, "/api/v1/funnel", q.Encode()+"&"+rng)
			if res["mode"] != tc.mode || len(res["groups"].([]any)) != tc.groups {
				t.Fatalf("API mode %v, %d groups", res["mode"], len(res["groups"].([]any)))
			}
			if c, _ := num(res["total"].(map[string]any)["steps"].([]any)[1].(map[string]any)["count"]); c == 0 {
				t.Fatal("the seed should convert some people")
			}
			checkSteps(t, els, res, tc.steps)
		})
	}

	t.Run("OKDefaultSteps", func(t *testing.T) {
		_, els := openView(t, bin, ts.URL, token, "view=event-funnel&"+rng)
		steps := []string{"Landing Page", "app_install", "signup_completed", "trial_started", "subscription_started"}
		q := url.Values{"step": steps, "window": {"14d"}, "mode": {"ordered"}}
		checkSteps(t, els, getAPI(t, ts.URL, token, "/api/v1/funnel", q.Encode()+"&"+rng), steps)
	})

	for _, tc := range []struct{ name, params string }{
		{"ErrWindow", "step=Viewed+Pricing&step=Purchased&window=fortnight"},
		{"ErrStep", "step=Viewed+Pricing&step=plan%3Dpro"},
		{"ErrOneStep", "step=Viewed+Pricing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := apiError(t, ts.URL, token, "/api/v1/funnel", tc.params+"&"+rng)
			if got := openViewError(t, bin, ts.URL, token, "view=event-funnel&"+tc.params+"&"+rng); got != want {
				t.Errorf("the page shows %q, the API says %q", got, want)
			}
		})
	}
}

// TestBrowser_Sales opens the Sales view and checks every tile figure,
// every cell of the stage win-rate table and of the sales-cycle table
// against GET /api/v1/sales, and that a bad range shows the API's error.
func TestBrowser_Sales(t *testing.T) {
	bin := chromium(t)
	const token = "browser-test-token"
	ts := mustServeAnalyses(t, token)
	const rng = "from=2025-01-01&to=2025-03-31"

	t.Run("OK", func(t *testing.T) {
		_, els := openView(t, bin, ts.URL, token, "view=sales&"+rng)
		res := getAPI(t, ts.URL, token, "/api/v1/sales", rng)
		if w, _ := num(res["won"]); w == 0 {
			t.Fatal("the seed should have a won deal in the range")
		}

		// Tiles and their notes: data-metric is the JSON path.
		shown := map[string]bool{}
		for _, e := range els {
			if e.Attr["data-scope"] != "sales" {
				continue
			}
			path := e.Attr["data-metric"]
			if shown[path] {
				t.Errorf("figure %s appears twice", path)
			}
			shown[path] = true
			v, ok := jsonAt(res, path)
			if !ok {
				t.Errorf("figure %s is not in the API answer", path)
				continue
			}
			want, wok := num(v)
			checkFigure(t, path, e, want, wok)
		}
		for _, path := range []string{"win_rate", "won", "lost", "sales_cycle_days.median", "sales_cycle_days.p75", "sales_cycle_days.p90",
			"sales_cycle_days.mean", "average_deal_size", "won_value", "open_value", "open", "weighted_value", "velocity_per_day",
			"mql_follow_up.touched_within_1_day", "mql_follow_up.touched", "mql_follow_up.mqls", "mql_follow_up.time_to_first_touch_days.median"} {
			if !shown[path] {
				t.Errorf("no figure %s", path)
			}
		}

		// Stage win rates.
		cells := figures(t, els, "data-scope", "data-stage")
		rows := res["stage_win_rates"].([]any)
		if len(rows) == 0 {
			t.Fatal("the seed should have an open deal")
		}
		for _, r := range rows {
			row := r.(map[string]any)
			for _, k := range []string{"open", "closed", "won", "rate"} {
				id := "stage/" + row["stage"].(string) + "/" + k
				e, ok := cells[id]
				if !ok {
					t.Errorf("no cell %s", id)
					continue
				}
				want, wok := num(row[k])
				checkFigure(t, id, e, want, wok)
				delete(cells, id)
			}
		}
		for id := range cells {
			t.Errorf("stage cell %s is not in the API answer", id)
		}

		// Sales-cycle distribution.
		cells = figures(t, els, "data-scope", "data-from")
		for _, b := range res["sales_cycle_days"].(map[string]any)["distribution"].([]any) {
			bucket := b.(map[string]any)
			id := "cycle/" + strconv.FormatFloat(bucket["from_days"].(float64), 'f', -1, 64) + "/count"
			e, ok := cells[id]
			if !ok {
				t.Errorf("no cell %s", id)
				continue
			}
			checkFigure(t, id, e, bucket["count"].(float64), true)
			delete(cells, id)
		}
		for id := range cells {
			t.Errorf("cycle cell %s is not in the API answer", id)
		}
	})

	t.Run("ErrRange", func(t *testing.T) {
		const bad = "from=2025-03-31&to=2025-01-01"
		want := apiError(t, ts.URL, token, "/api/v1/sales", bad)
		if got := openViewError(t, bin, ts.URL, token, "view=sales&"+bad); got != want {
			t.Errorf("the page shows %q, the API says %q", got, want)
		}
	})
}

// TestBrowser_Activity opens the Activity view at two lifecycle grains
// and checks the tiles, DAU, WAU, MAU and stickiness of every day, and
// every lifecycle figure against GET /api/v1/activity, that both charts
// are drawn, and that a bad range shows the API's error.
func TestBrowser_Activity(t *testing.T) {
	bin := chromium(t)
	const token = "browser-test-token"
	ts := mustServeAnalyses(t, token)
	const rng = "from=2025-01-01&to=2025-03-31"

	for _, grain := range []string{"week", "month"} {
		t.Run(grain, func(t *testing.T) {
			dom, els := openView(t, bin, ts.URL, token, "view=activity&grain="+grain+"&"+rng)
			svgIn(t, dom, els, "activity-chart")
			svgIn(t, dom, els, "lifecycle-chart")
			res := getAPI(t, ts.URL, token, "/api/v1/activity", "grain="+grain+"&"+rng)

			tiles := figures(t, els, "data-scope")
			for _, k := range []string{"average_dau", "average_mau", "stickiness"} {
				e, ok := tiles["activity/"+k]
				if !ok {
					t.Errorf("no %s tile", k)
					continue
				}
				want, wok := num(res[k])
				checkFigure(t, "tile "+k, e, want, wok)
			}

			cells := figures(t, els, "data-date")
			days := res["days"].([]any)
			if len(days) != 90 {
				t.Fatalf("the API has %d days, want 90", len(days))
			}
			active := 0.0
			for _, d := range days {
				day := d.(map[string]any)
				for _, k := range []string{"dau", "wau", "mau", "stickiness"} {
					id := day["date"].(string) + "/" + k
					e, ok := cells[id]
					if !ok {
						t.Errorf("no cell %s", id)
						continue
					}
					want, wok := num(day[k])
					checkFigure(t, id, e, want, wok)
					delete(cells, id)
				}
				active += day["dau"].(float64)
			}
			for id := range cells {
				t.Errorf("day cell %s is not in the API answer", id)
			}
			if active == 0 {
				t.Error("the seed should have active people")
			}

			cells = figures(t, els, "data-period")
			periods := res["lifecycle"].([]any)
			if len(periods) < 3 {
				t.Fatalf("the API has %d lifecycle periods", len(periods))
			}
			for _, p := range periods {
				period := p.(map[string]any)
				for _, k := range []string{"active", "new", "returning", "resurrecting", "dormant"} {
					id := period["period"].(string) + "/" + k
					e, ok := cells[id]
					if !ok {
						t.Errorf("no cell %s", id)
						continue
					}
					checkFigure(t, id, e, period[k].(float64), true)
					delete(cells, id)
				}
			}
			for id := range cells {
				t.Errorf("lifecycle cell %s is not in the API answer", id)
			}
		})
	}

	t.Run("ErrRange", func(t *testing.T) {
		const bad = "from=2025-03-31&to=2025-01-01"
		want := apiError(t, ts.URL, token, "/api/v1/activity", bad)
		if got := openViewError(t, bin, ts.URL, token, "view=activity&"+bad); got != want {
			t.Errorf("the page shows %q, the API says %q", got, want)
		}
	})
}
