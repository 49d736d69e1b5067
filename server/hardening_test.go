package server_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/ingest"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
)

// TestServer_Host covers the defence against DNS rebinding: without a read
// token, the read API, /metrics and the dashboard answer only loopback
// names and the configured hosts; the collection API, the tracking script
// and /healthz answer any name; a token lifts the restriction.
func TestServer_Host(t *testing.T) {
	st := MustOpenShop(t)
	ws := []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}}
	open, _ := MustNew(t, server.Config{Workspaces: ws, AllowedHosts: []string{"Bowtie.LAN"}})
	host := func(h string) map[string]string { return map[string]string{"Host": h} }
	for _, sc := range []apiScenario{
		{Name: "ErrEvilAPI", URL: "/api/v1/workspaces", Header: host("evil.example"), WantStatus: 403, WantCode: "forbidden",
			WantContent: []string{`\"evil.example\"`, "read token"}},
		{Name: "ErrEvilAPIWithPort", URL: "/api/v1/report", Header: host("evil.example:8080"), WantStatus: 403, WantCode: "forbidden"},
		{Name: "ErrEvilUnknownEndpoint", URL: "/api/v1/nope", Header: host("evil.example"), WantStatus: 403, WantCode: "forbidden"},
		{Name: "ErrEvilDashboard", URL: "/", Header: host("evil.example"), WantStatus: 403, NotWantContent: []string{"app.js"}},
		{Name: "ErrEvilScript", URL: "/app.js", Header: host("evil.example"), WantStatus: 403},
		{Name: "ErrEvilMetrics", URL: "/metrics", Header: host("evil.example"), WantStatus: 403, WantCode: "forbidden"},
		{Name: "ErrLocalhostSuffix", URL: "/api/v1/workspaces", Header: host("localhost.evil.example"), WantStatus: 403, WantCode: "forbidden"},
		{Name: "ErrPrivateIP", URL: "/api/v1/workspaces", Header: host("192.168.1.20:8080"), WantStatus: 403, WantCode: "forbidden"},
		{Name: "ErrUnspecified", URL: "/api/v1/workspaces", Header: host("0.0.0.0:8080"), WantStatus: 403, WantCode: "forbidden"},
		{Name: "ErrNoHost", URL: "/api/v1/workspaces", Header: host(""), WantStatus: 403, WantCode: "forbidden"},
		{Name: "Localhost", URL: "/api/v1/workspaces", Header: host("localhost:8080"), WantStatus: 200},
		{Name: "LocalhostUpperDot", URL: "/api/v1/workspaces", Header: host("LOCALHOST.:8080"), WantStatus: 200},
		{Name: "Loopback4", URL: "/api/v1/workspaces", Header: host("127.0.0.1"), WantStatus: 200},
		{Name: "Loopback4Net", URL: "/api/v1/workspaces", Header: host("127.8.9.10:80"), WantStatus: 200},
		{Name: "Loopback6", URL: "/api/v1/workspaces", Header: host("[::1]:8080"), WantStatus: 200},
		{Name: "ConfiguredHost", URL: "/api/v1/workspaces", Header: host("bowtie.lan:8080"), WantStatus: 200},
		{Name: "DashboardLocal", URL: "/", Header: host("127.0.0.1:8080"), WantStatus: 200, WantContent: []string{"app.js"}},
		{Name: "HealthAnyHost", URL: "/healthz", Header: host("evil.example"), WantStatus: 200},
		{Name: "TrackingScriptAnyHost", URL: "/bowtie.js", Header: host("collect.example"), WantStatus: 200},
		// Collection is off here: the answer is the collection API's own, not the Host refusal.
		{Name: "CollectAnyHost", Method: "POST", URL: "/v1/track", Header: host("collect.example"), WantStatus: 404, WantCode: bowtie.ENOTFOUND},
	} {
		sc.run(t, open)
	}

	locked, _ := MustNew(t, server.Config{Workspaces: ws, ReadToken: "0123456789abcdef"})
	for _, sc := range []apiScenario{
		{Name: "TokenAnyHost", URL: "/api/v1/workspaces", Header: map[string]string{"Host": "bowtie.example.com", "Authorization": "Bearer 0123456789abcdef"}, WantStatus: 200},
		{Name: "ErrTokenAnyHostNoToken", URL: "/api/v1/workspaces", Header: host("bowtie.example.com"), WantStatus: 401, WantCode: "unauthorized"},
	} {
		sc.run(t, locked)
	}
}

