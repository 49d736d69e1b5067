package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
)

// MustOpenShop returns an in-memory store holding testdata/shop.sql.
func MustOpenShop(tb testing.TB) *duckdb.Store {
	tb.Helper()
	st, err := duckdb.Open(":memory:")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	seed, err := os.ReadFile("testdata/shop.sql")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.DB().Exec(string(seed)); err != nil {
		tb.Fatalf("seed: %v", err)
	}
	return st
}

// MustBusiness returns the named preset.
func MustBusiness(tb testing.TB, preset string) *bowtie.Business {
	tb.Helper()
	b, err := bowtie.Preset(preset)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// MustNew returns a server over cfg with a captured log.
func MustNew(tb testing.TB, cfg server.Config) (*server.Server, *syncBuffer) {
	tb.Helper()
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := server.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s, logs
}

// apiScenario is one request and what its response must hold.
type apiScenario struct {
	Name       string
	Method     string // default GET
	URL        string
	Header     map[string]string
	WantStatus int
	// WantCode is the error code of an error response.
	WantCode string
	// WantContent must appear in the body; NotWantContent must not.
	WantContent    []string
	NotWantContent []string
	// WantHeader must be set to these values.
	WantHeader map[string]string
	// Check inspects the response further.
	Check func(t *testing.T, res *http.Response, body []byte)
}

func (sc apiScenario) run(t *testing.T, h http.Handler) {
	t.Run(sc.Name, func(t *testing.T) {
		method := sc.Method
		if method == "" {
			method = http.MethodGet
		}
		req := httptest.NewRequest(method, sc.URL, nil)
		// A browser on the same machine, unless the scenario names a host.
		req.Host = "localhost:8080"
		for k, v := range sc.Header {
			if k == "Host" {
				req.Host = v
				continue
			}
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		body := rec.Body.Bytes()
		if res.StatusCode != sc.WantStatus {
			t.Fatalf("status %d, want %d; body: %s", res.StatusCode, sc.WantStatus, body)
		}
		if sc.WantCode != "" {
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body is not JSON: %v: %s", err, body)
			}
			if e.Error.Code != sc.WantCode || e.Error.Message == "" {
				t.Fatalf("error %+v, want code %q and a message", e.Error, sc.WantCode)
			}
		}
		for _, s := range sc.WantContent {
			if !bytes.Contains(body, []byte(s)) {
				t.Errorf("body lacks %q: %s", s, body)
			}
		}
		for _, s := range sc.NotWantContent {
			if bytes.Contains(body, []byte(s)) {
				t.Errorf("body has %q: %s", s, body)
			}
		}
		for k, v := range sc.WantHeader {
			if got := res.Header.Get(k); got != v {
				t.Errorf("header %s = %q, want %q", k, got, v)
			}
		}
		if sc.Check != nil {
			sc.Check(t, res, body)
		}
	})
}

// sameReport checks that body is the JSON of RunReport for req.
func sameReport(st *duckdb.Store, biz *bowtie.Business, by []string, from, to string, compare bool) func(*testing.T, *http.Response, []byte) {
	return func(t *testing.T, res *http.Response, body []byte) {
		t.Helper()
		f, _ := time.Parse(time.DateOnly, from)
		tt, _ := time.Parse(time.DateOnly, to)
		rep, err := query.RunReport(context.Background(), st.DB(), query.DuckDB{}, biz, query.ReportRequest{By: by, From: f, To: tt, Compare: compare})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(rep)
		if got := bytes.TrimSpace(body); !bytes.Equal(got, want) {
			t.Fatalf("API answer differs from query.RunReport:\n got %s\nwant %s", got, want)
		}
	}
}

func TestServer_API(t *testing.T) {
	st := MustOpenShop(t)
	biz := MustBusiness(t, "b2c")
	s, _ := MustNew(t, server.Config{Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: biz}}})

	report := func(t *testing.T, body []byte) query.Report {
		t.Helper()
		var rep query.Report
		if err := json.Unmarshal(body, &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	for _, sc := range []apiScenario{
		{Name: "Health", URL: "/healthz", WantStatus: 200, WantContent: []string{`"status":"ok"`}},
		{
			Name: "Workspaces", URL: "/api/v1/workspaces", WantStatus: 200,
			WantHeader: map[string]string{"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"},
			WantContent: []string{`{"workspaces":[{"name":"shop","preset":"b2c","currency":"USD","time_zone":"UTC","customer_entity":"person",` +
				`"data":{"from":"2024-12-15","to":"2025-03-20"}}]}`},
		},
		{Name: "ErrWorkspacesUnknownParam", URL: "/api/v1/workspaces?x=1", WantStatus: 400, WantCode: bowtie.EINVALID},
		{
			Name: "Columns", URL: "/api/v1/report/columns", WantStatus: 200,
			Check: func(t *testing.T, _ *http.Response, body []byte) {
				var got struct {
					Columns    []query.ReportColumn
					Dimensions []string
				}
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatal(err)
				}
				if len(got.Columns) != len(query.ReportColumns) || got.Columns[0] != query.ReportColumns[0] || len(got.Dimensions) == 0 {
					t.Fatalf("columns %+v", got)
				}
			},
		},
		{
			Name: "ReportDefaultsToLast90DaysOfData", URL: "/api/v1/report", WantStatus: 200,
			WantContent: []string{`"from":"2024-12-21","to":"2025-03-20"`},
			Check:       sameReport(st, biz, []string{}, "2024-12-21", "2025-03-20", false),
		},
		{
			Name: "ReportByChannelCompare", URL: "/api/v1/report?workspace=shop&by=channel&from=2025-01-01&to=2025-03-31&compare=previous", WantStatus: 200,
			Check: func(t *testing.T, res *http.Response, body []byte) {
				sameReport(st, biz, []string{"channel"}, "2025-01-01", "2025-03-31", true)(t, res, body)
				rep := report(t, body)
				if rep.Total.Cost != 870.75 || rep.Total.Revenue != 198.98 || rep.Previous == nil || rep.Previous.Cost != 80 {
					t.Fatalf("total %+v previous %+v", rep.Total, rep.Previous)
				}
				if rep.PreviousFrom != "2024-10-03" || rep.PreviousTo != "2024-12-31" {
					t.Fatalf("previous period %s..%s", rep.PreviousFrom, rep.PreviousTo)
				}
			},
		},
		{
			Name: "ReportOnlyFromEndsWithData", URL: "/api/v1/report?from=2025-01-01", WantStatus: 200,
			WantContent: []string{`"from":"2025-01-01","to":"2025-03-20"`},
		},
		{
			Name: "ReportOnlyTo", URL: "/api/v1/report?to=2025-03-31", WantStatus: 200,
			WantContent: []string{`"from":"2025-01-01","to":"2025-03-31"`},
		},
		{
			Name: "ReportByMonth", URL: "/api/v1/report?by=month&from=2025-01-01&to=2025-03-31", WantStatus: 200,
			Check: sameReport(st, biz, []string{"month"}, "2025-01-01", "2025-03-31", false),
		},
		{
			Name: "ReportCSV", URL: "/api/v1/report?by=channel&from=2025-01-01&to=2025-03-31&format=csv", WantStatus: 200,
			WantHeader: map[string]string{
				"Content-Type":        "text/csv; charset=utf-8",
				"Content-Disposition": `attachment; filename="bowtie-report-shop-2025-01-01-2025-03-31.csv"`,
			},
			Check: func(t *testing.T, _ *http.Response, body []byte) {
				f, _ := time.Parse(time.DateOnly, "2025-01-01")
				tt, _ := time.Parse(time.DateOnly, "2025-03-31")
				rep, err := query.RunReport(context.Background(), st.DB(), query.DuckDB{}, biz, query.ReportRequest{By: []string{"channel"}, From: f, To: tt})
				if err != nil {
					t.Fatal(err)
				}
				var want bytes.Buffer
				if err := rep.WriteCSV(&want); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(body, want.Bytes()) {
					t.Fatalf("CSV differs from Report.WriteCSV:\n got %s\nwant %s", body, want.Bytes())
				}
			},
		},
		{Name: "ErrBadFrom", URL: "/api/v1/report?from=2025-13-01", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"from", "YYYY-MM-DD"}},
		{Name: "ErrFromAfterTo", URL: "/api/v1/report?from=2025-03-01&to=2025-02-01", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrFromAfterLastData", URL: "/api/v1/report?from=2025-04-01", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"2025-03-20"}},
		{Name: "ErrRangeTooLong", URL: "/api/v1/report?from=1990-01-01&to=2025-02-01", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrUnknownDimension", URL: "/api/v1/report?by=colour", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"colour"}},
		{Name: "ErrTwoGrains", URL: "/api/v1/report?by=week,month", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrCompare", URL: "/api/v1/report?compare=lastyear", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrFormat", URL: "/api/v1/report?format=xml", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrUnknownParam", URL: "/api/v1/report?form=2025-01-01", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"form"}},
		{Name: "ErrRepeatedParam", URL: "/api/v1/report?by=channel&by=month", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "ErrUnknownWorkspace", URL: "/api/v1/report?workspace=nope", WantStatus: 404, WantCode: bowtie.ENOTFOUND, WantContent: []string{"shop"}},
		{Name: "ErrUnknownEndpoint", URL: "/api/v1/funnels", WantStatus: 404, WantCode: bowtie.ENOTFOUND},
		{Name: "ErrMethod", Method: http.MethodPost, URL: "/api/v1/report", WantStatus: 405, WantCode: "method_not_allowed", WantHeader: map[string]string{"Allow": "GET, HEAD"}},
		{
			Name: "Dashboard", URL: "/", WantStatus: 200, WantContent: []string{`<script type="module" src="app.js">`},
			WantHeader: map[string]string{"Content-Type": "text/html; charset=utf-8", "X-Content-Type-Options": "nosniff"},
			Check: func(t *testing.T, res *http.Response, _ []byte) {
				if !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") {
					t.Fatalf("CSP %q", res.Header.Get("Content-Security-Policy"))
				}
			},
		},
		{Name: "DashboardModule", URL: "/app.js", WantStatus: 200, WantHeader: map[string]string{"Content-Type": "text/javascript; charset=utf-8"}},
		{
			Name: "DashboardGzip", URL: "/vendor/echarts/echarts.min.js", Header: map[string]string{"Accept-Encoding": "gzip, br"}, WantStatus: 200,
			WantHeader: map[string]string{"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
		},
		{Name: "ErrDashboardMissingFile", URL: "/nope.js", WantStatus: 404},
		{Name: "ErrDashboardMethod", Method: http.MethodDelete, URL: "/", WantStatus: 405, WantCode: "method_not_allowed"},
	} {
		sc.run(t, s)
	}

	t.Run("DashboardETag", func(t *testing.T) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost/style.css", nil))
		etag := rec.Result().Header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		req := httptest.NewRequest("GET", "http://localhost/style.css", nil)
		req.Header.Set("If-None-Match", etag)
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified {
			t.Fatalf("status %d, want 304", rec.Code)
		}
	})
}

func TestServer_ReadToken(t *testing.T) {
	st := MustOpenShop(t)
	s, logs := MustNew(t, server.Config{
		ReadToken:  "s3cret-read-token",
		Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}},
	})
	for _, sc := range []apiScenario{
		{Name: "HealthOpen", URL: "/healthz", WantStatus: 200},
		{
			Name: "ErrNoToken", URL: "/api/v1/workspaces", WantStatus: 401, WantCode: "unauthorized",
			WantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="bowtie"`},
		},
		{Name: "ErrWrongToken", URL: "/api/v1/workspaces", Header: map[string]string{"Authorization": "Bearer guess"}, WantStatus: 401, WantCode: "unauthorized"},
		{Name: "ErrBasicAuth", URL: "/api/v1/workspaces", Header: map[string]string{"Authorization": "Basic czNjcmV0LXJlYWQtdG9rZW46"}, WantStatus: 401, WantCode: "unauthorized"},
		{Name: "ErrTokenInQueryForAPI", URL: "/api/v1/report?token=s3cret-read-token", WantStatus: 401, WantCode: "unauthorized"},
		{Name: "ErrUnknownEndpointNeedsToken", URL: "/api/v1/nope", WantStatus: 401, WantCode: "unauthorized"},
		{Name: "Bearer", URL: "/api/v1/workspaces", Header: map[string]string{"Authorization": "Bearer s3cret-read-token"}, WantStatus: 200},
		{Name: "Cookie", URL: "/api/v1/report/columns", Header: map[string]string{"Cookie": "bowtie_token=s3cret-read-token"}, WantStatus: 200},
		{Name: "ErrDashboardNoToken", URL: "/", WantStatus: 401, WantContent: []string{"Read token needed"}, NotWantContent: []string{"app.js"}},
		{Name: "ErrDashboardWrongToken", URL: "/?token=guess", WantStatus: 401, WantContent: []string{"Read token needed"}},
		{
			Name: "DashboardTokenSetsCookie", URL: "/?token=s3cret-read-token&from=2025-01-01", WantStatus: 303,
			WantHeader: map[string]string{"Location": "/?from=2025-01-01"},
			Check: func(t *testing.T, res *http.Response, _ []byte) {
				c := res.Cookies()
				if len(c) != 1 || c[0].Name != "bowtie_token" || c[0].Value != "s3cret-read-token" || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode {
					t.Fatalf("cookies %+v", c)
				}
			},
		},
		{Name: "DashboardCookie", URL: "/", Header: map[string]string{"Cookie": "bowtie_token=s3cret-read-token"}, WantStatus: 200, WantContent: []string{"app.js"}},
		{Name: "DashboardAssetsOpen", URL: "/style.css", WantStatus: 200},
	} {
		sc.run(t, s)
	}
	if strings.Contains(logs.String(), "s3cret-read-token") {
		t.Fatalf("the token leaked into the log:\n%s", logs.String())
	}
}

func TestServer_Workspaces(t *testing.T) {
	shop := MustOpenShop(t)
	empty, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	b2b := MustBusiness(t, "b2b")
	now := time.Date(2025, 6, 30, 23, 30, 0, 0, time.UTC) // 1 July in Berlin
	s, _ := MustNew(t, server.Config{
		Now: func() time.Time { return now },
		Workspaces: []server.Workspace{
			{Name: "shop", DB: shop.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")},
			{Name: "factory", DB: empty.DB(), Dialect: query.DuckDB{}, Business: b2b},
		},
	})
	for _, sc := range []apiScenario{
		{
			Name: "List", URL: "/api/v1/workspaces", WantStatus: 200,
			WantContent: []string{`"name":"shop"`, `"name":"factory","preset":"b2b","currency":"EUR","time_zone":"Europe/Berlin","customer_entity":"account","data":null`},
		},
		{Name: "ErrNoWorkspaceNamed", URL: "/api/v1/report", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"shop, factory"}},
		{
			Name: "EmptyStoreDefaultsToToday", URL: "/api/v1/report?workspace=factory&by=channel", WantStatus: 200,
			WantContent: []string{`"currency":"EUR"`, `"from":"2025-04-03","to":"2025-07-01"`, `"rows":[]`},
		},
	} {
		sc.run(t, s)
	}

	t.Run("ErrConfig", func(t *testing.T) {
		ws := server.Workspace{Name: "a", DB: shop.DB(), Dialect: query.DuckDB{}, Business: b2b}
		for name, cfg := range map[string]server.Config{
			"none":      {},
			"unnamed":   {Workspaces: []server.Workspace{{DB: shop.DB(), Dialect: query.DuckDB{}, Business: b2b}}},
			"duplicate": {Workspaces: []server.Workspace{ws, ws}},
			"no DB":     {Workspaces: []server.Workspace{{Name: "a", Dialect: query.DuckDB{}, Business: b2b}}},
		} {
			if _, err := server.New(cfg); bowtie.ErrorCode(err) != bowtie.EINVALID {
				t.Errorf("%s: err %v, want EINVALID", name, err)
			}
		}
	})
}

func TestServer_Errors(t *testing.T) {
	t.Run("ErrInternalNotLeaked", func(t *testing.T) {
		st, err := duckdb.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		st.Close() // every query now fails inside database/sql
		s, logs := MustNew(t, server.Config{Workspaces: []server.Workspace{{Name: "gone", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}}})
		apiScenario{
			Name: "Report", URL: "/api/v1/report?from=2025-01-01&to=2025-01-31", WantStatus: 500, WantCode: bowtie.EINTERNAL,
			NotWantContent: []string{"closed", "sql"},
		}.run(t, s)
		if !strings.Contains(logs.String(), "database is closed") {
			t.Fatalf("the internal error is not logged:\n%s", logs.String())
		}
	})
	t.Run("ErrTimeout", func(t *testing.T) {
		st := MustOpenShop(t)
		s, _ := MustNew(t, server.Config{
			QueryTimeout: time.Nanosecond,
			Workspaces:   []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}},
		})
		apiScenario{Name: "Report", URL: "/api/v1/report?from=2025-01-01&to=2025-01-31", WantStatus: 503, WantCode: "timeout"}.run(t, s)
	})
}

// TestServer_Concurrent runs reports from several goroutines at once (run
// with -race).
func TestServer_Concurrent(t *testing.T) {
	st := MustOpenShop(t)
	s, _ := MustNew(t, server.Config{
		MaxConcurrentQueries: 2,
		Workspaces:           []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}},
	})
	ts := httptest.NewServer(s)
	defer ts.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			by := []string{"channel", "month", "week", "source"}[i%4]
			res, err := http.Get(ts.URL + "/api/v1/report?compare=previous&by=" + by)
			if err != nil {
				errs <- err
				return
			}
			defer res.Body.Close()
			io.Copy(io.Discard, res.Body)
			if res.StatusCode != 200 {
				errs <- &bowtie.Error{Message: res.Status}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
