package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
)

// openView opens a dashboard view in headless Chromium through the
// read-token flow and returns its parsed DOM once the page is ready.
func openView(t *testing.T, bin, base, token, params string) (string, []domElement) {
	t.Helper()
	page := base + "/?token=" + token + "&" + params
	dom := runChromium(t, bin, page, "--dump-dom")
	els := parseDOM(dom)
	state, msg := "", ""
	for _, e := range els {
		if e.Tag == "body" {
			state = e.Attr["data-state"]
		}
		if e.Attr["id"] == "error" {
			msg = e.Text
		}
	}
	if state != "ready" {
		t.Fatalf("%s: the page did not get ready (state %q, error %q); DOM:\n%s", params, state, msg, dom)
	}
	for _, bad := range []string{"NaN", "Infinity", "undefined"} {
		if strings.Contains(dom, ">"+bad) || strings.Contains(dom, "\""+bad+"\"") {
			t.Errorf("%s: the page shows %q", params, bad)
		}
	}
	if path := os.Getenv("BOWTIE_SCREENSHOT_DIR"); path != "" {
		name := strings.NewReplacer("&", "_", "=", "-").Replace(params)
		runChromium(t, bin, page, "--hide-scrollbars", "--window-size=1400,1800", "--screenshot="+path+"/"+name+".png")
	}
	return dom, els
}

// svgIn checks that the element with id holds an ECharts SVG drawing.
func svgIn(t *testing.T, dom string, els []domElement, id string) {
	t.Helper()
	at := -1
	for _, e := range els {
		if e.Attr["id"] == id {
			at = e.Start
		}
	}
	if at < 0 {
		t.Fatalf("no #%s", id)
	}
	after := dom[at:]
	s, end := strings.Index(after, "<svg"), strings.Index(after, "</svg>")
	if s < 0 || s > 2000 || end < s || strings.Count(after[s:end], "<path") < 3 {
		t.Errorf("#%s holds no SVG drawing: %.400s", id, after)
	}
}

// figures indexes the elements carrying data-metric by the given
// attributes (joined with "/").
func figures(t *testing.T, els []domElement, keys ...string) map[string]domElement {
	t.Helper()
	out := map[string]domElement{}
	for _, e := range els {
		if e.Attr["data-metric"] == "" {
			continue
		}
		k := []string{}
		ok := true
		for _, a := range keys {
			v, has := e.Attr[a]
			ok = ok && has
			k = append(k, v)
		}
		if !ok {
			continue
		}
		k = append(k, e.Attr["data-metric"])
		id := strings.Join(k, "/")
		if _, dup := out[id]; dup {
			t.Errorf("figure %s appears twice", id)
		}
		out[id] = e
	}
	return out
}

// num returns a JSON number or ok=false for null.
func num(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok
}

// getAPI fetches an API path from the running server as generic JSON.
func getAPI(t *testing.T, base, token, path, params string) map[string]any {
	t.Helper()
	return getJSONAt(t, base+path+"?"+params, token)
}

