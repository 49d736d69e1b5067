package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/importer"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/query/attribution"
	"github.com/bowtie-analytics/bowtie/server"
)

// importPathsFile imports body as the paths dataset name, through the
// importer as `bowtie import paths` does.
func importPathsFile(t *testing.T, st *duckdb.Store, biz *bowtie.Business, name, body string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".csv")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := importer.Import(context.Background(), st, path, importer.Options{Kind: "paths", Business: biz}); err != nil {
		t.Fatal(err)
	}
}

// TestServer_Attribution checks that /api/v1/attribution answers what
// attribution.Run returns for the same request, that its figures for an
// imported dataset are the hand-computed ones (JSON and CSV), and that bad
// parameters get a 400 naming the problem.
func TestServer_Attribution(t *testing.T) {
	st := MustOpenAnalyses(t)
	biz := MustBusiness(t, "b2c") // USD
	// Two converting paths and one that did not convert: first touch
	// gives A 2 conversions (10 + 30), last touch A 1 (30) and B 1 (10),
	// linear A 1.5 (10/2 + 30), B 0.5 (5).
	importPathsFile(t, st, biz, "hand", "path,total_conversions,total_conversion_value,total_null\nA > B,1,10,0\nA,1,30,0\nB,0,0,2\n")
	const token = "attribution-read-token"
	s, _ := MustNew(t, server.Config{ReadToken: token, Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: biz}}})
	auth := map[string]string{"Authorization": "Bearer " + token}
	ctx, db, d := context.Background(), st.DB(), query.DuckDB{}
	from, to := day("2025-01-01"), day("2025-03-31")
	const rng = "from=2025-01-01&to=2025-03-31"
	run := func(req attribution.Request) func() (any, error) {
		return func() (any, error) {
			req.From, req.To = from, to
			return attribution.Run(ctx, db, d, biz, req)
		}
	}
	// credit returns a model's credit of a channel in an API answer.
	credit := func(t *testing.T, body []byte, channel, model string) (conv, rev float64) {
		t.Helper()
		var res attribution.Result
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rows {
			if r.Channel == channel && r.Credits[model] != nil {
				return r.Credits[model].Conversions, r.Credits[model].Revenue
			}
		}
		t.Fatalf("no %s credit for %s in %s", model, channel, body)
		return 0, 0
	}
	hand := func(want map[string][2]float64) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, _ *http.Response, body []byte) {
			for k, w := range want {
				ch, model, _ := strings.Cut(k, "/")
				c, r := credit(t, body, ch, model)
				if math.Abs(c-w[0]) > 1e-9 || math.Abs(r-w[1]) > 1e-9 {
					t.Errorf("%s: %v conversions, %v revenue; want %v, %v", k, c, r, w[0], w[1])
				}
			}
		}
	}
	scenarios := []apiScenario{
		{Name: "Paid", URL: "/api/v1/attribution?conversion=stage:paid&" + rng, WantStatus: 200, WantContent: []string{`"conversion":"stage:paid"`, `"rows":[`},
			Check: sameAs("attribution.Run", run(attribution.Request{Conversion: "stage:paid"}))},
		{Name: "PurchasedSomeModels", URL: "/api/v1/attribution?conversion=event:Purchased&model=first,linear,markov&lookback=14d&markov_order=2&" + rng,
			WantStatus: 200, WantContent: []string{`"models":["first","linear","markov"]`, `"markov_order":2`},
			Check: sameAs("attribution.Run", run(attribution.Request{Conversion: "event:Purchased", Models: []string{"first", "linear", "markov"}, Lookback: "14d", MarkovOrder: 2}))},
		{Name: "Dataset", URL: "/api/v1/attribution?dataset=hand&model=first,last,linear&" + rng, WantStatus: 200, WantContent: []string{`"dataset":"hand"`},
			Check: func(t *testing.T, res *http.Response, body []byte) {
				sameAs("attribution.Run", run(attribution.Request{Dataset: "hand", Models: []string{"first", "last", "linear"}}))(t, res, body)
				hand(map[string][2]float64{"A/first": {2, 40}, "B/first": {0, 0}, "A/last": {1, 30}, "B/last": {1, 10}, "A/linear": {1.5, 35}, "B/linear": {0.5, 5}})(t, res, body)
			}},
		{Name: "DatasetCSV", URL: "/api/v1/attribution?dataset=hand&model=first,linear&format=csv&" + rng, WantStatus: 200,
			WantHeader: map[string]string{"Content-Type": "text/csv; charset=utf-8"},
			Check: func(t *testing.T, res *http.Response, body []byte) {
				// The CSV of `bowtie attribution --format csv`; A and B's
				// credits as computed by hand.
				sameCSVOf(run(attribution.Request{Dataset: "hand", Models: []string{"first", "linear"}}))(t, res, body)
				recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				byKey := map[string]string{}
				for _, r := range recs[1:] {
					byKey[r[0]+"/"+r[2]] = r[3] + "," + r[4]
				}
				for k, w := range map[string]string{"A/first": "2,40", "A/linear": "1.5,35", "B/first": "0,0", "B/linear": "0.5,5"} {
					if got := byKey[k]; got != w {
						t.Errorf("CSV %s: conversions,revenue %s, want %s", k, got, w)
					}
				}
			}},
		{Name: "ErrModel", URL: "/api/v1/attribution?model=first,bogus&" + rng, WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"bogus"}},
		{Name: "ErrLookbackZero", URL: "/api/v1/attribution?lookback=0d&" + rng, WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"lookback"}},
		{Name: "ErrConversionNothing", URL: "/api/v1/attribution?conversion=event:Never%20Happened&" + rng, WantStatus: 400, WantCode: bowtie.EINVALID,
			WantContent: []string{"Never Happened"}},
		{Name: "ErrConversionKind", URL: "/api/v1/attribution?conversion=purchase&" + rng, WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"conversion"}},
		{Name: "ErrLevel", URL: "/api/v1/attribution?level=team&" + rng, WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"level"}},
		{Name: "ErrMarkovOrder", URL: "/api/v1/attribution?markov_order=two&" + rng, WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"markov_order"}},
		{Name: "ErrKeepRepeats", URL: "/api/v1/attribution?keep_repeats=maybe&" + rng, WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"keep_repeats"}},
		{Name: "ErrDataset", URL: "/api/v1/attribution?dataset=nope&" + rng, WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"nope"}},
		{Name: "ErrParam", URL: "/api/v1/attribution?models=first&" + rng, WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"unknown parameter"}},
		{Name: "ErrToken", URL: "/api/v1/attribution?" + rng, Header: map[string]string{}, WantStatus: 401},
	}
	for _, sc := range scenarios {
		if sc.Header == nil {
			sc.Header = auth
		}
		sc.run(t, s)
	}
}
