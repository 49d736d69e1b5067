package server_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
)

// flowNodes returns the nodes and links (source + "→" + target: paths)
// of the path flow the Attribution view draws from the API's top paths
// (web/attribution.js, flow): a node per touch position and channel, the
// first five and the last touch of longer paths, "No touch" for a path
// without one, and the two ends.
func flowNodes(top []any) (map[string]bool, map[string]float64) {
	const maxSteps = 6
	nodes, links := map[string]bool{}, map[string]float64{}
	link := func(a, b string, v float64) {
		if v > 0 {
			nodes[a], nodes[b] = true, true
			links[a+"→"+b] += v
		}
	}
	for _, x := range top {
		p := x.(map[string]any)
		path := p["path"].(string)
		conv, nulls := p["conversions"].(float64), p["nulls"].(float64)
		var names []string
		if path != "(none)" && path != "" {
			chans := strings.Split(path, " > ")
			for i, ch := range chans {
				names = append(names, fmt.Sprintf("%d. %s", i+1, ch))
			}
			if len(chans) > maxSteps {
				names = append(names[:maxSteps-1], "Last. "+chans[len(chans)-1])
			}
		}
		if len(names) == 0 {
			names = []string{"No touch"}
		}
		for i := 1; i < len(names); i++ {
			link(names[i-1], names[i], conv+nulls)
		}
		link(names[len(names)-1], "Conversion", conv)
		link(names[len(names)-1], "No conversion", nulls)
	}
	return nodes, links
}

// svgTexts returns the texts of the <text> elements drawn in the element
// with id.
func svgTexts(t *testing.T, dom string, els []domElement, id string) map[string]int {
	t.Helper()
	start := -1
	for _, e := range els {
		if e.Attr["id"] == id {
			start = e.Start
		}
	}
	if start < 0 {
		t.Fatalf("no #%s", id)
	}
	end := start + strings.Index(dom[start:], "</svg>")
	out := map[string]int{}
	for _, e := range els {
		if e.Tag == "text" && e.Start > start && e.Start < end {
			out[e.Text]++
		}
	}
	return out
}

