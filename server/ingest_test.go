package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/ingest"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
	analytics "gopkg.in/segmentio/analytics-go.v3"
)

const testKey = "test-write-key-1"

// collector is a server with a collection API on an in-memory store.
type collector struct {
	ts      *httptest.Server
	st      *duckdb.Store
	metrics *ingest.Metrics
	logs    *syncBuffer
}

// mustCollector starts a test server whose workspace "shop" (preset) takes
// events sent with testKey; now is its clock (nil: time.Now).
func mustCollector(t *testing.T, preset string, now func() time.Time) *collector {
	t.Helper()
	st, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	sink, err := st.IngestSink(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	biz := MustBusiness(t, preset)
	m := ingest.NewMetrics()
	in, err := ingest.New(context.Background(), ingest.Config{Business: biz, Sink: sink, Metrics: m,
		Sources: []bowtie.Source{{Name: "web", WriteKey: testKey}}})
	if err != nil {
		t.Fatal(err)
	}
	s, logs := MustNew(t, server.Config{Now: now, IngestMetrics: m, ReadToken: "ingest-read-token",
		Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: biz, Ingest: in}}})
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		in.Close(context.Background())
		sink.Close()
		st.Close()
	})
	return &collector{ts: ts, st: st, metrics: m, logs: logs}
}

