package server_test

import (
	"context"
	"fmt"
	"html"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/demo"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
)

// demoEventsBrowser is the size of the demo stores the revenue views are
// tested on: small, but with subscriptions, orders, deals and referrals.
const demoEventsBrowser = 40_000

var (
	demoStoresMu sync.Mutex
	demoStores   = map[string]*duckdb.Store{}
)

// demoStoreFor returns the demo of business (b2b or b2c) at
// demoEventsBrowser, generated once per test binary (seed 1, up to
// demo.ReferenceDate: 18 months for b2c, 3 years for b2b, whose contract
// renewals start a year after the first service contract).
func demoStoreFor(t *testing.T, business string) *duckdb.Store {
	t.Helper()
	demoStoresMu.Lock()
	defer demoStoresMu.Unlock()
	if st := demoStores[business]; st != nil {
		return st
	}
	st, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	opts := demo.Options{Business: business, Seed: 1, Events: demoEventsBrowser}
	if business == "b2b" {
		opts.Start, opts.End = demo.ReferenceDate.AddDate(-3, 0, 0), demo.ReferenceDate
	}
	if _, err := demo.Generate(context.Background(), st, opts); err != nil {
		t.Fatal(err)
	}
	demoStores[business] = st
	return st
}

// frameScript drives a dashboard view inside an iframe of the same
// origin: it waits for the view to be ready, sets the control #id to
// value (a select) or clicks the button [attr=value], waits for the view
// to be ready again, and copies the view's URL (data-url) and its <main>
// into this page for --dump-dom. Console messages of the frame become
// data-console.
const frameScript = `
const q = new URLSearchParams(location.search);
const frame = document.createElement('iframe');
frame.style.width = '1400px'; frame.style.height = '1800px';
frame.src = '/?' + q.get('page');
document.body.append(frame);
const logs = [];
const ready = () => new Promise((resolve, reject) => {
  const t0 = Date.now();
  const poll = () => {
    const b = frame.contentDocument && frame.contentDocument.body;
    if (b && b.dataset.state === 'ready' && frame.contentDocument.getElementById('main').getAttribute('aria-busy') === 'false') resolve();
    else if (b && b.dataset.state === 'error') reject(new Error(frame.contentDocument.getElementById('error').textContent));
    else if (Date.now() - t0 > 20000) reject(new Error('timeout'));
    else setTimeout(poll, 50);
  };
  poll();
});
frame.addEventListener('load', () => {
  const w = frame.contentWindow;
  for (const k of ['error', 'warn', 'log']) {
    const orig = w.console[k];
    w.console[k] = (...a) => { logs.push(k + ': ' + a.join(' ')); orig.apply(w.console, a); };
  }
  w.addEventListener('error', (e) => logs.push('error: ' + e.message));
}, { once: true });
(async () => {
  try {
    await ready();
    const d = frame.contentDocument;
    if (q.get('select')) {
      const s = d.getElementById(q.get('select'));
      s.value = q.get('value');
      s.dispatchEvent(new Event('change'));
    } else {
      d.querySelector('[' + q.get('click') + '="' + q.get('value') + '"]').click();
    }
    await new Promise((r) => setTimeout(r, 100));
    await ready();
    document.body.dataset.url = frame.contentWindow.location.search;
    document.body.append(document.importNode(d.getElementById('main'), true));
    document.body.dataset.state = 'ready';
  } catch (e) {
    document.body.dataset.state = 'error: ' + e.message;
  }
  document.body.dataset.console = logs.join('\n');
  frame.remove();
})();
`

