package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
)

// chromium finds a headless-capable Chromium. Without one the browser test
// fails when $CI is set (CI must run it) and is skipped otherwise.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed, and CI must run the browser test: apt-get install -y chromium")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser test")
	return ""
}

// runChromium runs headless Chromium on url with extra flags and returns
// its standard output.
func runChromium(t *testing.T, bin, url string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(), "--virtual-time-budget=10000",
	}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// domElement is a start tag of the dumped DOM with its attributes and the
// text right after it.
type domElement struct {
	Tag   string
	Attr  map[string]string
	Text  string
	Start int
}

var (
	tagRE  = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/]+(?:="[^"]*")?)*)\s*/?>`)
	attrRE = regexp.MustCompile(`([^\s=>/]+)(?:="([^"]*)")?`)
)

// parseDOM lists the start tags of dom, as Chromium serializes it (every
// attribute value in double quotes, entities escaped).
func parseDOM(dom string) []domElement {
	var out []domElement
	for _, m := range tagRE.FindAllStringSubmatchIndex(dom, -1) {
		e := domElement{Tag: strings.ToLower(dom[m[2]:m[3]]), Attr: map[string]string{}, Start: m[0]}
		for _, a := range attrRE.FindAllStringSubmatch(dom[m[4]:m[5]], -1) {
			e.Attr[strings.ToLower(a[1])] = html.UnescapeString(a[2])
		}
		rest := dom[m[1]:]
		if i := strings.IndexByte(rest, '<'); i >= 0 {
			rest = rest[:i]
		}
		e.Text = strings.TrimSpace(html.UnescapeString(rest))
		out = append(out, e)
	}
	return out
}

// jsonValue returns the figure key of a JSON report row: the number, or
// ok=false for null.
func jsonValue(t *testing.T, row map[string]any, key string) (float64, bool) {
	t.Helper()
	v, present := row[key]
	if !present {
		t.Fatalf("the API row has no %q: %v", key, row)
	}
	if v == nil {
		return 0, false
	}
	return v.(float64), true
}

// checkFigure compares an element's data-value with the API's value.
func checkFigure(t *testing.T, what string, e domElement, want float64, wantOK bool) {
	t.Helper()
	raw, has := e.Attr["data-value"]
	if !has {
		t.Errorf("%s: no data-value attribute", what)
		return
	}
	if !wantOK {
		if raw != "" {
			t.Errorf("%s: data-value %q, want empty (the API has null)", what, raw)
		}
		if e.Tag == "td" && e.Text != "" {
			t.Errorf("%s: cell shows %q, want an empty cell for null", what, e.Text)
		}
		return
	}
	got, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		t.Errorf("%s: data-value %q: %v", what, raw, err)
		return
	}
	if got != want {
		t.Errorf("%s: page shows %v, API says %v", what, got, want)
	}
	if e.Text == "" {
		t.Errorf("%s: no visible text for %v", what, want)
	}
}