// TestServer_TokenRules: a read token must be long enough and fit in a
// cookie unchanged.
func TestServer_TokenRules(t *testing.T) {
	st := MustOpenShop(t)
	ws := []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}}
	for _, tok := range []string{"s3cret", "fifteen-chars!!", "sixteen chars ok", `sixteen-chars-"q"`, "sixteen-chars;;;", "sixteen-chars-\\\\", "sixteen-chärs-xx"} {
		if _, err := server.New(server.Config{Workspaces: ws, ReadToken: tok}); bowtie.ErrorCode(err) != bowtie.EINVALID || !strings.Contains(bowtie.ErrorMessage(err), "read token") {
			t.Errorf("token %q: err %v, want EINVALID about the read token", tok, err)
		}
	}
	for _, tok := range []string{"0123456789abcdef", "Zm9vYmFyYmF6cXV4Cg==", "a-b_c.d~e+f/g=h!i*j"} {
		if _, err := server.New(server.Config{Workspaces: ws, ReadToken: tok}); err != nil {
			t.Errorf("token %q: %v", tok, err)
		}
	}
}

// TestServer_SecureCookie: the token cookie is Secure when the request came
// over TLS, directly or through a trusted proxy.
func TestServer_SecureCookie(t *testing.T) {
	st := MustOpenShop(t)
	ws := []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}}
	const tok = "0123456789abcdef"
	direct, _ := MustNew(t, server.Config{Workspaces: ws, ReadToken: tok})
	proxied, _ := MustNew(t, server.Config{Workspaces: ws, ReadToken: tok, TrustProxy: true})
	for _, tc := range []struct {
		name       string
		h          http.Handler
		tls        bool
		proto      string
		wantSecure bool
	}{
		{"PlainHTTP", direct, false, "", false},
		{"TLS", direct, true, "", true},
		{"UntrustedForwardedProto", direct, false, "https", false},
		{"TrustProxy", proxied, false, "", true},
		{"TrustProxyHTTPS", proxied, false, "https", true},
		{"TrustProxySaysHTTP", proxied, false, "http", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/?token="+tok, nil)
			req.Host = "bowtie.example.com"
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, req)
			c := rec.Result().Cookies()
			if rec.Code != 303 || len(c) != 1 {
				t.Fatalf("status %d, cookies %+v", rec.Code, c)
			}
			if c[0].Secure != tc.wantSecure || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode || c[0].Path != "/" {
				t.Fatalf("cookie %+v: want Secure=%v, HttpOnly, SameSite=Strict, Path=/", c[0], tc.wantSecure)
			}
		})
	}
}

// TestCollect_ForwardedFor: behind a trusted proxy the sender is the
// right-most X-Forwarded-For entry (the one the proxy appended); what the
// client wrote to the left is ignored.
func TestCollect_ForwardedFor(t *testing.T) {
	for _, tc := range []struct {
		name       string
		trustProxy bool
		xff        []string
		want       string
	}{
		{"RightMost", true, []string{"1.2.3.4, 5.6.7.8"}, "5.6.7.8"},
		{"RightMostOfSeveralHeaders", true, []string{"1.2.3.4", "9.9.9.9, 5.6.7.8"}, "5.6.7.8"},
		{"WithPort", true, []string{"1.2.3.4, [2001:db8::1]:443"}, "2001:db8::1"},
		{"NotAnAddress", true, []string{"1.2.3.4, unknown"}, "127.0.0.1"},
		{"NoHeader", true, nil, "127.0.0.1"},
		{"Untrusted", false, []string{"1.2.3.4, 5.6.7.8"}, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := duckdb.Open(":memory:")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			sink, err := st.IngestSink(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			biz := MustBusiness(t, "b2c")
			biz.Ingest.IP = "keep"
			in, err := ingest.New(context.Background(), ingest.Config{Business: biz, Sink: sink, Sources: []bowtie.Source{{Name: "web", WriteKey: testKey}}})
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close(context.Background())
			s, _ := MustNew(t, server.Config{TrustProxy: tc.trustProxy,
				Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: biz, Ingest: in}}})
			ts := httptest.NewServer(s)
			defer ts.Close()
			req, _ := http.NewRequest("POST", ts.URL+"/v1/track", strings.NewReader(`{"event":"Clicked","anonymousId":"a1"}`))
			req.SetBasicAuth(testKey, "")
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			var ip string
			if err := st.DB().QueryRow(`SELECT properties->>'_ip' FROM events`).Scan(&ip); err != nil {
				t.Fatal(err)
			}
			if ip != tc.want {
				t.Fatalf("stored IP %q, want %q", ip, tc.want)
			}
		})
	}
}