// TestBrowser_Funnels opens the Funnels view in both modes and checks that
// every figure of the step table and of the breakdown table equals
// GET /api/v1/stages for the same parameters, and that the chart is drawn.
func TestBrowser_Funnels(t *testing.T) {
	bin := chromium(t)
	st := MustOpenAnalyses(t)
	const token = "browser-test-token"
	s, _ := MustNew(t, server.Config{
		ReadToken:  token,
		Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}},
	})
	ts := httptest.NewServer(s)
	defer ts.Close()

	for _, mode := range []string{"cohort", "period"} {
		t.Run(mode, func(t *testing.T) {
			const rng = "from=2025-01-01&to=2025-03-31"
			dom, els := openView(t, bin, ts.URL, token, "view=funnels&mode="+mode+"&by=channel&"+rng)
			svgIn(t, dom, els, "funnel-chart")
			res := getAPI(t, ts.URL, token, "/api/v1/stages", "mode="+mode+"&by=channel&"+rng)
			if res["mode"] != mode {
				t.Fatalf("API mode %v", res["mode"])
			}
			// Step table.
			cells := figures(t, els, "data-scope", "data-step")
			steps := res["total"].(map[string]any)["steps"].([]any)
			for i, s := range steps {
				step := s.(map[string]any)
				name := step["name"].(string)
				prev := step["time_from_previous"].(map[string]any)
				first := step["time_from_first"].(map[string]any)
				for _, m := range []struct {
					key string
					v   any
				}{{"count", step["count"]}, {"step_conversion", step["step_conversion"]}, {"overall_conversion", step["overall_conversion"]},
					{"drop_off", step["drop_off"]}, {"median_days", prev["median"]}, {"p90_days", prev["p90"]}, {"median_days_from_first", first["median"]}} {
					id := "total/" + name + "/" + m.key
					e, ok := cells[id]
					if !ok {
						t.Errorf("no cell %s", id)
						continue
					}
					want, wok := num(m.v)
					if i == 0 && m.key != "count" && m.key != "drop_off" {
						wok = false // the first stage has no previous one
					}
					checkFigure(t, id, e, want, wok)
					delete(cells, id)
				}
			}
			for id := range cells {
				t.Errorf("step cell %s is not in the API answer", id)
			}
			// Breakdown table.
			cells = figures(t, els, "data-group", "data-step")
			groups := res["groups"].([]any)
			if len(groups) != 3 {
				t.Fatalf("the seed should give 3 channels, the API has %d", len(groups))
			}
			for _, g := range groups {
				group := g.(map[string]any)
				for i, s := range group["steps"].([]any) {
					step := s.(map[string]any)
					keys := []string{"count"}
					if i > 0 {
						keys = append(keys, "overall_conversion")
					}
					for _, k := range keys {
						id := group["key"].(string) + "/" + step["name"].(string) + "/" + k
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
		})
	}
}

// TestBrowser_Retention opens the Retention view in both modes and checks
// the D1/D7/D30 tiles, every heatmap cell (empty where the API has null)
// and every point of the per-channel curves against GET /api/v1/retention,
// and that both charts are drawn.
func TestBrowser_Retention(t *testing.T) {
	bin := chromium(t)
	st := MustOpenAnalyses(t)
	const token = "browser-test-token"
	s, _ := MustNew(t, server.Config{
		ReadToken:  token,
		Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}},
	})
	ts := httptest.NewServer(s)
	defer ts.Close()

	for _, mode := range []string{"on", "on_or_after"} {
		t.Run(mode, func(t *testing.T) {
			const rng = "from=2025-01-01&to=2025-03-31"
			dom, els := openView(t, bin, ts.URL, token, "view=retention&mode="+mode+"&grain=week&"+rng)
			svgIn(t, dom, els, "retention-heatmap")
			svgIn(t, dom, els, "retention-curves")
			res := getAPI(t, ts.URL, token, "/api/v1/retention", "mode="+mode+"&grain=week&"+rng)

			// Tiles.
			tiles := figures(t, els, "data-scope")
			head := res["headline"].([]any)[0].(map[string]any)
			for _, k := range []string{"d1", "d7", "d30"} {
				e, ok := tiles["headline/"+k]
				if !ok {
					t.Errorf("no %s tile", k)
					continue
				}
				want, wok := num(head[k].(map[string]any)["rate"])
				checkFigure(t, "tile "+k, e, want, wok)
			}

			// Heatmap cells.
			cells := figures(t, els, "data-cohort", "data-n")
			sizes := map[string]domElement{}
			for _, e := range els {
				if e.Attr["data-cohort"] != "" && e.Attr["data-metric"] == "size" {
					sizes[e.Attr["data-cohort"]+"/size"] = e
				}
			}
			nulls := 0
			rows := res["cohorts"].([]any)
			if len(rows) < 10 {
				t.Fatalf("the seed should give ≥ 10 weekly cohorts, the API has %d", len(rows))
			}
			for _, r := range rows {
				row := r.(map[string]any)
				c := row["cohort"].(string)
				if e, ok := sizes[c+"/size"]; !ok {
					t.Errorf("no size of cohort %s", c)
				} else {
					checkFigure(t, "size "+c, e, row["size"].(float64), true)
				}
				for _, x := range row["cells"].([]any) {
					cell := x.(map[string]any)
					id := c + "/" + strconvF(cell["n"]) + "/rate"
					e, ok := cells[id]
					if !ok {
						t.Errorf("no heatmap cell %s", id)
						continue
					}
					want, wok := num(cell["rate"])
					if !wok {
						nulls++
						if e.Text != "" {
							t.Errorf("cell %s shows %q, want empty (not observable yet)", id, e.Text)
						}
					}
					checkFigure(t, id, e, want, wok)
					delete(cells, id)
				}
			}
			for id := range cells {
				t.Errorf("heatmap cell %s is not in the API answer", id)
			}
			if nulls == 0 {
				t.Error("the late cohorts should have cells that are not observable yet")
			}

			// Curves per channel.
			by := getAPI(t, ts.URL, token, "/api/v1/retention", "mode="+mode+"&grain=week&by=channel&"+rng)
			points := figures(t, els, "data-group", "data-n")
			totals := by["totals"].([]any)
			if len(totals) != 4 {
				t.Fatalf("want all + 3 channels, the API has %d", len(totals))
			}
			for _, g := range totals {
				group := g.(map[string]any)
				for _, x := range group["cells"].([]any) {
					cell := x.(map[string]any)
					id := group["group"].(string) + "/" + strconvF(cell["n"]) + "/rate"
					e, ok := points[id]
					if !ok {
						t.Errorf("no curve point %s", id)
						continue
					}
					want, wok := num(cell["rate"])
					checkFigure(t, id, e, want, wok)
					delete(points, id)
				}
			}
			for id := range points {
				t.Errorf("curve point %s is not in the API answer", id)
			}
		})
	}
}

// strconvF formats a JSON integer.
func strconvF(v any) string { return strconv.Itoa(int(v.(float64))) }

// getJSONAt fetches a URL with the read token as generic JSON.
func getJSONAt(t *testing.T, u, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("%s: %s", u, res.Status)
	}
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
