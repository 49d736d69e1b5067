package server

// The analysis endpoints: stage funnel, sales pipeline, retention,
// activity and event funnel. Each mirrors a CLI command (bowtie stages,
// stages sales, retention, retention activity, funnel), takes the same
// parameters under the same names (as query parameters) and answers
// through the same query function, so the CLI, the API and the dashboard
// show the same numbers. Nothing is computed here.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

// analysisResult is what every analysis returns: JSON-encodable, with a
// CSV form.
type analysisResult interface {
	WriteCSV(io.Writer) error
}

// analysisSpec describes one analysis endpoint.
type analysisSpec struct {
	// name is used in the CSV file name.
	name string
	// params are the parameters besides workspace, from, to and format;
	// repeatable lists those that may be given several times.
	params, repeatable []string
	// run parses q and runs the analysis over [from, to].
	run func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error)
}

// serveAnalysis returns the handler of spec: it checks the parameters,
// resolves the workspace and the date range as GET /api/v1/report does,
// waits for a query slot and writes the result as JSON or CSV.
func (s *Server) serveAnalysis(spec analysisSpec) http.HandlerFunc {
	allowed := append([]string{"workspace", "from", "to", "format"}, spec.params...)
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := checkParamsRepeat(q, spec.repeatable, allowed...); err != nil {
			s.Error(w, r, err)
			return
		}
		ws, err := s.workspace(q.Get("workspace"))
		if err != nil {
			s.Error(w, r, err)
			return
		}
		format := q.Get("format")
		if format != "" && format != "json" && format != "csv" {
			s.Error(w, r, bowtie.Errorf(bowtie.EINVALID, "format: %q is not a format (use json or csv)", format))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.QueryTimeout)
		defer cancel()
		from, to, err := s.period(ctx, ws, q.Get("from"), q.Get("to"))
		if err != nil {
			s.Error(w, r, err)
			return
		}
		select {
		case s.sem <- struct{}{}:
			defer func() { <-s.sem }()
		case <-ctx.Done():
			s.Error(w, r, ctx.Err())
			return
		}
		res, err := spec.run(ctx, ws, q, from, to)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if format != "csv" {
			s.writeJSON(w, r, http.StatusOK, res)
			return
		}
		s.writeCSV(w, r, res, fmt.Sprintf("bowtie-%s-%s-%s-%s.csv", spec.name, fileSafe(ws.Name),
			from.Format(time.DateOnly), to.Format(time.DateOnly)))
	}
}

// checkParamsRepeat is checkParams with the parameters in repeatable
// allowed more than once.
func checkParamsRepeat(q url.Values, repeatable []string, allowed ...string) error {
	if len(repeatable) == 0 {
		return checkParams(q, allowed...)
	}
	single := url.Values{}
	for k, v := range q {
		rep := false
		for _, r := range repeatable {
			rep = rep || r == k
		}
		if rep {
			single[k] = v[:1]
		} else {
			single[k] = v
		}
	}
	return checkParams(single, allowed...)
}

// intParam parses an optional integer parameter; "" gives 0.
func intParam(q url.Values, name string) (int, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, bowtie.Errorf(bowtie.EINVALID, "%s: %q is not a whole number", name, s)
	}
	return n, nil
}

// boolParam parses an optional flag parameter: true or 1, false or 0;
// "" gives false.
func boolParam(q url.Values, name string) (bool, error) {
	switch s := q.Get(name); s {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	default:
		return false, bowtie.Errorf(bowtie.EINVALID, "%s: %q is not true or false", name, s)
	}
}

// handleStages answers GET /api/v1/stages: query.RunStageFunnel, as
// `bowtie stages`.
func (s *Server) handleStages() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name:   "stages",
		params: []string{"entity", "stages", "mode", "within", "strict", "by"},
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			within, err := intParam(q, "within")
			if err != nil {
				return nil, err
			}
			strict, err := boolParam(q, "strict")
			if err != nil {
				return nil, err
			}
			return query.RunStageFunnel(ctx, ws.DB, ws.Dialect, ws.Business, query.StageFunnelRequest{
				Entity: q.Get("entity"), Stages: splitList(q.Get("stages")), From: from, To: to, Mode: q.Get("mode"),
				WithinDays: within, Strict: strict, By: q.Get("by")})
		},
	})
}

