package server

// The revenue endpoints: MRR movements, the movement log and churn and
// revenue retention, as `bowtie revenue`, `bowtie revenue log` and
// `bowtie revenue retention` (docs/api.md, "Revenue").

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/bowtie-analytics/bowtie/query"
)

// revenueResult is a query.Revenue whose CSV has the movement or the
// retention columns; its JSON is the Revenue's.
type revenueResult struct {
	*query.Revenue
	retention bool
}

func (r revenueResult) WriteCSV(w io.Writer) error {
	if r.retention {
		return r.Revenue.WriteCSV(w, query.RevenueRetentionColumns)
	}
	return r.Revenue.WriteCSV(w, query.RevenueMovementColumns)
}

// revenueOptions reads grain and by; without from, the range starts on
// the first day of the month eleven months before to.
func revenueOptions(q url.Values, from, to time.Time) query.RevenueOptions {
	if q.Get("from") == "" {
		from = query.RevenueDefaultFrom(to)
	}
	return query.RevenueOptions{From: from, To: to, Grain: q.Get("grain"), By: q.Get("by")}
}

// handleRevenue answers GET /api/v1/revenue (query.RevenueQuery, as
// `bowtie revenue`).
func (s *Server) handleRevenue() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name:   "revenue",
		params: []string{"grain", "by"},
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			res, err := query.RevenueQuery(ctx, ws.DB, ws.Dialect, ws.Business, revenueOptions(q, from, to))
			if err != nil {
				return nil, err
			}
			return revenueResult{Revenue: res}, nil
		},
	})
}

// handleRevenueRetention answers GET /api/v1/revenue/retention: the
// same periods, monthly, with trailing-12-month GRR and NRR (`bowtie
// revenue retention`).
func (s *Server) handleRevenueRetention() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name: "revenue-retention",
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			opts := revenueOptions(q, from, to)
			opts.Grain, opts.Trailing = "month", true
			res, err := query.RevenueQuery(ctx, ws.DB, ws.Dialect, ws.Business, opts)
			if err != nil {
				return nil, err
			}
			return revenueResult{Revenue: res, retention: true}, nil
		},
	})
}

// handleRevenueLog answers GET /api/v1/revenue/log (query.RevenueLog, as
// `bowtie revenue log`).
func (s *Server) handleRevenueLog() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name:   "revenue-log",
		params: []string{"grain"},
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			return query.RevenueLog(ctx, ws.DB, ws.Dialect, ws.Business, revenueOptions(q, from, to))
		},
	})
}
