package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

// defaultDays is the length of the report period when the request names
// no start date: 90 days up to the end date, by default the last day of data.
const defaultDays = 90

// maxRange bounds a report's date range.
const maxRange = 20 * 366 * 24 * time.Hour

// rangeTTL is how long a workspace's data range is cached.
const rangeTTL = 30 * time.Second

// DateRange is an inclusive range of calendar dates (YYYY-MM-DD) in a
// workspace's time zone.
type DateRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// WorkspaceInfo describes a workspace in GET /api/v1/workspaces.
type WorkspaceInfo struct {
	Name           string `json:"name"`
	Preset         string `json:"preset"`
	Currency       string `json:"currency"`
	TimeZone       string `json:"time_zone"`
	CustomerEntity string `json:"customer_entity"`
	// Data is the range of local dates the store has spend or events for
	// (query.DataRange); null when it has neither.
	Data *DateRange `json:"data"`
}

// cachedRange is a workspace's data range as of at.
type cachedRange struct {
	r  *DateRange
	at time.Time
}

// handleHealth answers GET /healthz: 200 when every store answers a ping.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	for _, ws := range s.cfg.Workspaces {
		if err := ws.DB.PingContext(ctx); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "health check", slog.String("workspace", ws.Name), slog.Any("err", err))
			s.writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

// handleWorkspaces answers GET /api/v1/workspaces.
func (s *Server) handleWorkspaces(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r.URL.Query()); err != nil {
		s.Error(w, r, err)
		return
	}
	out := struct {
		Workspaces []WorkspaceInfo `json:"workspaces"`
	}{Workspaces: []WorkspaceInfo{}}
	for i := range s.cfg.Workspaces {
		ws := &s.cfg.Workspaces[i]
		dr, err := s.dataRange(r.Context(), ws)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		b := ws.Business
		out.Workspaces = append(out.Workspaces, WorkspaceInfo{
			Name: ws.Name, Preset: b.Preset, Currency: b.Currency, TimeZone: b.TimeZone,
			CustomerEntity: b.CustomerEntity, Data: dr,
		})
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// handleColumns answers GET /api/v1/report/columns: the report's figures
// (key, label, kind) in display order and the dimensions it can break down by.
func (s *Server) handleColumns(w http.ResponseWriter, r *http.Request) {
	if err := checkParams(r.URL.Query()); err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Columns    []query.ReportColumn `json:"columns"`
		Dimensions []string             `json:"dimensions"`
	}{query.ReportColumns, query.ReportDimensions})
}

