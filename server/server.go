// Package server is bowtie's HTTP transport: the read-only JSON API over the
// analyses of package query, the dashboard served from embedded assets, and
// the Segment-compatible collection API (/v1/*, ingest.go) with its
// tracking script (/bowtie.js) and metrics (/metrics).
//
// Every error goes through one table from error code to HTTP status
// (statusOf in errors.go) and is answered as {"error": {"code", "message"}}.
// The docs for API users are in docs/api.md.
package server

import (
	"crypto/subtle"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/ingest"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/web"
)

// Workspace is one store served under a name: its database, the dialect to
// query it with and its business model.
type Workspace struct {
	// Name identifies the workspace in the API (?workspace=); it must be
	// non-empty and unique within a Config.
	Name string
	// DB is the store's handle. The server only reads through it and never
	// closes it.
	DB *sql.DB
	// Dialect is the SQL dialect of DB (query.DuckDB{} for the embedded store).
	Dialect query.Dialect
	// Business is the business model the analyses run with; it must be
	// valid (as returned by bowtie.LoadBusiness or bowtie.Preset).
	Business *bowtie.Business
	// Ingest receives the events sent with one of its write keys to the
	// collection API (/v1/*); nil: none. The caller closes it.
	Ingest *ingest.Ingester
}

// Config configures a Server. Zero values take the defaults noted.
type Config struct {
	// Workspaces are the stores served; at least one.
	Workspaces []Workspace
	// ReadToken, when set, is required for the API and the dashboard: as
	// "Authorization: Bearer <token>", or once as ?token= on a dashboard URL,
	// which sets a cookie. It must have at least MinTokenLength characters,
	// all ASCII letters, digits or -._~+/=!*. Empty leaves both open to
	// requests whose Host is a loopback name or one of AllowedHosts (see
	// hostAllowed). /healthz is always open.
	ReadToken string
	// AllowedHosts are the names, besides loopback ones (localhost,
	// 127.0.0.0/8, ::1), the API and the dashboard answer to when there is
	// no ReadToken: the host of the listen address. Any port goes.
	AllowedHosts []string
	// Logger receives request and error logs (default: discard).
	Logger *slog.Logger
	// Assets are the dashboard files (default: web.Assets()).
	Assets fs.FS
	// QueryTimeout bounds one analysis (default 60 s).
	QueryTimeout time.Duration
	// MaxConcurrentQueries bounds the analyses running at once; more wait
	// for a slot until their deadline (default 4).
	MaxConcurrentQueries int
	// Now is the clock, used where a store has no data to anchor default
	// date ranges on, and as the receive time of events (default time.Now).
	Now func() time.Time
	// IngestMetrics is what GET /metrics shows; pass the one the
	// workspaces' ingesters share (default: a fresh, empty set).
	IngestMetrics *ingest.Metrics
	// TrustProxy says the server is reached through one reverse proxy (the
	// connection's peer) that terminates TLS and appends the address it
	// saw to X-Forwarded-For: the sender's IP is then the right-most
	// X-Forwarded-For entry, and the token cookie is Secure unless the
	// proxy says X-Forwarded-Proto: http.
	TrustProxy bool
	// MaxCollectBytes bounds the bytes of collection requests being read,
	// decoded and stored at once; beyond it they get 503 (default 128 MiB).
	MaxCollectBytes int64
}

// Server serves the API and the dashboard. It is an http.Handler; create
// it with New.
type Server struct {
	cfg    Config
	log    *slog.Logger
	mux    *http.ServeMux
	byName map[string]*Workspace
	assets map[string]*asset
	sem    chan struct{} // one token per running analysis

	// metrics counts ingestion; collecting is set when any workspace
	// has an ingester with a write key.
	metrics    *ingest.Metrics
	collecting bool
	inflight   atomic.Int64 // bytes reserved by collection requests in flight

	hosts map[string]bool // AllowedHosts, normalized by hostName

	mu     sync.Mutex // guards ranges
	ranges map[string]cachedRange
}

