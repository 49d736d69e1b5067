package server_test

import (
	"context"
	"io"
	"testing"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
)

// revenueCSV is a revenue result with the CSV columns of one endpoint.
type revenueCSV struct {
	r    *query.Revenue
	cols func(w io.Writer) error
}

func (c revenueCSV) WriteCSV(w io.Writer) error { return c.cols(w) }

// TestServer_Revenue checks that /api/v1/revenue, /revenue/retention and
// /revenue/log answer what the query functions return for the same
// request (JSON and CSV), and refuse bad parameters and bad data.
func TestServer_Revenue(t *testing.T) {
	st := MustOpenAnalyses(t)
	if _, err := st.DB().Exec(`
INSERT INTO subscriptions (subscription_id, valid_from, valid_to, customer_id, plan, status, billing_interval, amount, mrr, currency) VALUES
 ('s1', '2024-11-05', '2025-02-10', 'q01', 'pro', 'active', 'month', 50, 50, 'USD'),
 ('s2', '2025-01-03', '2025-02-01', 'q02', 'basic', 'trialing', 'month', 20, 0, 'USD'),
 ('s2', '2025-02-01', NULL, 'q02', 'basic', 'active', 'month', 20, 20, 'USD'),
 ('s3', '2024-12-01', '2025-02-01', 'q03', 'basic', 'active', 'year', 120, 10, 'USD'),
 ('s3', '2025-02-01', NULL, 'q03', 'pro', 'active', 'year', 240, 20, 'USD');`); err != nil {
		t.Fatal(err)
	}
	biz := MustBusiness(t, "b2c")
	const token = "revenue-read-token-123"
	s, _ := MustNew(t, server.Config{ReadToken: token, Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: biz}}})
	ctx := context.Background()
	db, d := st.DB(), query.DuckDB{}
	auth := map[string]string{"Authorization": "Bearer " + token}
	from, to := day("2025-01-01"), day("2025-03-31")
	const rng = "from=2025-01-01&to=2025-03-31"
	rev := func(o query.RevenueOptions) func() (any, error) {
		return func() (any, error) {
			o.From, o.To = from, to
			return query.RevenueQuery(ctx, db, d, biz, o)
		}
	}
	revCSV := func(o query.RevenueOptions, cols bool) func() (any, error) {
		return func() (any, error) {
			o.From, o.To = from, to
			r, err := query.RevenueQuery(ctx, db, d, biz, o)
			if err != nil {
				return nil, err
			}
			return revenueCSV{r, func(w io.Writer) error {
				if cols {
					return r.WriteCSV(w, query.RevenueRetentionColumns)
				}
				return r.WriteCSV(w, query.RevenueMovementColumns)
			}}, nil
		}
	}
	log := func() (any, error) {
		return query.RevenueLog(ctx, db, d, biz, query.RevenueOptions{From: from, To: to})
	}
	scenarios := []apiScenario{
		{Name: "Revenue", URL: "/api/v1/revenue?" + rng, WantStatus: 200, WantContent: []string{`"closing_mrr":`, `"expansion_mrr":10`},
			Check: sameAs("RevenueQuery", rev(query.RevenueOptions{Grain: "month"}))},
		{Name: "RevenueByPlan", URL: "/api/v1/revenue?grain=week&by=plan&" + rng, WantStatus: 200, WantContent: []string{`"group":"pro"`},
			Check: sameAs("RevenueQuery", rev(query.RevenueOptions{Grain: "week", By: "plan"}))},
		{Name: "RevenueCSV", URL: "/api/v1/revenue?format=csv&" + rng, WantStatus: 200, Check: sameCSVOf(revCSV(query.RevenueOptions{Grain: "month"}, false))},
		{Name: "Retention", URL: "/api/v1/revenue/retention?" + rng, WantStatus: 200, WantContent: []string{`"nrr_t12m":null`, `"trials_started":1`},
			Check: sameAs("RevenueQuery", rev(query.RevenueOptions{Grain: "month", Trailing: true}))},
		{Name: "RetentionCSV", URL: "/api/v1/revenue/retention?format=csv&" + rng, WantStatus: 200,
			Check: sameCSVOf(revCSV(query.RevenueOptions{Grain: "month", Trailing: true}, true))},
		{Name: "Log", URL: "/api/v1/revenue/log?" + rng, WantStatus: 200, WantContent: []string{`"type":"expansion"`}, Check: sameAs("RevenueLog", log)},
		{Name: "LogCSV", URL: "/api/v1/revenue/log?format=csv&" + rng, WantStatus: 200, Check: sameCSVOf(log)},
		{Name: "ErrBy", URL: "/api/v1/revenue?by=campaign", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"by"}},
		{Name: "ErrGrain", URL: "/api/v1/revenue?grain=year", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"grain"}},
		{Name: "ErrLogBy", URL: "/api/v1/revenue/log?by=plan", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"unknown parameter"}},
	}
	for _, sc := range scenarios {
		if sc.Header == nil {
			sc.Header = auth
		}
		sc.run(t, s)
	}
	// Overlapping segments are named.
	if _, err := st.DB().Exec(`INSERT INTO subscriptions (subscription_id, valid_from, customer_id, status, amount, mrr, currency) VALUES ('s1', '2025-01-01', 'q01', 'active', 5, 5, 'USD')`); err != nil {
		t.Fatal(err)
	}
	apiScenario{Name: "ErrOverlap", URL: "/api/v1/revenue?" + rng, Header: auth, WantStatus: 400, WantCode: bowtie.EINVALID,
		WantContent: []string{"overlapping segments", "subscription_id s1"}}.run(t, s)
}