// post sends body to path with the write key as basic-auth user ("" for
// none) and returns the status, the headers and the body.
func (c *collector) post(t *testing.T, path, key string, body []byte, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", c.ts.URL+path, bytes.NewReader(body))
	if key != "" {
		req.SetBasicAuth(key, "")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func (c *collector) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := c.st.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCollect_Errors covers every limit and error of the collection API:
// each refused request stores nothing.
func TestCollect_Errors(t *testing.T) {
	c := mustCollector(t, "b2c", nil)
	good := `{"type":"track","userId":"u","event":"e"}`
	big := `{"type":"track","userId":"u","event":"e","properties":{"x":"` + strings.Repeat("x", 33<<10) + `"}}`
	var many strings.Builder
	many.WriteString(`{"batch":[`)
	for i := 0; many.Len() < 510<<10; i++ {
		fmt.Fprintf(&many, `{"type":"track","userId":"u","event":"e","messageId":"m%d","properties":{"pad":"%s"}},`, i, strings.Repeat("p", 1000))
	}
	many.WriteString(good + `]}`)
	for _, tt := range []struct {
		name, path, key, body string
		status                int
		code                  string
		problems              []string // "index:field"
	}{
		{"ErrNoKey", "/v1/track", "", `{"userId":"u","event":"e"}`, 401, "unauthorized", nil},
		{"ErrBadKey", "/v1/batch", "wrong-key-123", `{"batch":[` + good + `]}`, 401, "unauthorized", nil},
		{"ErrBadKeyInBody", "/v1/batch", "", `{"writeKey":"nope-nope","batch":[` + good + `]}`, 401, "unauthorized", nil},
		{"ErrMalformed", "/v1/batch", testKey, `{"batch":[`, 400, "invalid", []string{"-1:"}},
		{"ErrMalformedSingle", "/v1/identify", testKey, `{"userId":`, 400, "invalid", []string{"0:"}},
		{"ErrNoUser", "/v1/page", testKey, `{"name":"Home"}`, 400, "invalid", []string{"0:userId"}},
		{"ErrNoEvent", "/v1/track", testKey, `{"userId":"u"}`, 400, "invalid", []string{"0:event"}},
		{"ErrNoGroupID", "/v1/group", testKey, `{"userId":"u","traits":{"name":"A"}}`, 400, "invalid", []string{"0:groupId"}},
		{"ErrAlias", "/v1/alias", testKey, `{"userId":"u"}`, 400, "invalid", []string{"0:previousId"}},
		{"ErrAliasNoUser", "/v1/alias", testKey, `{"previousId":"p","anonymousId":"a"}`, 400, "invalid", []string{"0:userId"}},
		{"ErrBatchItems", "/v1/batch", testKey, `{"batch":[` + good + `,{"userId":"u","event":"e"},{"type":"track","anonymousId":"a"},` + good + `]}`,
			400, "invalid", []string{"1:type", "2:event"}},
		{"ErrMessageTooLarge", "/v1/track", testKey, big, 413, "too_large", []string{"0:"}},
		{"ErrBatchMessageTooLarge", "/v1/batch", testKey, `{"batch":[` + good + `,` + big + `]}`, 413, "too_large", []string{"1:"}},
		{"ErrBatchTooLarge", "/v1/batch", testKey, many.String(), 413, "too_large", nil},
		{"ErrNoSuchCall", "/v1/purchase", testKey, good, 404, "not_found", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := c.post(t, tt.path, tt.key, []byte(tt.body))
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			var got struct {
				Error struct {
					Code     string `json:"code"`
					Message  string `json:"message"`
					Problems []struct {
						Index  int    `json:"index"`
						Field  string `json:"field"`
						Reason string `json:"reason"`
					} `json:"problems"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if got.Error.Code != tt.code || got.Error.Message == "" {
				t.Errorf("error %+v, want code %s", got.Error, tt.code)
			}
			if tt.problems != nil {
				var ps []string
				for _, p := range got.Error.Problems {
					ps = append(ps, fmt.Sprintf("%d:%s", p.Index, p.Field))
					if p.Reason == "" {
						t.Errorf("problem %+v has no reason", p)
					}
				}
				if fmt.Sprint(ps) != fmt.Sprint(tt.problems) {
					t.Errorf("problems %v, want %v", ps, tt.problems)
				}
			}
			if status == 401 && hdr.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	if n := c.count(t, "SELECT count(*) FROM events"); n != 0 {
		t.Errorf("%d events stored from refused requests", n)
	}
	t.Run("ErrMethod", func(t *testing.T) {
		res, err := http.Get(c.ts.URL + "/v1/batch")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 405 || res.Header.Get("Allow") == "" {
			t.Errorf("GET: %s, Allow %q", res.Status, res.Header.Get("Allow"))
		}
	})
	t.Run("OK/Preflight", func(t *testing.T) {
		req, _ := http.NewRequest("OPTIONS", c.ts.URL+"/v1/batch", nil)
		req.Header.Set("Origin", "https://shop.example")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Errorf("preflight: %s %v", res.Status, res.Header)
		}
	})
}

// TestCollect_OK covers the accepted shapes: every call, /v1/b, the write
// key in the body, gzip, and a retry absorbed by messageId.
func TestCollect_OK(t *testing.T) {
	c := mustCollector(t, "b2c", nil)
	for _, tt := range []struct{ name, path, key, body string }{
		{"track", "/v1/track", testKey, `{"userId":"u1","event":"Signed Up","messageId":"m1"}`},
		{"identify", "/v1/identify", testKey, `{"userId":"u1","traits":{"name":"Ann"},"messageId":"m2"}`},
		{"page", "/v1/page", testKey, `{"anonymousId":"a1","name":"Home","messageId":"m3"}`},
		{"screen", "/v1/screen", testKey, `{"anonymousId":"a1","name":"Feed","messageId":"m4"}`},
		{"group", "/v1/group", testKey, `{"userId":"u1","groupId":"g1","messageId":"m5"}`},
		{"alias", "/v1/alias", testKey, `{"userId":"u1","previousId":"a1","messageId":"m6"}`},
		{"batch", "/v1/batch", testKey, `{"batch":[{"type":"track","userId":"u1","event":"A","messageId":"m7"}]}`},
		{"b", "/v1/b", testKey, `{"batch":[{"type":"track","userId":"u1","event":"B","messageId":"m8"}]}`},
		{"import", "/v1/import", testKey, `{"batch":[{"type":"track","userId":"u1","event":"C","messageId":"m9"}]}`},
		{"key in body", "/v1/batch", "", `{"writeKey":"` + testKey + `","batch":[{"type":"page","anonymousId":"a2","messageId":"m10"}]}`},
		{"retry", "/v1/track", testKey, `{"userId":"u1","event":"Signed Up","messageId":"m1"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := c.post(t, tt.path, tt.key, []byte(tt.body), "Content-Type", "text/plain")
			if status != 200 || strings.TrimSpace(body) != `{"success":true}` {
				t.Fatalf("%d %s", status, body)
			}
		})
	}
	t.Run("gzip", func(t *testing.T) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(`{"batch":[{"type":"track","userId":"u1","event":"Z","messageId":"m11"}]}`))
		zw.Close()
		status, _, body := c.post(t, "/v1/batch", testKey, buf.Bytes(), "Content-Encoding", "gzip")
		if status != 200 {
			t.Fatalf("%d %s", status, body)
		}
	})
	if n := c.count(t, "SELECT count(*) FROM events"); n != 11 {
		t.Errorf("%d events, want 11", n)
	}
	if n := c.count(t, "SELECT count(DISTINCT id) FROM events"); n != 11 {
		t.Errorf("%d distinct ids, want 11", n)
	}

	t.Run("metrics", func(t *testing.T) {
		req, _ := http.NewRequest("GET", c.ts.URL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer ingest-read-token")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, want := range []string{"bowtie_ingest_received_total 12\n", "bowtie_ingest_stored_total 11\n",
			"bowtie_ingest_duplicates_total 1\n", `bowtie_ingest_commit_seconds_bucket{le="+Inf"}`, "bowtie_ingest_queue_bytes 0\n"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("metrics lack %q:\n%s", want, b)
			}
		}
		res, _ = http.Get(c.ts.URL + "/metrics")
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Errorf("metrics without the read token: %s", res.Status)
		}
	})
}