// New checks cfg and returns a Server. Errors: *bowtie.Error with EINVALID
// for a missing, unnamed, duplicated or incomplete workspace.
func New(cfg Config) (*Server, error) {
	if len(cfg.Workspaces) == 0 {
		return nil, bowtie.Errorf(bowtie.EINVALID, "server: no workspace to serve")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Assets == nil {
		cfg.Assets = web.Assets()
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 60 * time.Second
	}
	if cfg.MaxConcurrentQueries <= 0 {
		cfg.MaxConcurrentQueries = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxCollectBytes <= 0 {
		cfg.MaxCollectBytes = 128 << 20
	}
	if err := checkToken(cfg.ReadToken); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		log:    cfg.Logger,
		mux:    http.NewServeMux(),
		byName: map[string]*Workspace{},
		sem:    make(chan struct{}, cfg.MaxConcurrentQueries),
		ranges: map[string]cachedRange{},
		hosts:  map[string]bool{},
	}
	for _, h := range cfg.AllowedHosts {
		if h = hostName(h); h != "" {
			s.hosts[h] = true
		}
	}
	for i := range cfg.Workspaces {
		w := &cfg.Workspaces[i]
		switch {
		case w.Name == "":
			return nil, bowtie.Errorf(bowtie.EINVALID, "server: workspace %d has no name", i+1)
		case s.byName[w.Name] != nil:
			return nil, bowtie.Errorf(bowtie.EINVALID, "server: workspace name %q is used twice", w.Name)
		case w.DB == nil || w.Dialect == nil || w.Business == nil:
			return nil, bowtie.Errorf(bowtie.EINVALID, "server: workspace %q needs a DB, a Dialect and a Business", w.Name)
		}
		s.byName[w.Name] = w
		if w.Ingest != nil && w.Ingest.Enabled() {
			s.collecting = true
		}
	}
	s.metrics = cfg.IngestMetrics
	if s.metrics == nil {
		s.metrics = ingest.NewMetrics()
	}
	assets, err := loadAssets(cfg.Assets)
	if err != nil {
		return nil, fmt.Errorf("server: dashboard assets: %w", err)
	}
	s.assets = assets

	s.mux.HandleFunc("/healthz", s.only(s.handleHealth))
	s.mux.HandleFunc("/v1/", s.handleCollect)
	s.mux.HandleFunc("/bowtie.js", s.only(s.handleScript))
	s.mux.HandleFunc("/metrics", s.only(s.api(s.handleMetrics)))
	s.mux.HandleFunc("/api/v1/workspaces", s.only(s.api(s.handleWorkspaces)))
	s.mux.HandleFunc("/api/v1/report", s.only(s.api(s.handleReport)))
	s.mux.HandleFunc("/api/v1/report/columns", s.only(s.api(s.handleColumns)))
	s.mux.HandleFunc("/api/v1/stages", s.only(s.api(s.handleStages())))
	s.mux.HandleFunc("/api/v1/sales", s.only(s.api(s.handleSales())))
	s.mux.HandleFunc("/api/v1/retention", s.only(s.api(s.handleRetention())))
	s.mux.HandleFunc("/api/v1/activity", s.only(s.api(s.handleActivity())))
	s.mux.HandleFunc("/api/v1/funnel", s.only(s.api(s.handleFunnel())))
	s.mux.HandleFunc("/api/v1/ltv", s.only(s.api(s.handleLTV())))
	s.mux.HandleFunc("/api/v1/payback", s.only(s.api(s.handlePayback())))
	s.mux.HandleFunc("/api/v1/orders", s.only(s.api(s.handleOrders())))
	s.mux.HandleFunc("/api/v1/renewals", s.only(s.api(s.handleRenewals())))
	s.mux.HandleFunc("/api/v1/referrals", s.only(s.api(s.handleReferrals())))
	s.mux.HandleFunc("/api/v1/revenue", s.only(s.api(s.handleRevenue())))
	s.mux.HandleFunc("/api/v1/revenue/log", s.only(s.api(s.handleRevenueLog())))
	s.mux.HandleFunc("/api/v1/revenue/retention", s.only(s.api(s.handleRevenueRetention())))
	s.mux.HandleFunc("/api/v1/attribution", s.only(s.api(s.handleAttribution())))
	s.mux.HandleFunc("/api/", s.api(func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, bowtie.Errorf(bowtie.ENOTFOUND, "no API endpoint %s: see docs/api.md", r.URL.Path))
	}))
	s.mux.HandleFunc("/", s.only(s.local(s.handleAsset)))
	return s, nil
}

// ServeHTTP implements http.Handler: it logs the request, sets the common
// security headers and turns a panic into a 500.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.LogAttrs(r.Context(), slog.LevelError, "panic",
				slog.String("path", r.URL.Path), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if sw.status == 0 {
				s.Error(sw, r, fmt.Errorf("panic: %v", v))
			}
		}
		level := slog.LevelInfo
		if !strings.HasPrefix(r.URL.Path, "/api/") && sw.status < 400 || sw.status == http.StatusServiceUnavailable && strings.HasPrefix(r.URL.Path, "/v1/") {
			level = slog.LevelDebug // assets and health checks
		}
		// The path only: a query string may hold a token.
		s.log.LogAttrs(r.Context(), level, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("took", time.Since(start)))
	}()
	h := sw.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	s.mux.ServeHTTP(sw, r)
}