// getReport fetches a report from the running server as generic JSON.
func getReport(t *testing.T, base, token, params string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/report?"+params, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("report %s: %s", params, res.Status)
	}
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBrowser_Dashboard opens the dashboard in headless Chromium and checks
// that every figure on the page equals the API's value for the same
// parameters: the KPI tiles (and their previous-period values), every cell
// of the channel table and its total row, and the chart's data; and that
// the chart was drawn. The visit goes through the read-token flow (?token=
// → cookie → redirect). Set BOWTIE_SCREENSHOT=file.png to also save a
// screenshot of the page.
func TestBrowser_Dashboard(t *testing.T) {
	bin := chromium(t)
	st := MustOpenShop(t)
	const token = "browser-test-token"
	s, logs := MustNew(t, server.Config{
		ReadToken:  token,
		Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}},
	})
	ts := httptest.NewServer(s) // listens on 127.0.0.1:0
	defer ts.Close()

	const params = "from=2025-01-01&to=2025-03-31"
	page := ts.URL + "/?token=" + token + "&" + params
	dom := runChromium(t, bin, page, "--dump-dom")
	if testing.Verbose() {
		t.Logf("server log:\n%s", logs.String())
	}
	els := parseDOM(dom)

	var body *domElement
	for i := range els {
		if els[i].Tag == "body" {
			body = &els[i]
			break
		}
	}
	if body == nil || body.Attr["data-state"] != "ready" {
		var msg string
		for _, e := range els {
			if e.Attr["id"] == "error" {
				msg = e.Text
			}
		}
		t.Fatalf("the page did not get ready (state %v, error %q); DOM:\n%s", body, msg, dom)
	}
	for _, bad := range []string{"NaN", "Infinity", "undefined"} {
		if strings.Contains(dom, ">"+bad) || strings.Contains(dom, "\""+bad+"\"") {
			t.Errorf("the page shows %q", bad)
		}
	}

	rep := getReport(t, ts.URL, token, "by=channel&compare=previous&"+params)
	total := rep["total"].(map[string]any)
	previous := rep["previous"].(map[string]any)

	// KPI tiles.
	wantTiles := []string{"cost", "leads", "cpl", "new_customers", "cac", "revenue", "roas", "romi"}
	var tiles []string
	for _, e := range els {
		if e.Attr["data-scope"] != "total" {
			continue
		}
		key := e.Attr["data-metric"]
		tiles = append(tiles, key)
		want, ok := jsonValue(t, total, key)
		checkFigure(t, "tile "+key, e, want, ok)
		if e.Text == "" {
			t.Errorf("tile %s shows nothing", key)
		}
		prev, pok := jsonValue(t, previous, key)
		checkFigure(t, "tile "+key+" (previous)", domElement{Tag: "p", Attr: map[string]string{"data-value": e.Attr["data-previous"]}, Text: "x"}, prev, pok)
	}
	if fmt.Sprint(tiles) != fmt.Sprint(wantTiles) {
		t.Errorf("tiles %v, want %v", tiles, wantTiles)
	}
	deltas := 0
	for _, e := range els {
		if e.Attr["data-delta"] != "" {
			deltas++
		}
	}
	if deltas != len(wantTiles) {
		t.Errorf("%d tiles show a change against the previous period, want %d", deltas, len(wantTiles))
	}

	// Channel table: every column of query.ReportColumns for every row.
	type cellKey struct{ channel, metric string }
	cells := map[cellKey]domElement{}
	totals := map[string]domElement{}
	for _, e := range els {
		switch {
		case e.Attr["data-channel"] != "" && e.Attr["data-metric"] != "":
			k := cellKey{e.Attr["data-channel"], e.Attr["data-metric"]}
			if _, dup := cells[k]; dup {
				t.Errorf("cell %v appears twice", k)
			}
			cells[k] = e
		case e.Attr["data-scope"] == "table-total":
			totals[e.Attr["data-metric"]] = e
		}
	}
	rows := rep["rows"].([]any)
	if len(rows) < 3 {
		t.Fatalf("the API report has %d rows; the test data should give 3 channels", len(rows))
	}
	nulls := 0
	for _, r := range rows {
		row := r.(map[string]any)
		ch := row["channel"].(string)
		for _, c := range query.ReportColumns {
			e, ok := cells[cellKey{ch, c.Key}]
			if !ok {
				t.Errorf("no table cell for %s / %s", ch, c.Key)
				continue
			}
			want, wok := jsonValue(t, row, c.Key)
			if !wok {
				nulls++
			}
			checkFigure(t, "cell "+ch+"/"+c.Key, e, want, wok)
			delete(cells, cellKey{ch, c.Key})
		}
	}
	for k := range cells {
		t.Errorf("table cell %v is not in the API answer", k)
	}
	if nulls == 0 {
		t.Error("the test data should give some null ratios")
	}
	for _, c := range query.ReportColumns {
		e, ok := totals[c.Key]
		if !ok {
			t.Errorf("no total cell for %s", c.Key)
			continue
		}
		want, wok := jsonValue(t, total, c.Key)
		checkFigure(t, "total "+c.Key, e, want, wok)
	}

	// The chart: drawn as SVG by ECharts, and its data equal to by=week
	// (90 days is under the ~4 months that switch to months).
	chartAt := -1
	for _, e := range els {
		if e.Attr["id"] == "chart" {
			chartAt = e.Start
		}
	}
	if chartAt < 0 {
		t.Fatal("no chart container")
	}
	after := dom[chartAt:]
	svgAt, svgEnd := strings.Index(after, "<svg"), strings.Index(after, "</svg>")
	if svgAt < 0 || svgAt > 2000 || svgEnd < svgAt || strings.Count(after[svgAt:svgEnd], "<path") < 3 {
		t.Errorf("the chart container holds no SVG drawing: %.600s", after)
	}
	series := getReport(t, ts.URL, token, "by=week&"+params)
	byPeriod := map[string]map[string]any{}
	for _, r := range series["rows"].([]any) {
		row := r.(map[string]any)
		byPeriod[row["period"].(string)] = row
	}
	points := 0
	for _, e := range els {
		p, m := e.Attr["data-period"], e.Attr["data-metric"]
		if p == "" || m == "" {
			continue
		}
		points++
		want, ok := 0.0, true
		if row := byPeriod[p]; row != nil {
			want, ok = jsonValue(t, row, m)
			delete(row, m)
		}
		checkFigure(t, "chart "+p+"/"+m, e, want, ok)
	}
	if points < 2*13 {
		t.Errorf("the chart has %d values, want one spend and one revenue per week (≥ 26)", points)
	}
	for p, row := range byPeriod {
		for _, m := range []string{"cost", "revenue"} {
			if _, left := row[m]; left {
				t.Errorf("the chart lacks %s of week %s", m, p)
			}
		}
	}

	if path := os.Getenv("BOWTIE_SCREENSHOT"); path != "" {
		runChromium(t, bin, page, "--hide-scrollbars", "--window-size=1400,1000", "--screenshot="+path)
		t.Logf("screenshot: %s", path)
	}
}