// TestCollect_Disabled checks that without a write key nothing is accepted.
func TestCollect_Disabled(t *testing.T) {
	st := MustOpenShop(t)
	s, _ := MustNew(t, server.Config{Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: MustBusiness(t, "b2c")}}})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/track", strings.NewReader(`{"userId":"u","event":"e"}`))
	req.SetBasicAuth("anything-at-all", "")
	s.ServeHTTP(rec, req)
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "collection is disabled") {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}

// blockingSink holds every Write until released.
type blockingSink struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingSink) Write(ctx context.Context, c *ingest.Commit) error {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	return nil
}

func (b *blockingSink) RecentIDs(context.Context, time.Time, int, func(string, time.Time)) error {
	return nil
}

// TestCollect_Overload checks that a full queue answers 503 with
// Retry-After instead of growing, and that closing answers 503 too.
func TestCollect_Overload(t *testing.T) {
	st := MustOpenShop(t)
	body := []byte(`{"batch":[{"type":"track","userId":"u","event":"e"}]}`)
	sink := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	biz := MustBusiness(t, "b2c")
	in, err := ingest.New(context.Background(), ingest.Config{Business: biz, Sink: sink, QueueBytes: int64(len(body)),
		Sources: []bowtie.Source{{Name: "web", WriteKey: testKey}}})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := MustNew(t, server.Config{Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: biz, Ingest: in}}})
	ts := httptest.NewServer(s)
	defer ts.Close()
	c := &collector{ts: ts}
	first := make(chan int)
	go func() {
		status, _, _ := c.post(t, "/v1/batch", testKey, body)
		first <- status
	}()
	<-sink.entered
	status, hdr, resp := c.post(t, "/v1/batch", testKey, body)
	if status != 503 || hdr.Get("Retry-After") == "" || !strings.Contains(resp, "overloaded") {
		t.Errorf("full queue: %d Retry-After %q %s", status, hdr.Get("Retry-After"), resp)
	}
	close(sink.release)
	if got := <-first; got != 200 {
		t.Errorf("the queued request got %d, want 200", got)
	}
	in.Close(context.Background())
	status, hdr, resp = c.post(t, "/v1/batch", testKey, body)
	if status != 503 || hdr.Get("Retry-After") == "" {
		t.Errorf("after Close: %d %s", status, resp)
	}
}