// mustServeDemo serves the demo of business as workspace "demo", open to
// loopback requests, with the frame page at /test/frame.html.
func mustServeDemo(t *testing.T, business string) *httptest.Server {
	t.Helper()
	st := demoStoreFor(t, business)
	s, _ := MustNew(t, server.Config{
		Workspaces: []server.Workspace{{Name: "demo", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, business)}},
	})
	mux := http.NewServeMux()
	// The dashboard refuses to be framed (frame-ancestors 'none'); the
	// frame page of this test, on the same origin, is let in.
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(frameable{w}, r)
	}))
	mux.HandleFunc("/test/frame.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><meta charset="utf-8"></head><body data-state="loading"><script type="module" src="/test/frame.js"></script></body></html>`)
	})
	mux.HandleFunc("/test/frame.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		fmt.Fprint(w, frameScript)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

// frameable lets the test's frame page show the dashboard: it turns the
// Content Security Policy's frame-ancestors 'none' into 'self'.
type frameable struct{ http.ResponseWriter }

func (f frameable) WriteHeader(code int) {
	h := f.Header()
	h.Set("Content-Security-Policy", strings.ReplaceAll(h.Get("Content-Security-Policy"), "frame-ancestors 'none'", "frame-ancestors 'self'"))
	h.Del("X-Frame-Options")
	f.ResponseWriter.WriteHeader(code)
}

func (f frameable) Write(b []byte) (int, error) {
	if f.Header().Get("Content-Security-Policy") != "" && strings.Contains(f.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		f.WriteHeader(http.StatusOK)
	}
	return f.ResponseWriter.Write(b)
}

// runChromiumConsole runs headless Chromium on url like runChromium and
// also returns the page's console messages (Chromium logs them to
// stderr).
func runChromiumConsole(t *testing.T, bin, url string, extra ...string) (string, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(), "--virtual-time-budget=20000",
		"--enable-logging=stderr", "--v=0",
	}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	var console []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			console = append(console, l)
		}
	}
	return string(out), console
}

// openDemoView opens a view of the demo server and returns its DOM once
// ready; the page must log nothing to the console and show no NaN. With
// BOWTIE_SCREENSHOT_DIR set it also saves a screenshot there.
func openDemoView(t *testing.T, bin, base, params string) (string, []domElement) {
	t.Helper()
	page := base + "/?" + params
	dom, console := runChromiumConsole(t, bin, page, "--dump-dom")
	if os.Getenv("BOWTIE_DEBUG_DOM") != "" {
		os.WriteFile(os.Getenv("BOWTIE_DEBUG_DOM"), []byte(dom), 0o644)
	}
	if len(console) > 0 {
		t.Errorf("%s: console messages:\n%s", params, strings.Join(console, "\n"))
	}
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
		t.Fatalf("%s: the page did not get ready (state %q, error %q)", params, state, msg)
	}
	for _, bad := range []string{"NaN", "Infinity", "undefined", "null"} {
		if strings.Contains(dom, ">"+bad) || strings.Contains(dom, "\""+bad+"\"") {
			t.Errorf("%s: the page shows %q", params, bad)
		}
	}
	if dir := os.Getenv("BOWTIE_SCREENSHOT_DIR"); dir != "" {
		name := strings.NewReplacer("&", "_", "=", "-").Replace(params)
		runChromium(t, bin, page, "--hide-scrollbars", "--window-size=1400,3400", "--screenshot="+dir+"/"+name+".png")
	}
	return dom, els
}

// switchView opens page in the frame page, sets a select (ctl "select")
// or clicks a button (ctl the attribute) to value, and returns the URL of
// the view afterwards and its <main>.
func switchView(t *testing.T, bin, base, page, ctl, id, value string) (string, []domElement) {
	t.Helper()
	q := url.Values{"page": {page}, "value": {value}}
	if ctl == "select" {
		q.Set("select", id)
	} else {
		q.Set("click", id)
	}
	dom, console := runChromiumConsole(t, bin, base+"/test/frame.html?"+q.Encode(), "--dump-dom")
	if len(console) > 0 {
		t.Errorf("%s → %s=%s: console messages:\n%s", page, id, value, strings.Join(console, "\n"))
	}
	els := parseDOM(dom)
	var body domElement
	for _, e := range els {
		if e.Tag == "body" {
			body = e
			break
		}
	}
	if body.Attr["data-state"] != "ready" {
		t.Fatalf("%s → %s=%s: state %q", page, id, value, body.Attr["data-state"])
	}
	if c := body.Attr["data-console"]; c != "" {
		t.Errorf("%s → %s=%s: console messages:\n%s", page, id, value, c)
	}
	return body.Attr["data-url"], els
}