// only restricts h to GET and HEAD: the API and the dashboard are read-only.
func (s *Server) only(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			s.Error(w, r, bowtie.Errorf(eMethodNotAllowed, "%s is not allowed on %s: the API is read-only, use GET", r.Method, r.URL.Path))
			return
		}
		h(w, r)
	}
}

// api requires for h a Host the server answers to, the read token and
// well-formed query parameters.
func (s *Server) api(h http.HandlerFunc) http.HandlerFunc {
	return s.local(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			s.Error(w, r, bowtie.Errorf(eUnauthorized, "this server needs a read token: send the header \"Authorization: Bearer <token>\""))
			return
		}
		if err := checkQuery(r.URL.RawQuery); err != nil {
			s.Error(w, r, err)
			return
		}
		h(w, r)
	})
}

// local refuses h to requests for a Host the server does not answer to
// without a read token (hostAllowed): a page on another site whose name
// was rebound to 127.0.0.1 must not read the data of a local install.
func (s *Server) local(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			s.Error(w, r, bowtie.Errorf(eForbidden, "Host %q is not served: without a read token this server answers only "+
				"localhost, 127.0.0.1, [::1] and the host of its --addr; set a read token (--token) to serve it under other names", clip(r.Host, 100)))
			return
		}
		h(w, r)
	}
}

// hostAllowed reports whether the server answers requests for host (a Host
// header: name or address, with or without a port). With a read token any
// host is fine: a rebound page has no token. Without one, only loopback
// names and Config.AllowedHosts are.
func (s *Server) hostAllowed(host string) bool {
	if s.cfg.ReadToken != "" {
		return true
	}
	h := hostName(host)
	if h == "" {
		return false
	}
	if h == "localhost" || s.hosts[h] {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// hostName is the name or address of a Host header or listen address
// without port, brackets and a final dot, lower-case; an address in its
// canonical form. "" for none.
func hostName(host string) string {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")), ".")
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().String()
	}
	return h
}

// clip shortens s to n bytes for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// MinTokenLength is the least number of characters of a read token.
const MinTokenLength = 16

// checkToken checks a read token: empty (none), or at least MinTokenLength
// characters that a cookie carries unchanged and a URL without escaping.
func checkToken(tok string) error {
	if tok == "" {
		return nil
	}
	if len(tok) < MinTokenLength {
		return bowtie.Errorf(bowtie.EINVALID, "the read token has %d characters: use at least %d (e.g. `openssl rand -hex 16`)", len(tok), MinTokenLength)
	}
	for _, c := range []byte(tok) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/=!*", c) >= 0) {
			return bowtie.Errorf(bowtie.EINVALID, "the read token holds %q: use only ASCII letters, digits and -._~+/=!*", c)
		}
	}
	return nil
}

// checkQuery parses a query string as the handlers will and rejects what
// they would take silently or the store cannot hold: a broken %-escape, a
// ';' separator, a NUL byte or invalid UTF-8 in a name or value. The error
// names the parameter.
func checkQuery(raw string) error {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return bowtie.Errorf(bowtie.EINVALID, "query string: %v (separate parameters with & and %%-escape values)", err)
	}
	for k, vs := range q {
		if !utf8.ValidString(k) || strings.IndexByte(k, 0) >= 0 {
			return bowtie.Errorf(bowtie.EINVALID, "parameter name %q: not valid UTF-8 text", k)
		}
		for _, v := range vs {
			switch {
			case !utf8.ValidString(v):
				return bowtie.Errorf(bowtie.EINVALID, "%s: the value is not valid UTF-8 (%%-escape the UTF-8 bytes of the text)", k)
			case strings.IndexByte(v, 0) >= 0:
				return bowtie.Errorf(bowtie.EINVALID, "%s: the value holds a NUL byte (%%00)", k)
			}
		}
	}
	return nil
}

// tokenCookie holds the read token in a browser after a ?token= visit.
const tokenCookie = "bowtie_token"

// authorized reports whether r carries the read token (or none is set).
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.ReadToken == "" {
		return true
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		return ok && strings.EqualFold(scheme, "Bearer") && s.tokenOK(strings.TrimSpace(tok))
	}
	if c, err := r.Cookie(tokenCookie); err == nil {
		return s.tokenOK(c.Value)
	}
	return false
}

// tokenOK compares tok with the read token in constant time.
func (s *Server) tokenOK(tok string) bool {
	return subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.ReadToken)) == 1
}

// statusWriter records the status of a response for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
