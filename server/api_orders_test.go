package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
)

// TestServer_OrdersRenewalsReferrals checks that /api/v1/orders, renewals
// and referrals answer exactly what the query functions return for the
// same request (JSON and CSV), and refuse bad parameters.
func TestServer_OrdersRenewalsReferrals(t *testing.T) {
	st := MustOpenAnalyses(t)
	if _, err := st.DB().Exec(`
INSERT INTO deals (deal_id, person_id, pipeline, status, created_at, closed_at, amount, currency) VALUES
 ('s1', 'q03', 'service', 'won', '2024-01-01', '2024-02-01', 1000, 'USD'),
 ('r1', 'q03', 'renewal', 'won', '2025-01-01', '2025-02-01', 1050, 'USD'),
 ('s2', 'q04', 'service', 'won', '2024-01-01', '2024-03-01', 2000, 'USD'),
 ('r2', 'q04', 'renewal', 'lost', '2025-01-01', '2025-03-01', 2000, 'USD');
INSERT INTO events (id, ts, type, name, person_id, properties) VALUES
 ('ref1', '2025-01-10 10:00', 'track', 'referral_sent', 'q00', NULL),
 ('ref2', '2025-01-20 10:00', 'page', 'Landing', 'q07', '{"referrer": "q00"}');`); err != nil {
		t.Fatal(err)
	}
	biz := MustBusiness(t, "b2c")
	const token = "orders-read-token-123"
	s, _ := MustNew(t, server.Config{ReadToken: token, Workspaces: []server.Workspace{{Name: "shop", DB: st.DB(), Dialect: query.DuckDB{}, Business: biz}}})
	ctx := context.Background()
	db, d := st.DB(), query.DuckDB{}
	auth := map[string]string{"Authorization": "Bearer " + token}
	from, to := day("2025-01-01"), day("2025-03-31")
	const rng = "from=2025-01-01&to=2025-03-31"
	orders := func(req query.OrdersRequest) func() (any, error) {
		return func() (any, error) {
			req.From, req.To = from, to
			return query.RunOrders(ctx, db, d, biz, req)
		}
	}
	renewals := func(req query.RenewalsRequest) func() (any, error) {
		return func() (any, error) {
			req.From, req.To = from, to
			return query.RunRenewals(ctx, db, d, biz, req)
		}
	}
	referrals := func(req query.ReferralsRequest) func() (any, error) {
		return func() (any, error) {
			req.From, req.To = from, to
			return query.RunReferrals(ctx, db, d, biz, req)
		}
	}
	scenarios := []apiScenario{
		{Name: "Orders", URL: "/api/v1/orders?" + rng, WantStatus: 200, WantContent: []string{`"aov":`}, Check: sameAs("RunOrders", orders(query.OrdersRequest{}))},
		{Name: "OrdersMonthChannel", URL: "/api/v1/orders?grain=month&by=channel&" + rng, WantStatus: 200,
			Check: sameAs("RunOrders", orders(query.OrdersRequest{Grain: "month", By: "channel"}))},
		{Name: "OrdersCSV", URL: "/api/v1/orders?format=csv&grain=month&" + rng, WantStatus: 200,
			Check: sameCSVOf(orders(query.OrdersRequest{Grain: "month"}))},
		{Name: "ErrOrdersBy", URL: "/api/v1/orders?by=planet", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"by"}},
		{Name: "ErrOrdersGrain", URL: "/api/v1/orders?grain=hour", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"grain"}},
		{Name: "Renewals", URL: "/api/v1/renewals?" + rng, WantStatus: 200, WantContent: []string{`"due":2`, `"won":1`},
			Check: sameAs("RunRenewals", renewals(query.RenewalsRequest{}))},
		{Name: "RenewalsPipeline", URL: "/api/v1/renewals?pipeline=service&contracts=sales&grain=month&" + rng, WantStatus: 200,
			Check: sameAs("RunRenewals", renewals(query.RenewalsRequest{Pipeline: "service", ContractPipelines: []string{"sales"}, Grain: "month"}))},
		{Name: "RenewalsBySegment", URL: "/api/v1/renewals?by=person.segment&" + rng, WantStatus: 200,
			Check: sameAs("RunRenewals", renewals(query.RenewalsRequest{By: "person.segment"}))},
		{Name: "RenewalsCSV", URL: "/api/v1/renewals?format=csv&" + rng, WantStatus: 200, Check: sameCSVOf(renewals(query.RenewalsRequest{}))},
		{Name: "ErrRenewalsBy", URL: "/api/v1/renewals?by=person.plan", WantStatus: 400, WantCode: bowtie.EINVALID},
		{Name: "Referrals", URL: "/api/v1/referrals?grain=month&" + rng, WantStatus: 200, WantContent: []string{`"invites":1`},
			Check: sameAs("RunReferrals", referrals(query.ReferralsRequest{Grain: "month"}))},
		{Name: "ReferralsOptions", URL: "/api/v1/referrals?invite_event=Purchased&signup_stage=trial&referral_channels=Paid+Search&new_pipelines=sales&" + rng, WantStatus: 200,
			Check: sameAs("RunReferrals", referrals(query.ReferralsRequest{InviteEvent: "Purchased", SignupStage: "trial", ReferralChannels: []string{"Paid Search"}, NewPipelines: []string{"sales"}}))},
		{Name: "ReferralsCSV", URL: "/api/v1/referrals?format=csv&" + rng, WantStatus: 200, Check: sameCSVOf(referrals(query.ReferralsRequest{}))},
		{Name: "ErrReferralsUnknownParam", URL: "/api/v1/referrals?invites=x", WantStatus: 400, WantCode: bowtie.EINVALID, WantContent: []string{"unknown parameter"}},
	}
	for _, sc := range scenarios {
		if sc.Header == nil {
			sc.Header = auth
		}
		sc.run(t, s)
	}
	for _, p := range []string{"orders", "renewals", "referrals"} {
		apiScenario{Name: "ErrNoToken/" + p, URL: "/api/v1/" + p, WantStatus: 401, WantCode: "unauthorized"}.run(t, s)
		apiScenario{Name: "ErrPost/" + p, Method: http.MethodPost, URL: "/api/v1/" + p, Header: auth, WantStatus: 405}.run(t, s)
	}
}