// shown checks that an element shows the API's value v: its data-value
// is the number, or empty and the text "—" for null. Numbers may differ
// by tol relative to the API's (DuckDB sums in parallel, so the page's
// request and the test's can differ in the last bits, and a model fitted
// on them a little more).
func shown(t *testing.T, what string, e domElement, v any, tol float64) {
	t.Helper()
	raw, has := e.Attr["data-value"]
	if !has {
		t.Errorf("%s: no data-value", what)
		return
	}
	want, ok := num(v)
	if !ok {
		if raw != "" || e.Text != "—" {
			t.Errorf("%s: shows %q (data-value %q), want — for null", what, e.Text, raw)
		}
		return
	}
	got, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s: page shows %q, API says %v", what, raw, want)
	}
	if e.Text == "" || e.Text == "—" {
		t.Errorf("%s: no visible figure for %v", what, want)
	}
}

// checkScope compares every figure with data-scope scope against the
// API: want(key, metric) returns the JSON value for the element's
// keyAttr and data-metric (ok false: not in the answer, an error). It
// returns the number of figures checked.
func checkScope(t *testing.T, els []domElement, scope, keyAttr string, want func(key, metric string) (any, bool)) int {
	t.Helper()
	return checkScopeTol(t, els, scope, keyAttr, 1e-12, want)
}

// checkScopeTol is checkScope with a relative tolerance (see shown).
func checkScopeTol(t *testing.T, els []domElement, scope, keyAttr string, tol float64, want func(key, metric string) (any, bool)) int {
	t.Helper()
	n := 0
	seen := map[string]bool{}
	for _, e := range els {
		if e.Attr["data-scope"] != scope {
			continue
		}
		key, metric := e.Attr[keyAttr], e.Attr["data-metric"]
		id := scope + "/" + key + "/" + metric
		if seen[id] {
			t.Errorf("figure %s appears twice", id)
		}
		seen[id] = true
		v, ok := want(key, metric)
		if !ok {
			t.Errorf("figure %s is not in the API answer", id)
			continue
		}
		shown(t, id, e, v, tol)
		n++
	}
	return n
}

// rowsBy indexes the JSON objects of list by their field key.
func rowsBy(list any, key string) map[string]map[string]any {
	out := map[string]map[string]any{}
	l, _ := list.([]any)
	for _, x := range l {
		m := x.(map[string]any)
		out[fmt.Sprint(m[key])] = m
	}
	return out
}

// field returns m[k] and whether m has it.
func field(m map[string]any, k string) (any, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m[k]
	return v, ok
}

