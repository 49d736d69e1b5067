package server

// The order, renewal and referral endpoints. Each mirrors a CLI command
// (bowtie orders, renewals, referrals), takes its flags as query
// parameters of the same names (with _ for -) and answers through the
// same query function.

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

// handleOrders answers GET /api/v1/orders: query.RunOrders, as `bowtie
// orders`.
func (s *Server) handleOrders() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name:   "orders",
		params: []string{"grain", "by"},
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			return query.RunOrders(ctx, ws.DB, ws.Dialect, ws.Business, query.OrdersRequest{From: from, To: to, Grain: q.Get("grain"), By: q.Get("by")})
		},
	})
}

// handleRenewals answers GET /api/v1/renewals: query.RunRenewals, as
// `bowtie renewals`.
func (s *Server) handleRenewals() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name:   "renewals",
		params: []string{"grain", "by", "pipeline", "contracts"},
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			return query.RunRenewals(ctx, ws.DB, ws.Dialect, ws.Business, query.RenewalsRequest{From: from, To: to, Grain: q.Get("grain"),
				By: q.Get("by"), Pipeline: q.Get("pipeline"), ContractPipelines: splitList(q.Get("contracts"))})
		},
	})
}

// handleReferrals answers GET /api/v1/referrals: query.RunReferrals, as
// `bowtie referrals`.
func (s *Server) handleReferrals() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name:   "referrals",
		params: []string{"grain", "invite_event", "referrer_property", "signup_stage", "referral_channels", "new_pipelines"},
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			return query.RunReferrals(ctx, ws.DB, ws.Dialect, ws.Business, query.ReferralsRequest{From: from, To: to, Grain: q.Get("grain"),
				InviteEvent: q.Get("invite_event"), ReferrerProperty: q.Get("referrer_property"), SignupStage: q.Get("signup_stage"),
				ReferralChannels: splitList(q.Get("referral_channels")), NewPipelines: splitList(q.Get("new_pipelines"))})
		},
	})
}