// handleSales answers GET /api/v1/sales: query.RunSales, as `bowtie
// stages sales`.
func (s *Server) handleSales() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name:   "sales",
		params: []string{"pipeline"},
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			return query.RunSales(ctx, ws.DB, ws.Dialect, ws.Business, query.SalesRequest{From: from, To: to, Pipeline: q.Get("pipeline")})
		},
	})
}

// handleRetention answers GET /api/v1/retention: query.RunRetention, as
// `bowtie retention`.
func (s *Server) handleRetention() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name:   "retention",
		params: []string{"cohort_event", "cohort_stage", "return", "grain", "periods", "mode", "rolling", "by", "as_of"},
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			biz := ws.Business
			periods, err := intParam(q, "periods")
			if err != nil {
				return nil, err
			}
			if q.Has("periods") && periods == 0 {
				return nil, bowtie.Errorf(bowtie.EINVALID, "periods: 0 must be between 1 and 400 (leave it out for the default)")
			}
			rolling, err := boolParam(q, "rolling")
			if err != nil {
				return nil, err
			}
			req := query.RetentionRequest{CohortEvent: q.Get("cohort_event"), CohortStage: q.Get("cohort_stage"), ReturnEvent: q.Get("return"),
				Grain: q.Get("grain"), Periods: periods, Mode: q.Get("mode"), Rolling: rolling, From: from, To: to, By: q.Get("by")}
			if req.CohortEvent == "" && req.CohortStage == "" {
				req.CohortStage = biz.ReportStages.Lead
				if req.CohortStage == "" && len(biz.Stages) > 0 {
					req.CohortStage = biz.Stages[0]
				}
			}
			if a := q.Get("as_of"); a != "" {
				d, err := parseDate("as_of", a)
				if err != nil {
					return nil, err
				}
				req.AsOf = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, biz.Location())
			}
			return query.RunRetention(ctx, ws.DB, ws.Dialect, biz, req)
		},
	})
}

// lifecycleCSV writes only the lifecycle of an Activity as CSV.
type lifecycleCSV struct{ *query.Activity }

func (l lifecycleCSV) WriteCSV(w io.Writer) error { return l.WriteLifecycleCSV(w) }

// handleActivity answers GET /api/v1/activity: query.RunActivity, as
// `bowtie retention activity`.
func (s *Server) handleActivity() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name:   "activity",
		params: []string{"event", "grain", "lifecycle"},
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			lc, err := boolParam(q, "lifecycle")
			if err != nil {
				return nil, err
			}
			res, err := query.RunActivity(ctx, ws.DB, ws.Dialect, ws.Business, query.ActivityRequest{Event: q.Get("event"), From: from, To: to, Grain: q.Get("grain")})
			if err != nil {
				return nil, err
			}
			if lc && q.Get("format") == "csv" {
				return lifecycleCSV{res}, nil
			}
			return res, nil
		},
	})
}

// handleFunnel answers GET /api/v1/funnel: query.RunEventFunnel, as
// `bowtie funnel`. step and exclude repeat, in order.
func (s *Server) handleFunnel() http.HandlerFunc {
	return s.serveAnalysis(analysisSpec{
		name:       "funnel",
		params:     []string{"step", "exclude", "window", "mode", "unit", "by"},
		repeatable: []string{"step", "exclude"},
		run: func(ctx context.Context, ws *Workspace, q url.Values, from, to time.Time) (analysisResult, error) {
			req := query.EventFunnelRequest{Mode: q.Get("mode"), Unit: q.Get("unit"), By: q.Get("by"), From: from, To: to}
			for _, st := range q["step"] {
				x, err := query.ParseMatch("step", st, false)
				if err != nil {
					return nil, err
				}
				req.Steps = append(req.Steps, x.EventMatch)
			}
			for _, st := range q["exclude"] {
				x, err := query.ParseMatch("exclude", st, true)
				if err != nil {
					return nil, err
				}
				req.Exclusions = append(req.Exclusions, x)
			}
			if w := q.Get("window"); w != "" {
				d, err := query.ParseWindow("window", w)
				if err != nil {
					return nil, err
				}
				req.Window = d
			}
			return query.RunEventFunnel(ctx, ws.DB, ws.Dialect, ws.Business, req)
		},
	})
}

// splitList splits a comma-separated parameter, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
