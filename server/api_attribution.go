package server

// The attribution endpoint: GET /api/v1/attribution, as `bowtie
// attribution` (docs/api.md, "Attribution"). The parameters are the
// fields of attribution.Request under their JSON names; the answer is its
// Result (JSON), or the Result's CSV, the same as `bowtie attribution
// --format csv`. Nothing is computed here.

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/bowtie-analytics/bowtie/query/attribution"
)

// attributionParams are the parameters of GET /api/v1/attribution besides
// workspace, from, to and format.
var attributionParams = []string{"model", "conversion", "level", "by", "lookback", "half_life", "markov_order",
	"dataset", "keep_repeats", "exclude_direct", "deal_window", "touch_events", "top_paths"}

// attributionRequest reads an attribution.Request from q; the query
// package validates it (unknown model, zero lookback, ...).
func attributionRequest(q url.Values, from, to time.Time) (attribution.Request, error) {
	req := attribution.Request{
		From: from, To: to, Conversion: q.Get("conversion"), Level: q.Get("level"), By: q.Get("by"),
		Models: splitList(q.Get("model")), Lookback: q.Get("lookback"), HalfLife: q.Get("half_life"),
		Dataset: q.Get("dataset"), DealWindow: q.Get("deal_window"), TouchEvents: splitList(q.Get("touch_events")),
	}
	var err error
	if req.MarkovOrder, err = intParam(q, "markov_order"); err != nil {
		return req, err
	}
	if req.TopPaths, err = intParam(q, "top_paths"); err != nil {
		return req, err
	}
	if req.KeepRepeats, err = boolParam(q, "keep_repeats"); err != nil {
		return req, err
	}
	if req.ExcludeDirect, err = boolParam(q, "exclude_direct"); err != nil {
		return req, err
	}
	return req, nil
}

// handleAttribution answers GET /api/v1/attribution: attribution.Run.
func (s *Server) handleAttribution() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name:   "attribution",
		params: attributionParams,
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			req, err := attributionRequest(q, from, to)
			if err != nil {
				return nil, err
			}
			return attribution.Run(ctx, ws.DB, ws.Dialect, ws.Business, req)
		},
	})
}
