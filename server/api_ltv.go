package server

// The lifetime-value and unit-economics endpoints: GET /api/v1/ltv (as
// `bowtie ltv`) and GET /api/v1/payback (as `bowtie payback`). "Today" is
// as_of when given, else the last day with data (the default to), as the
// CLI does.

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

// ltvNow returns noon of as_of (or of to) in the business time zone.
func ltvNow(ws *Workspace, q url.Values, to time.Time) (time.Time, error) {
	d := to
	if a := q.Get("as_of"); a != "" {
		t, err := parseDate("as_of", a)
		if err != nil {
			return t, err
		}
		d = t
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, ws.Business.Location()), nil
}

// handleLTV answers GET /api/v1/ltv: query.RunLTV with model, by, as_of,
// months and interval.
func (s *Server) handleLTV() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name:   "ltv",
		params: []string{"model", "by", "as_of", "months", "interval"},
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			now, err := ltvNow(ws, q, to)
			if err != nil {
				return nil, err
			}
			months, err := intParam(q, "months")
			if err != nil {
				return nil, err
			}
			model := q.Get("model")
			if model == "" {
				model = "historical"
			}
			return query.RunLTV(ctx, ws.DB, ws.Dialect, ws.Business, query.LTVRequest{Model: model, By: q.Get("by"), Now: now, Months: months, Interval: q.Get("interval")})
		},
	})
}

// handlePayback answers GET /api/v1/payback: query.RunPayback with by,
// from and to (the acquisition months; default the 12 months up to
// as_of), as_of, months and models.
func (s *Server) handlePayback() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name:   "payback",
		params: []string{"by", "as_of", "months", "models"},
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			now, err := ltvNow(ws, q, to)
			if err != nil {
				return nil, err
			}
			months, err := intParam(q, "months")
			if err != nil {
				return nil, err
			}
			req := query.PaybackRequest{By: q.Get("by"), From: from, To: to, Now: now, Months: months, Models: splitList(q.Get("models"))}
			if q.Get("from") == "" {
				req.From = time.Time{}
			}
			if q.Get("to") == "" && q.Get("as_of") != "" {
				req.To = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
			}
			if !q.Has("models") {
				req.Models = []string{"historical", "formula", "sbg", "bgnbd"}
			}
			if req.By != "" && req.By != "channel" && req.By != "campaign" && req.By != "cohort" {
				return nil, bowtie.Errorf(bowtie.EINVALID, "by: %q is not channel, campaign or cohort", req.By)
			}
			return query.RunPayback(ctx, ws.DB, ws.Dialect, ws.Business, req)
		},
	})
}