// TestBrowser_Revenue opens the Revenue view on the B2C demo and checks
// every figure against GET /api/v1/revenue for the same request: the
// tiles and the waterfall of the selected period (its closing bar equals
// the MRR tile and the API's closing MRR; the movements carry their sign),
// every cell of the period table and of the breakdown table (whose total
// row is the period's). Changing the breakdown or the period in the page
// updates the URL and the figures; nothing is logged to the console.
func TestBrowser_Revenue(t *testing.T) {
	bin := chromium(t)
	ts := mustServeDemo(t, "b2c")
	const rng = "from=2025-11-01&to=2026-10-31"

	check := func(t *testing.T, els []domElement, res map[string]any, period string, want int) {
		t.Helper()
		periods := rowsBy(res["periods"], "period")
		if len(periods) != want {
			t.Fatalf("the API has %d periods, want %d", len(periods), want)
		}
		p := periods[period]
		if c, _ := num(p["closing_mrr"]); c <= 0 {
			t.Fatalf("the demo should have MRR in %s: %v", period, p)
		}
		tiles := checkScope(t, els, "period", "data-kpi", func(_, m string) (any, bool) { return field(p, m) })
		if tiles != 8 {
			t.Errorf("%d tiles, want 8", tiles)
		}
		signs := map[string]float64{"opening_mrr": 1, "new_mrr": 1, "expansion_mrr": 1, "reactivation_mrr": 1, "contraction_mrr": -1, "churned_mrr": -1, "closing_mrr": 1}
		var closingTile, closingBar string
		for _, e := range els {
			if e.Attr["data-scope"] == "period" && e.Attr["data-metric"] == "closing_mrr" {
				closingTile = e.Attr["data-value"]
			}
			if e.Attr["data-scope"] == "waterfall" && e.Attr["data-metric"] == "closing_mrr" {
				closingBar = e.Attr["data-value"]
			}
		}
		if want := strconv.FormatFloat(p["closing_mrr"].(float64), 'f', -1, 64); closingTile != want || closingBar != want {
			t.Errorf("closing MRR: tile %q, waterfall %q, API %s", closingTile, closingBar, want)
		}
		bars := checkScope(t, els, "waterfall", "data-period", func(k, m string) (any, bool) {
			v, ok := field(periods[k], m)
			if !ok || k != period {
				return nil, false
			}
			return signs[m] * v.(float64), true
		})
		if bars != 7 {
			t.Errorf("%d waterfall bars, want 7", bars)
		}
		if n := checkScope(t, els, "periods", "data-period", func(k, m string) (any, bool) { return field(periods[k], m) }); n != want*14 {
			t.Errorf("%d period cells, want %d", n, want*14)
		}
		groups := map[string]map[string]any{}
		for _, g := range res["groups"].([]any) {
			if gm := g.(map[string]any); gm["period"] == period {
				groups[gm["group"].(string)] = gm
			}
		}
		if len(groups) < 2 {
			t.Fatalf("the API has %d groups in %s", len(groups), period)
		}
		if n := checkScope(t, els, "group", "data-group", func(k, m string) (any, bool) { return field(groups[k], m) }); n != 11*len(groups) {
			t.Errorf("%d group cells, want %d", n, 11*len(groups))
		}
		if n := checkScope(t, els, "group-total", "x", func(_, m string) (any, bool) { return field(p, m) }); n != 11 {
			t.Errorf("%d group total cells, want 11", n)
		}
	}

	t.Run("OK", func(t *testing.T) {
		dom, els := openDemoView(t, bin, ts.URL, "view=revenue&grain=month&by=plan&"+rng)
		for _, id := range []string{"revenue-waterfall", "revenue-trend", "revenue-retention"} {
			svgIn(t, dom, els, id)
		}
		res := getAPI(t, ts.URL, "", "/api/v1/revenue", "grain=month&by=plan&"+rng)
		check(t, els, res, "2026-10-01", 12)
		// The trailing-12-month rates are in the NRR and GRR tiles' notes.
		ret := getAPI(t, ts.URL, "", "/api/v1/revenue/retention", rng)
		last := rowsBy(ret["periods"], "period")["2026-10-01"]
		if v, ok := num(last["nrr_t12m"]); ok && !strings.Contains(dom, "trailing 12 months") {
			t.Errorf("the NRR tile does not show the trailing-12-month NRR %v", v)
		}
	})

	t.Run("SwitchBreakdown", func(t *testing.T) {
		u, els := switchView(t, bin, ts.URL, "view=revenue&grain=month&by=plan&"+rng, "select", "revenue-by", "channel")
		if q, _ := url.ParseQuery(strings.TrimPrefix(u, "?")); q.Get("by") != "channel" || q.Get("view") != "revenue" {
			t.Errorf("the URL after the switch is %q, want by=channel", u)
		}
		check(t, els, getAPI(t, ts.URL, "", "/api/v1/revenue", "grain=month&by=channel&"+rng), "2026-10-01", 12)
	})

	t.Run("SwitchPeriod", func(t *testing.T) {
		u, els := switchView(t, bin, ts.URL, "view=revenue&grain=month&by=cohort&"+rng, "select", "revenue-period", "2026-03-01")
		if q, _ := url.ParseQuery(strings.TrimPrefix(u, "?")); q.Get("period") != "2026-03-01" || q.Get("by") != "cohort" {
			t.Errorf("the URL after the switch is %q, want period=2026-03-01", u)
		}
		check(t, els, getAPI(t, ts.URL, "", "/api/v1/revenue", "grain=month&by=cohort&"+rng), "2026-03-01", 12)
	})

	t.Run("Weeks", func(t *testing.T) {
		const weeks = "from=2026-08-03&to=2026-10-25" // Mondays to Sundays: 12 ISO weeks
		dom, els := openDemoView(t, bin, ts.URL, "view=revenue&grain=week&by=channel&"+weeks)
		svgIn(t, dom, els, "revenue-waterfall")
		check(t, els, getAPI(t, ts.URL, "", "/api/v1/revenue", "grain=week&by=channel&"+weeks), "2026-10-19", 12)
	})
}