// checkAttribution compares every figure of the Attribution view with the
// API's answer res: the tiles, every cell of the side-by-side table (each
// model's credited conversions, and the cost, revenue, cost per
// conversion and ROAS of model), the top paths, the distributions, the
// data-driven models' figures and the lead quality; and that the path
// flow draws exactly the nodes and links of the top paths.
func checkAttribution(t *testing.T, dom string, els []domElement, res map[string]any, model string) {
	t.Helper()
	models, _ := res["models"].([]any)
	rows := map[string]map[string]any{}
	for _, x := range res["rows"].([]any) {
		r := x.(map[string]any)
		key := r["channel"].(string)
		if c, _ := r["campaign"].(string); c != "" {
			key += " / " + c
		}
		rows[key] = r
	}
	if len(rows) < 2 || len(models) < 8 {
		t.Fatalf("the API has %d rows and %d models", len(rows), len(models))
	}
	n := checkScope(t, els, "credit", "data-row", func(k, m string) (any, bool) {
		if strings.HasPrefix(m, "credits.") && !strings.HasSuffix(m, ".conversions") && !strings.HasPrefix(m, "credits."+model+".") {
			return nil, false // cost figures of another model than the selected one
		}
		return at(rows[k], m)
	})
	if want := len(rows) * (len(models) + 6); n != want {
		t.Errorf("%d credit cells, want %d", n, want)
	}
	totals := res["totals"].(map[string]any)
	if n := checkScope(t, els, "credit-total", "data-model", func(k, m string) (any, bool) { return at(totals, m) }); n != len(models)+4 {
		t.Errorf("%d total cells, want %d", n, len(models)+4)
	}
	if n := checkScope(t, els, "totals", "x", func(_, m string) (any, bool) { return at(totals, m) }); n != 7 {
		t.Errorf("%d tile figures, want 7", n)
	}
	top := res["top_paths"].([]any)
	paths := rowsBy(top, "path")
	if n := checkScope(t, els, "path", "data-path", func(k, m string) (any, bool) { return at(paths[k], m) }); n != 4*len(paths) || len(paths) < 3 {
		t.Errorf("%d top-path cells for %d paths", n, len(paths))
	}
	for scope, list := range map[string]string{"length": "path_lengths", "ttc": "time_to_convert"} {
		b := rowsBy(res[list], "label")
		if n := checkScope(t, els, scope, "data-bucket", func(k, m string) (any, bool) { return at(b[k], m) }); n != 2*len(b) || len(b) < 5 {
			t.Errorf("%s: %d cells for %d buckets", scope, n, len(b))
		}
	}
	markov := rowsBy(res["markov"].(map[string]any)["removal_effects"], "channel")
	if n := checkScope(t, els, "markov", "data-channel", func(k, m string) (any, bool) { return at(markov[k], m) }); n != 2*len(markov) {
		t.Errorf("%d Markov cells for %d channels", n, len(markov))
	}
	shapley := rowsBy(res["shapley"].(map[string]any)["values"], "channel")
	if n := checkScope(t, els, "shapley", "data-channel", func(k, m string) (any, bool) { return at(shapley[k], m) }); n != 2*len(shapley) {
		t.Errorf("%d Shapley cells for %d channels", n, len(shapley))
	}
	leads := rowsBy(res["lead_quality"], "channel")
	if n := checkScope(t, els, "lead", "data-channel", func(k, m string) (any, bool) { return at(leads[k], m) }); n != 7*len(leads) {
		t.Errorf("%d lead-quality cells for %d channels", n, len(leads))
	}

	// The flow: its links (the hidden table) and its drawn node labels.
	nodes, links := flowNodes(top)
	got := map[string]float64{}
	for _, e := range els {
		if e.Attr["data-scope"] == "flow" {
			k := e.Attr["data-source"] + "→" + e.Attr["data-target"]
			if _, dup := got[k]; dup {
				t.Errorf("flow link %s appears twice", k)
			}
			v, _ := num(mustFloat(t, e.Attr["data-value"]))
			got[k] = v
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(links) {
		t.Errorf("flow links:\n got %v\nwant %v", got, links)
	}
	svgIn(t, dom, els, "attr-flow")
	texts := svgTexts(t, dom, els, "attr-flow")
	drawn := 0
	for name := range nodes {
		if texts[name] > 0 {
			drawn++
		} else {
			t.Errorf("flow node %q is not drawn", name)
		}
	}
	if drawn != len(nodes) || len(nodes) < 4 {
		t.Errorf("%d of %d flow nodes drawn", drawn, len(nodes))
	}
	for _, id := range []string{"attr-chart", "attr-lengths", "attr-ttc"} {
		svgIn(t, dom, els, id)
	}
}

func mustFloat(t *testing.T, s string) any {
	t.Helper()
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		t.Fatalf("data-value %q: %v", s, err)
	}
	return f
}

// TestBrowser_Attribution opens the Attribution view on the B2C and B2B
// demos and checks every figure against GET /api/v1/attribution for the
// same request, the path flow against the API's top paths, that choosing
// another model or breakdown updates the URL and the table, and that an
// impossible request shows the API's error instead of an empty view.
func TestBrowser_Attribution(t *testing.T) {
	bin := chromium(t)
	const rng = "from=2025-11-01&to=2026-10-31"
	for _, business := range []string{"b2c", "b2b"} {
		t.Run(business, func(t *testing.T) {
			ts := mustServeDemo(t, business)
			dom, els := openDemoView(t, bin, ts.URL, "view=attribution&model=linear&"+rng)
			res := getAPI(t, ts.URL, "", "/api/v1/attribution", "model=all&by=channel&"+rng)
			checkAttribution(t, dom, els, res, "linear")
			if business == "b2b" && !strings.Contains(dom, "credited to Direct") {
				t.Error("the B2B view does not show the API's note on conversions without a touch")
			}
		})
	}
	ts := mustServeDemo(t, "b2c")
	t.Run("SwitchModel", func(t *testing.T) {
		u, els := switchView(t, bin, ts.URL, "view=attribution&model=linear&"+rng, "select", "attr-model", "first")
		if q, _ := url.ParseQuery(strings.TrimPrefix(u, "?")); q.Get("model") != "first" || q.Get("view") != "attribution" {
			t.Errorf("the URL after the switch is %q, want model=first", u)
		}
		res := getAPI(t, ts.URL, "", "/api/v1/attribution", "model=all&by=channel&"+rng)
		rows := rowsBy(res["rows"], "channel")
		n := checkScope(t, els, "credit", "data-row", func(k, m string) (any, bool) {
			if strings.HasPrefix(m, "credits.") && !strings.HasSuffix(m, ".conversions") && !strings.HasPrefix(m, "credits.first.") {
				return nil, false
			}
			return at(rows[k], m)
		})
		revenue := 0
		for _, e := range els {
			if e.Attr["data-scope"] == "credit" && e.Attr["data-metric"] == "credits.first.revenue" {
				revenue++
			}
		}
		if revenue != len(rows) || n == 0 {
			t.Errorf("%d first-touch revenue cells for %d channels (%d cells checked)", revenue, len(rows), n)
		}
	})
	t.Run("SwitchBy", func(t *testing.T) {
		u, els := switchView(t, bin, ts.URL, "view=attribution&model=linear&"+rng, "select", "attr-by", "campaign")
		if q, _ := url.ParseQuery(strings.TrimPrefix(u, "?")); q.Get("by") != "campaign" {
			t.Errorf("the URL after the switch is %q, want by=campaign", u)
		}
		res := getAPI(t, ts.URL, "", "/api/v1/attribution", "model=all&by=campaign&"+rng)
		rows := map[string]map[string]any{}
		for _, x := range res["rows"].([]any) {
			r := x.(map[string]any)
			key := r["channel"].(string)
			if c, _ := r["campaign"].(string); c != "" {
				key += " / " + c
			}
			rows[key] = r
		}
		n := checkScope(t, els, "credit", "data-row", func(k, m string) (any, bool) {
			if strings.HasPrefix(m, "credits.") && !strings.HasSuffix(m, ".conversions") && !strings.HasPrefix(m, "credits.linear.") {
				return nil, false
			}
			return at(rows[k], m)
		})
		if want := len(rows) * (len(res["models"].([]any)) + 6); n != want {
			t.Errorf("%d campaign cells, want %d", n, want)
		}
	})
	t.Run("ErrConversion", func(t *testing.T) {
		const params = "conversion=event:Never%20Happened&" + rng
		msg := apiError(t, ts.URL, "", "/api/v1/attribution", "model=all&by=channel&"+params)
		dom, _ := runChromiumConsole(t, bin, ts.URL+"/?view=attribution&"+params, "--dump-dom")
		var state, shown string
		for _, e := range parseDOM(dom) {
			if e.Tag == "body" {
				state = e.Attr["data-state"]
			}
			if e.Attr["id"] == "error" {
				shown = e.Text
				if _, hidden := e.Attr["hidden"]; hidden {
					t.Error("the error box is hidden")
				}
			}
		}
		if state != "error" || shown != msg || !strings.Contains(msg, "Never Happened") {
			t.Errorf("state %q, error box %q; want error and the API's %q", state, shown, msg)
		}
	})
}

// TestBrowser_AttributionEscapes: channel names of an imported dataset
// are text wherever the Attribution view shows them (tables, chart labels,
// the flow): a channel named like an element injects nothing and runs
// nothing, and shows as those characters.
func TestBrowser_AttributionEscapes(t *testing.T) {
	bin := chromium(t)
	st := MustOpenAnalyses(t)
	biz := MustBusiness(t, "b2c")
	// The payload holds no ">" (the path separator): an attribute-less
	// element that would still be parsed as one.
	const evil = `<img src=x onerror="document.body.setAttribute('data-pwned','1')"`
	importPathsFile(t, st, biz, "xss", "path,conversions,value,nulls\n\""+strings.ReplaceAll(evil, `"`, `""`)+" > Email\",3,30,2\nEmail,1,5,4\n")
	s, _ := MustNew(t, server.Config{Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: biz}}})
	ts := httptest.NewServer(s)
	defer ts.Close()
	dom, els := openDemoView(t, bin, ts.URL, "view=attribution&dataset=xss&from=2025-01-01&to=2025-03-31")
	var body domElement
	asText := 0
	for _, e := range els {
		switch {
		case e.Tag == "body":
			body = e
		case e.Tag == "img":
			t.Errorf("an <img> was injected: %v", e.Attr)
		case e.Text == evil || e.Text == evil+" > Email" || e.Text == "1. "+evil:
			asText++
		}
	}
	if body.Attr["data-pwned"] != "" {
		t.Error("the injected handler ran")
	}
	if asText < 3 { // the credit table's row, the top path, the flow's node label
		t.Errorf("the channel name shows as text %d times:\n%s", asText, dom)
	}
}
