package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
)

// TestServer_LTV checks that GET /api/v1/ltv and /api/v1/payback answer
// with exactly what query.RunLTV and query.RunPayback return for the same
// request (the CLI's numbers), in JSON and CSV, and refuse bad values.
func TestServer_LTV(t *testing.T) {
	st, err := duckdb.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	body, err := os.ReadFile("../query/testdata/ltv_small.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(string(body)); err != nil {
		t.Fatal(err)
	}
	biz := MustBusiness(t, "b2c")
	s, _ := MustNew(t, server.Config{Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: biz}}})
	ctx := context.Background()
	now := time.Date(2024, 4, 15, 12, 0, 0, 0, time.UTC)
	get := func(url string) (int, []byte) {
		req := httptest.NewRequest("GET", "http://127.0.0.1"+url, nil)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes()
	}
	same := func(url string, want any) {
		t.Helper()
		code, got := get(url)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", url, code, got)
		}
		w, _ := json.Marshal(want)
		var a, b any
		json.Unmarshal(got, &a)
		json.Unmarshal(w, &b)
		ga, _ := json.Marshal(a)
		gb, _ := json.Marshal(b)
		if string(ga) != string(gb) {
			t.Errorf("%s:\n got %s\nwant %s", url, ga, gb)
		}
	}
	for _, m := range []string{"historical", "formula", "sbg"} {
		want, err := query.RunLTV(ctx, st.DB(), query.DuckDB{}, biz, query.LTVRequest{Model: m, By: "channel", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		same("/api/v1/ltv?model="+m+"&by=channel&as_of=2024-04-15", want)
	}
	want, err := query.RunPayback(ctx, st.DB(), query.DuckDB{}, biz, query.PaybackRequest{By: "cohort", From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), Now: now, Models: []string{"historical", "formula"}})
	if err != nil {
		t.Fatal(err)
	}
	same("/api/v1/payback?by=cohort&from=2024-01-01&to=2024-03-31&as_of=2024-04-15&models=historical,formula", want)
	if code, b := get("/api/v1/payback?by=cohort&as_of=2024-04-15&format=csv"); code != http.StatusOK || len(b) == 0 {
		t.Errorf("payback CSV: %d %s", code, b)
	}
	for _, url := range []string{"/api/v1/ltv?model=pareto", "/api/v1/ltv?by=plan", "/api/v1/payback?by=plan", "/api/v1/ltv?as_of=2024-13-01", "/api/v1/ltv?horizon=3"} {
		if code, b := get(url); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", url, code, b)
		}
	}
}