// handleReport answers GET /api/v1/report: the acquisition & ROI report of
// query.RunReport as JSON or CSV.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := checkParams(q, "workspace", "by", "from", "to", "compare", "format"); err != nil {
		s.Error(w, r, err)
		return
	}
	ws, err := s.workspace(q.Get("workspace"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var req query.ReportRequest
	if req.By, err = query.ParseDimensions(q.Get("by")); err != nil {
		s.Error(w, r, err)
		return
	}
	switch q.Get("compare") {
	case "", "none":
	case "previous":
		req.Compare = true
	default:
		s.Error(w, r, bowtie.Errorf(bowtie.EINVALID, "compare: %q is not a comparison (use previous, or leave it out)", q.Get("compare")))
		return
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		s.Error(w, r, bowtie.Errorf(bowtie.EINVALID, "format: %q is not a format (use json or csv)", format))
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.QueryTimeout)
	defer cancel()
	if req.From, req.To, err = s.period(ctx, ws, q.Get("from"), q.Get("to")); err != nil {
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
	rep, err := query.RunReport(ctx, ws.DB, ws.Dialect, ws.Business, req)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if rep.Rows == nil {
		rep.Rows = []query.ReportRow{} // the documented shape: always a list
	}
	if format != "csv" {
		s.writeJSON(w, r, http.StatusOK, rep)
		return
	}
	s.writeCSV(w, r, rep, fmt.Sprintf("bowtie-report-%s-%s-%s.csv", fileSafe(ws.Name), rep.From, rep.To))
}

// writeCSV answers with v's CSV as a download named filename. The CSV is
// rendered before anything is sent, so an error still gets a JSON answer.
func (s *Server) writeCSV(w http.ResponseWriter, r *http.Request, v interface{ WriteCSV(io.Writer) error }, filename string) {
	var buf bytes.Buffer
	if err := v.WriteCSV(&buf); err != nil {
		s.Error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, filename))
	w.Write(buf.Bytes())
}

// workspace returns the workspace named name; an empty name is fine when
// the server has only one.
func (s *Server) workspace(name string) (*Workspace, error) {
	if name == "" {
		if len(s.cfg.Workspaces) == 1 {
			return &s.cfg.Workspaces[0], nil
		}
		return nil, bowtie.Errorf(bowtie.EINVALID, "workspace: this server has several workspaces (%s): name one", s.names())
	}
	if ws := s.byName[name]; ws != nil {
		return ws, nil
	}
	return nil, bowtie.Errorf(bowtie.ENOTFOUND, "workspace %q not found (this server has %s)", name, s.names())
}

func (s *Server) names() string {
	var names []string
	for _, ws := range s.cfg.Workspaces {
		names = append(names, ws.Name)
	}
	return strings.Join(names, ", ")
}

// period resolves the from and to parameters as the CLI does: to defaults
// to the last day with data (today for an empty store), from to
// defaultDays-1 days before to.
func (s *Server) period(ctx context.Context, ws *Workspace, fromS, toS string) (from, to time.Time, err error) {
	if from, err = parseDate("from", fromS); err != nil {
		return
	}
	if to, err = parseDate("to", toS); err != nil {
		return
	}
	if toS == "" {
		dr, err := s.dataRange(ctx, ws)
		if err != nil {
			return from, to, err
		}
		if dr != nil {
			to, _ = time.Parse(time.DateOnly, dr.To)
		} else {
			now := s.cfg.Now().In(ws.Business.Location())
			to = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		}
	}
	if fromS == "" {
		from = to.AddDate(0, 0, -(defaultDays - 1))
	}
	if to.Before(from) {
		return from, to, bowtie.Errorf(bowtie.EINVALID, "from %s is after to %s",
			from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	if to.Sub(from) > maxRange {
		return from, to, bowtie.Errorf(bowtie.EINVALID, "from %s to %s is longer than 20 years: narrow the range",
			from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	return from, to, nil
}

// parseDate parses a YYYY-MM-DD parameter; "" gives the zero time.
func parseDate(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, bowtie.Errorf(bowtie.EINVALID, "%s: %q is not a date (use YYYY-MM-DD)", name, s)
	}
	return t, nil
}

// dataRange returns the dates ws has spend or events for (query.DataRange,
// the same range the CLI uses), cached for rangeTTL; nil when the store
// has neither.
func (s *Server) dataRange(ctx context.Context, ws *Workspace) (*DateRange, error) {
	s.mu.Lock()
	c, ok := s.ranges[ws.Name]
	s.mu.Unlock()
	if ok && time.Since(c.at) < rangeTTL {
		return c.r, nil
	}
	first, last, ok, err := query.DataRange(ctx, ws.DB, ws.Dialect, ws.Business, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	var dr *DateRange
	if ok {
		dr = &DateRange{From: first.Format(time.DateOnly), To: last.Format(time.DateOnly)}
	}
	s.mu.Lock()
	s.ranges[ws.Name] = cachedRange{r: dr, at: time.Now()}
	s.mu.Unlock()
	return dr, nil
}

// checkParams rejects query parameters other than allowed, and repeated
// ones, so that typos do not pass silently.
func checkParams(q url.Values, allowed ...string) error {
	for k, v := range q {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return bowtie.Errorf(bowtie.EINVALID, "unknown parameter %q: this endpoint takes none", k)
			}
			return bowtie.Errorf(bowtie.EINVALID, "unknown parameter %q (use %s)", k, strings.Join(allowed, ", "))
		}
		if len(v) > 1 {
			return bowtie.Errorf(bowtie.EINVALID, "%s: given %d times", k, len(v))
		}
	}
	return nil
}

// fileSafe keeps the letters, digits, dots, dashes and underscores of s.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