// TestServer_ParamHygiene: a NUL byte, invalid UTF-8 or a broken escape in
// any API parameter is a 400 that names the parameter, never a 500.
func TestServer_ParamHygiene(t *testing.T) {
	st := MustOpenAnalyses(t)
	s, logs := MustNew(t, server.Config{Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}}})
	for _, tc := range []struct{ path, param, rest string }{
		{"/api/v1/funnel", "step", "&step=b"},
		{"/api/v1/funnel", "exclude", "&step=a&step=b"},
		{"/api/v1/retention", "cohort_event", ""},
		{"/api/v1/retention", "return", ""},
		{"/api/v1/activity", "event", ""},
		{"/api/v1/sales", "pipeline", ""},
		{"/api/v1/stages", "stages", ""},
		{"/api/v1/report", "by", ""},
		{"/api/v1/report", "workspace", ""},
		{"/api/v1/workspaces", "x", ""},
	} {
		for bad, enc := range map[string]string{"NUL": "a%00b", "InvalidUTF8": "a%ffb", "Latin1": "caf%e9"} {
			apiScenario{
				Name: tc.path + "/" + tc.param + "/" + bad, URL: tc.path + "?" + tc.param + "=" + enc + tc.rest,
				WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{tc.param + ":"},
			}.run(t, s)
		}
	}
	for _, sc := range []apiScenario{
		{Name: "ErrNameNUL", URL: "/api/v1/report?by%00=channel", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{`by\\x00`}},
		{Name: "ErrBadEscape", URL: "/api/v1/report?from=%zz", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"query string"}},
		{Name: "ErrSemicolon", URL: "/api/v1/report?from=2025-01-01;to=2025-02-01", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"query string"}},
		{Name: "UnicodeOK", URL: "/api/v1/activity?event=%E2%9C%93+Caf%C3%A9", WantStatus: 200},
	} {
		sc.run(t, s)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("a bad parameter reached the store:\n%s", logs.String())
	}
}

// TestCollect_URLEscapes: a page URL whose campaign parameters or click id
// decode to bytes that are not text (a Latin-1 link, caf%E9) is stored
// with U+FFFD in their place, not refused with a 500 that the sender's
// SDK would retry forever.
func TestCollect_URLEscapes(t *testing.T) {
	c := mustCollector(t, "b2c", nil)
	for i, u := range []string{
		"http://shop.example/?utm_source=news&utm_campaign=caf%E9",
		"http://shop.example/?utm_source=a%00%ffb",
		"http://shop.example/?gclid=G%ff1",
	} {
		body := `{"type":"track","event":"Viewed","anonymousId":"a` + string(rune('0'+i)) + `","context":{"page":{"url":"` + u + `"}}}`
		if code, _, res := c.post(t, "/v1/track", testKey, []byte(body)); code != 200 {
			t.Errorf("%s: %d %s", u, code, res)
		}
	}
	if n := c.count(t, `SELECT count(*) FROM events WHERE utm_campaign = 'caf'||chr(65533) OR utm_source = 'a'||chr(65533)||'b'`); n != 2 {
		t.Errorf("%d events with the replaced campaign parameters, want 2", n)
	}
	if n := c.count(t, `SELECT count(*) FROM events`); n != 3 {
		t.Errorf("%d events stored, want 3", n)
	}
}