// TestCollect_AnalyticsGo sends identify, group, track, page and alias
// calls with Segment's own Go client and checks where each one lands: the
// person and its traits, the account, the identity links, the UTM fields
// and click id, and times corrected for a client clock two hours behind
// the server's.
func TestCollect_AnalyticsGo(t *testing.T) {
	const skew = 2 * time.Hour
	c := mustCollector(t, "b2b", func() time.Time { return time.Now().Add(skew) })
	var failures []string
	var mu sync.Mutex
	client, err := analytics.NewWithConfig(testKey, analytics.Config{
		Endpoint: c.ts.URL, BatchSize: 3, Interval: 50 * time.Millisecond,
		Callback: callback(func(m analytics.Message, err error) {
			mu.Lock()
			failures = append(failures, fmt.Sprintf("%T: %v", m, err))
			mu.Unlock()
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Client-side times: what happened when, by the client's clock.
	t0 := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Millisecond)
	campaign := analytics.CampaignInfo{Name: "spring-launch", Source: "linkedin", Medium: "paid-social", Term: "cnc", Content: "video-a"}
	calls := []analytics.Message{
		analytics.Page{MessageId: "go-page", AnonymousId: "anon-7", Name: "Pricing", Timestamp: t0,
			Context: &analytics.Context{Campaign: campaign, Page: analytics.PageInfo{
				URL: "https://maker.example/pricing?gclid=G-123", Referrer: "https://www.linkedin.com/feed"}}},
		analytics.Identify{MessageId: "go-identify", AnonymousId: "anon-7", UserId: "user-7", Timestamp: t0.Add(time.Minute),
			Traits: analytics.NewTraits().SetEmail("Jo@Maker.Example").SetTitle("Plant Manager").Set("plan", "trial")},
		analytics.Group{MessageId: "go-group", UserId: "user-7", GroupId: "acct-9", Timestamp: t0.Add(2 * time.Minute),
			Traits: analytics.NewTraits().SetName("Maker AG").Set("industry", "Machinery").Set("employees", 1200)},
		analytics.Track{MessageId: "go-track", UserId: "user-7", Event: "Demo Requested", Timestamp: t0.Add(3 * time.Minute),
			Properties: analytics.NewProperties().SetRevenue(1500).SetCurrency("EUR"),
			Context:    &analytics.Context{Campaign: campaign, Extra: map[string]any{"groupId": "acct-9"}}},
		analytics.Alias{MessageId: "go-alias", PreviousId: "crm-contact-77", UserId: "user-7", Timestamp: t0.Add(4 * time.Minute)},
	}
	for _, m := range calls {
		if err := client.Enqueue(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if len(failures) > 0 {
		t.Fatalf("client failures: %v\nserver log:\n%s", failures, c.logs)
	}

	db := c.st.DB()
	type row struct {
		typ, name, anon, person, account, src, med, camp, term, content, clickType, click, channel string
		ts                                                                                         time.Time
	}
	got := map[string]row{}
	rows, err := db.Query(`SELECT id, type, coalesce(name, ''), coalesce(anonymous_id, ''), coalesce(person_id, ''), coalesce(account_id, ''),
		coalesce(utm_source, ''), coalesce(utm_medium, ''), coalesce(utm_campaign, ''), coalesce(utm_term, ''), coalesce(utm_content, ''),
		coalesce(click_id_type, ''), coalesce(click_id, ''), coalesce(channel, ''), ts FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var r row
		if err := rows.Scan(&id, &r.typ, &r.name, &r.anon, &r.person, &r.account, &r.src, &r.med, &r.camp, &r.term, &r.content,
			&r.clickType, &r.click, &r.channel, &r.ts); err != nil {
			t.Fatal(err)
		}
		got[id] = r
	}
	rows.Close()
	if len(got) != len(calls) {
		t.Fatalf("%d events stored, want %d: %v", len(got), len(calls), got)
	}
	for i, id := range []string{"go-page", "go-identify", "go-group", "go-track", "go-alias"} {
		r, ok := got[id]
		if !ok {
			t.Errorf("%s not stored", id)
			continue
		}
		// The client's clock is 2 h behind: the stored time is its
		// timestamp plus 2 h, give or take the request's transit time.
		want := t0.Add(time.Duration(i) * time.Minute).Add(skew)
		if d := r.ts.Sub(want); d < -2*time.Second || d > 2*time.Second {
			t.Errorf("%s: ts %v, want %v (skew-corrected)", id, r.ts, want)
		}
	}
	if p := got["go-page"]; p.typ != "page" || p.name != "Pricing" || p.anon != "anon-7" || p.src != "linkedin" || p.med != "paid-social" ||
		p.camp != "spring-launch" || p.term != "cnc" || p.content != "video-a" || p.clickType != "gclid" || p.click != "G-123" || p.channel != "Paid Social" {
		t.Errorf("page: %+v", p)
	}
	if tr := got["go-track"]; tr.name != "Demo Requested" || tr.person != "user-7" || tr.account != "acct-9" || tr.camp != "spring-launch" {
		t.Errorf("track: %+v", tr)
	}
	if g := got["go-group"]; g.account != "acct-9" || g.person != "user-7" {
		t.Errorf("group: %+v", g)
	}
	var revenue float64
	var currency string
	db.QueryRow("SELECT revenue, currency FROM events WHERE id = 'go-track'").Scan(&revenue, &currency)
	if revenue != 1500 || currency != "EUR" {
		t.Errorf("revenue %v %s", revenue, currency)
	}
	var emailHash, role, account, props string
	if err := db.QueryRow("SELECT email_hash, role, account_id, properties::VARCHAR FROM people WHERE person_id = 'user-7'").
		Scan(&emailHash, &role, &account, &props); err != nil {
		t.Fatal(err)
	}
	if emailHash != ingest.HashEmail("jo@maker.example") || role != "Plant Manager" || account != "acct-9" ||
		strings.Contains(strings.ToLower(props), "maker.example") || !strings.Contains(props, `"plan":"trial"`) {
		t.Errorf("person: %s %s %s %s", emailHash, role, account, props)
	}
	var name, industry string
	var employees int
	if err := db.QueryRow("SELECT name, industry, employees FROM accounts WHERE account_id = 'acct-9'").Scan(&name, &industry, &employees); err != nil {
		t.Fatal(err)
	}
	if name != "Maker AG" || industry != "Machinery" || employees != 1200 {
		t.Errorf("account: %s %s %d", name, industry, employees)
	}
	if n := c.count(t, `SELECT count(*) FROM identities WHERE (kind, alias_id, person_id) IN
		(('anonymous', 'anon-7', 'user-7'), ('alias', 'crm-contact-77', 'user-7'))`); n != 2 {
		t.Errorf("%d of 2 identity links", n)
	}
}

// callback adapts a function to analytics.Callback; only failures call it.
type callback func(analytics.Message, error)

func (f callback) Success(analytics.Message)              {}
func (f callback) Failure(m analytics.Message, err error) { f(m, err) }

// TestCollect_InflightLimit checks that requests beyond the bytes allowed
// in flight are answered 503 at once instead of being read.
func TestCollect_InflightLimit(t *testing.T) {
	st := MustOpenShop(t)
	biz := MustBusiness(t, "b2c")
	in, err := ingest.New(context.Background(), ingest.Config{Business: biz, Sink: &blockingSink{entered: make(chan struct{}), release: make(chan struct{})},
		Sources: []bowtie.Source{{Name: "web", WriteKey: testKey}}})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(context.Background())
	s, _ := MustNew(t, server.Config{MaxCollectBytes: 10,
		Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: biz, Ingest: in}}})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/track", strings.NewReader(`{"userId":"u","event":"e"}`))
	req.SetBasicAuth(testKey, "")
	s.ServeHTTP(rec, req)
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}