// TestBrowser_Orders opens the Orders & renewals view on both demos and
// checks every tile against GET /api/v1/orders, /renewals and /referrals
// and every cell of the product-line table against /orders (lines, and
// by=product_line for orders, AOV and margin), and that the view shows
// what the workspace has data for: renewals and the referred share of
// new business for B2B, the K-factor and invite conversion for B2C.
func TestBrowser_Orders(t *testing.T) {
	bin := chromium(t)
	for _, tc := range []struct {
		business, rng string
		want, none    []string // tiles shown and not shown
	}{
		{"b2b", "from=2023-11-01&to=2026-10-31", []string{"renewal_rate", "renewal_uplift", "referred_share"}, []string{"k_factor", "invite_conversion"}},
		{"b2c", "from=2025-05-01&to=2026-10-31", []string{"k_factor", "invite_conversion", "invites_per_user", "cycle_days"}, []string{"renewal_rate", "referred_share"}},
	} {
		t.Run(tc.business, func(t *testing.T) {
			ts := mustServeDemo(t, tc.business)
			rng := tc.rng
			dom, els := openDemoView(t, bin, ts.URL, "view=orders&"+rng)
			apis := map[string]map[string]any{
				"orders":    getAPI(t, ts.URL, "", "/api/v1/orders", rng),
				"renewals":  getAPI(t, ts.URL, "", "/api/v1/renewals", rng),
				"referrals": getAPI(t, ts.URL, "", "/api/v1/referrals", rng),
			}
			tiles := map[string]bool{}
			for _, e := range els {
				if k := e.Attr["data-kpi"]; k != "" {
					tiles[k] = true
				}
			}
			for _, k := range tc.want {
				if !tiles[k] {
					t.Errorf("no %s tile; tiles %v", k, tiles)
				}
			}
			for _, k := range tc.none {
				if tiles[k] {
					t.Errorf("a %s tile, but the workspace has no data for it", k)
				}
			}
			if orders := apis["orders"]["total"].(map[string]any)["orders"].(float64); (orders > 0) != tiles["aov"] {
				t.Errorf("%v paid orders, AOV tile shown %v", orders, tiles["aov"])
			}
			n := 0
			for scope, res := range apis {
				n += checkScope(t, els, scope, "x", func(_, path string) (any, bool) { return jsonAt(res, path) })
			}
			if n < len(tc.want) {
				t.Errorf("%d tile figures checked", n)
			}

			lines := rowsBy(apis["orders"]["lines"], "product_line")
			byLine := rowsBy(getAPI(t, ts.URL, "", "/api/v1/orders", "by=product_line&"+rng)["rows"], "group")
			if len(lines) == 0 {
				t.Fatal("the demo should have revenue by product line")
			}
			cells := checkScope(t, els, "line", "data-line", func(line, m string) (any, bool) {
				l, ok := lines[line]
				if !ok {
					return nil, false
				}
				switch m {
				case "orders_revenue", "deals_revenue", "revenue", "share":
					return field(l, m)
				}
				r := byLine[line]
				if r == nil { // no paid order of this line
					if m == "orders" {
						return 0.0, true
					}
					return nil, true
				}
				return field(r, m)
			})
			if cells != 7*len(lines) {
				t.Errorf("%d product-line cells, want %d", cells, 7*len(lines))
			}
			svgIn(t, dom, els, "lines-chart")
		})
	}
}

