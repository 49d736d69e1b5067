package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
)

// xssPayload is a name that injects an element, and runs code, wherever it
// is taken as HTML.
const xssPayload = `<img src=x onerror="document.body.setAttribute('data-pwned','1')">`

// xssPage draws the funnel chart of the dashboard (web/funnels.js) with a
// step named xssPayload, and a plain ECharts chart with the payload as
// category and series name (the default tooltip, which the other views
// use), and shows both tooltips. It runs without the dashboard's Content
// Security Policy, so an injected handler would run.
const xssPage = `<!doctype html><html><head><meta charset="utf-8"></head><body>
<div id="funnel" style="width:600px;height:400px"></div>
<div id="plain" style="width:600px;height:400px"></div>
<script src="/vendor/echarts/echarts.min.js"></script>
<script type="module" src="/xss/test.js"></script>
</body></html>`

const xssScript = `import { renderChart } from '/funnels.js';
const name = ` + "`" + xssPayload + "`" + `;
const steps = [
  { name, count: 3, step_conversion: null, time_from_previous: { median: null } },
  { name: 'b', count: 1, step_conversion: 0.3333, time_from_previous: { median: 2 } },
];
const funnel = document.getElementById('funnel');
renderChart(funnel, steps, [name, 'b'], 'empty');
echarts.getInstanceByDom(funnel).dispatchAction({ type: 'showTip', seriesIndex: 0, dataIndex: 0 });
const plain = echarts.init(document.getElementById('plain'), null, { renderer: 'svg' });
plain.setOption({
  tooltip: { trigger: 'axis' }, legend: {},
  xAxis: { type: 'category', data: [name, 'b'] }, yAxis: { type: 'value' },
  series: [{ name, type: 'bar', data: [3, 1] }],
});
plain.dispatchAction({ type: 'showTip', seriesIndex: 0, dataIndex: 0 });
setTimeout(() => document.body.setAttribute('data-state', 'ready'), 1000);
`

// TestBrowser_TooltipEscapes: names in chart tooltips are text. A funnel
// step named like an element (steps come from the URL) shows as those
// characters; no element is injected and no handler runs.
func TestBrowser_TooltipEscapes(t *testing.T) {
	bin := chromium(t)
	st := MustOpenShop(t)
	s, _ := MustNew(t, server.Config{Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}}})
	mux := http.NewServeMux()
	mux.Handle("/", s)
	mux.HandleFunc("/xss/index.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(xssPage))
	})
	mux.HandleFunc("/xss/test.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write([]byte(xssScript))
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	dom := runChromium(t, bin, ts.URL+"/xss/index.html", "--dump-dom")
	var body domElement
	funnelTip, plainTip := false, false
	for _, e := range parseDOM(dom) {
		tooltip := strings.Contains(e.Attr["style"], "z-index: 9999999") // ECharts' tooltip box
		switch {
		case e.Tag == "body":
			body = e
		case e.Tag == "img":
			t.Errorf("an <img> was injected: %v", e.Attr)
		case e.Tag == "div" && tooltip && e.Text == xssPayload:
			funnelTip = true // the dashboard's formatter: the name, then the figures
		case (e.Tag == "div" || e.Tag == "span") && !tooltip && e.Text == xssPayload:
			plainTip = true // ECharts' own markup
		}
	}
	if body.Attr["data-state"] != "ready" {
		t.Fatalf("the test page did not finish:\n%s", dom)
	}
	if body.Attr["data-pwned"] != "" {
		t.Error("the injected handler ran")
	}
	if !funnelTip || !plainTip {
		t.Errorf("the name does not show as text in the funnel's tooltip (%v) or the default one (%v):\n%s", funnelTip, plainTip, dom)
	}
}