// at returns the value at a dotted path of decoded JSON, numbers
// indexing arrays.
func at(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		switch c := v.(type) {
		case nil: // a null object: its figures are null
			return nil, true
		case map[string]any:
			x, ok := c[k]
			if !ok {
				return nil, false
			}
			v = x
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// TestBrowser_LTV opens the LTV & payback view on the B2C demo for each
// model and checks every figure against GET /api/v1/payback (by channel,
// with the model) and GET /api/v1/ltv (the model's table; for bgnbd the
// hold-out check by frequency) and the cohort ROAS curves against
// /api/v1/payback?by=cohort; that the assumptions are shown; and that
// choosing another model in the page updates the URL and the figures.
func TestBrowser_LTV(t *testing.T) {
	bin := chromium(t)
	ts := mustServeDemo(t, "b2c")
	const rng = "from=2025-11-01&to=2026-10-31"

	// The page's request and the test's fit the models apart: a fit
	// ends where the optimiser stops, so their figures agree to about
	// 1e-5 relative (sums of the same data agree to ~1e-15).
	const modelTol = 1e-4
	check := func(t *testing.T, els []domElement, model string) {
		t.Helper()
		pay := getAPI(t, ts.URL, "", "/api/v1/payback", "by=channel&models="+model+"&"+rng)
		groups := rowsBy(pay["rows"], "group")
		if len(groups) < 2 {
			t.Fatalf("the API has %d channels", len(groups))
		}
		if n := checkScopeTol(t, els, "payback", "data-group", modelTol, func(g, m string) (any, bool) { return at(groups[g], m) }); n != 7*len(groups) {
			t.Errorf("%d payback cells, want %d", n, 7*len(groups))
		}
		if n := checkScopeTol(t, els, "payback-total", "x", modelTol, func(_, m string) (any, bool) { return at(pay["total"], m) }); n != 7 {
			t.Errorf("%d payback total cells, want 7", n)
		}
		ltv := getAPI(t, ts.URL, "", "/api/v1/ltv", "model="+model+"&by=channel&as_of=2026-10-31")
		list, total := "rows", "total"
		switch model {
		case "historical":
			list, total = "totals", ""
		case "sbg":
			total = "pooled"
		}
		rows := rowsBy(ltv[list], "group")
		if n := checkScopeTol(t, els, "ltv", "data-group", modelTol, func(g, m string) (any, bool) { return at(rows[g], m) }); n < len(rows) {
			t.Errorf("%d %s cells for %d groups", n, model, len(rows))
		}
		if total != "" {
			if n := checkScopeTol(t, els, "ltv-total", "x", modelTol, func(_, m string) (any, bool) { return at(ltv[total], m) }); n < 4 {
				t.Errorf("%d %s total cells", n, model)
			}
		}
		if model == "bgnbd" {
			byX := rowsBy(ltv["check"].(map[string]any)["by_frequency"], "x")
			if n := checkScopeTol(t, els, "check", "data-x", modelTol, func(x, m string) (any, bool) { return at(byX[x], m) }); n != 3*len(byX) || len(byX) == 0 {
				t.Errorf("%d fit check cells for %d frequencies", n, len(byX))
			}
			weeks := rowsBy(ltv["check"].(map[string]any)["tracking"], "week")
			if n := checkScopeTol(t, els, "tracking", "data-week", modelTol, func(w, m string) (any, bool) { return at(weeks[w], m) }); n != 2*len(weeks) || len(weeks) < 10 {
				t.Errorf("%d tracking cells for %d weeks", n, len(weeks))
			}
		}
		cohorts := rowsBy(getAPI(t, ts.URL, "", "/api/v1/payback", "by=cohort&models=historical&"+rng)["rows"], "group")
		if n := checkScopeTol(t, els, "roas", "data-group", 1e-12, func(g, m string) (any, bool) { return at(cohorts[g], m) }); n < len(cohorts) || len(cohorts) < 6 {
			t.Errorf("%d ROAS cells for %d cohorts", n, len(cohorts))
		}
		// The assumptions are printed beside the numbers.
		notes := 0
		for _, e := range els {
			if e.Tag == "dd" && e.Text != "" {
				notes++
			}
		}
		if notes < 6 {
			t.Errorf("%d assumptions shown", notes)
		}
	}

	for _, model := range []string{"historical", "formula", "sbg", "bgnbd"} {
		t.Run(model, func(t *testing.T) {
			dom, els := openDemoView(t, bin, ts.URL, "view=ltv&model="+model+"&"+rng)
			svgIn(t, dom, els, "payback-chart")
			svgIn(t, dom, els, "roas-chart")
			if model == "bgnbd" {
				svgIn(t, dom, els, "bgnbd-check")
				svgIn(t, dom, els, "bgnbd-tracking")
			}
			check(t, els, model)
		})
	}

	t.Run("SwitchModel", func(t *testing.T) {
		u, els := switchView(t, bin, ts.URL, "view=ltv&model=historical&"+rng, "click", "data-ltv-model", "bgnbd")
		if q, _ := url.ParseQuery(strings.TrimPrefix(u, "?")); q.Get("model") != "bgnbd" || q.Get("view") != "ltv" {
			t.Errorf("the URL after the switch is %q, want model=bgnbd", u)
		}
		check(t, els, "bgnbd")
	})
}

// TestBrowser_LTVB2B opens the LTV & payback view on the B2B demo (deals
// and parts orders, no subscriptions) with the two fitted models: the page gets
// ready, the payback table equals the API's, and a model the data cannot
// identify shows the API's reason in its card instead of failing the view.
func TestBrowser_LTVB2B(t *testing.T) {
	bin := chromium(t)
	ts := mustServeDemo(t, "b2b")
	const rng = "from=2025-11-01&to=2026-10-31"
	for _, model := range []string{"sbg", "bgnbd"} {
		t.Run(model, func(t *testing.T) {
			dom, els := openDemoView(t, bin, ts.URL, "view=ltv&model="+model+"&"+rng)
			pay := getAPI(t, ts.URL, "", "/api/v1/payback", "by=channel&models="+model+"&"+rng)
			groups := rowsBy(pay["rows"], "group")
			if n := checkScopeTol(t, els, "payback", "data-group", 1e-4, func(g, m string) (any, bool) { return at(groups[g], m) }); n != 7*len(groups) || n == 0 {
				t.Errorf("%d payback cells for %d channels", n, len(groups))
			}
			req, _ := http.NewRequest("GET", ts.URL+"/api/v1/ltv?model="+model+"&by=channel&as_of=2026-10-31", nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode == http.StatusBadRequest {
				msg := apiError(t, ts.URL, "", "/api/v1/ltv", "model="+model+"&by=channel&as_of=2026-10-31")
				if !strings.Contains(dom, html.EscapeString(msg)) {
					t.Errorf("the page does not show the API's reason %q", msg)
				}
				t.Logf("%s: %s", model, msg)
			} else {
				ltv := getAPI(t, ts.URL, "", "/api/v1/ltv", "model="+model+"&by=channel&as_of=2026-10-31")
				list := "rows"
				if model == "historical" {
					list = "totals"
				}
				rows := rowsBy(ltv[list], "group")
				if n := checkScopeTol(t, els, "ltv", "data-group", 1e-4, func(g, m string) (any, bool) { return at(rows[g], m) }); n < len(rows) {
					t.Errorf("%d %s cells for %d groups", n, model, len(rows))
				}
			}
		})
	}
}
