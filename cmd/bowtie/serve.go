package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/ingest"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/server"
)

func init() {
	commands["serve"] = command{summary: "serve the JSON API and the dashboard", run: runServe}
}

// tokenEnv names the environment variable that sets the read token when
// --token is not given (a flag shows in the process list; the variable
// does not).
const tokenEnv = "BOWTIE_READ_TOKEN"

// writeKeysEnv names the environment variable with write keys for the
// collection API, in the syntax of --write-key, separated by commas.
const writeKeysEnv = "BOWTIE_WRITE_KEYS"

// HTTP server limits. A report may take a while on a large store, so the
// write timeout is longer than the server's query timeout.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 90 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	queryTimeout      = 60 * time.Second
	shutdownTimeout   = 10 * time.Second
)

// workspace is a store to serve: its DuckDB file and business model (nil:
// the one from --config).
type workspace struct {
	Name, Path string
	Business   *bowtie.Business
}

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("serve", "serve [--addr HOST:PORT] [--token TOKEN] [--write-key NAME=KEY]... [--trust-proxy] [--db FILE] [--config FILE]")
	addr := fs.String("addr", "127.0.0.1:8080", "`address` to listen on")
	token := fs.String("token", os.Getenv(tokenEnv), "read `token` required by the API and the dashboard, at least 16 characters (default $"+tokenEnv+"; empty: open to this machine only)")
	opts := serveOptions{}
	fs.Func("write-key", "accept events from a source: `NAME=KEY` (repeatable; also $"+writeKeysEnv+", comma-separated)", func(v string) error {
		k, err := parseWriteKey(v)
		opts.keys = append(opts.keys, k)
		return err
	})
	fs.BoolVar(&opts.trustProxy, "trust-proxy", false, "served through one TLS-terminating proxy: the sender's IP is the right-most X-Forwarded-For entry, the token cookie is Secure")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "bowtie serve: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	biz, err := env.Business()
	if err != nil {
		return err
	}
	if _, err := os.Stat(env.Config.DB); err != nil {
		return bowtie.Errorf(bowtie.ENOTFOUND, "no store at %s: create one with `bowtie demo` or `bowtie import`, or name it with --db", env.Config.DB)
	}
	name := strings.TrimSuffix(filepath.Base(env.Config.DB), filepath.Ext(env.Config.DB))
	opts.token = *token
	return serve(ctx, env, *addr, opts, []workspace{{Name: name, Path: env.Config.DB, Business: biz}})
}

// serveOptions are the settings of serve besides the workspaces.
type serveOptions struct {
	token      string
	keys       []writeKey // from --write-key; $BOWTIE_WRITE_KEYS is added by serve
	trustProxy bool
}

// writeKey is a --write-key value: [WORKSPACE/]NAME=KEY.
type writeKey struct {
	workspace string
	source    bowtie.Source
}

// parseWriteKey parses [WORKSPACE/]NAME=KEY.
func parseWriteKey(v string) (writeKey, error) {
	lhs, key, ok := strings.Cut(strings.TrimSpace(v), "=")
	ws, name, hasWS := strings.Cut(lhs, "/")
	if !hasWS {
		ws, name = "", lhs
	}
	switch {
	case !ok:
		return writeKey{}, bowtie.Errorf(bowtie.EINVALID, "write key %q: use NAME=KEY (or WORKSPACE/NAME=KEY)", redact(v))
	case !bowtie.ValidSourceName(name):
		return writeKey{}, bowtie.Errorf(bowtie.EINVALID, "write key for %q: the source name must be 1-64 letters, digits, '_', '.' or '-'", name)
	case len(key) < 8:
		return writeKey{}, bowtie.Errorf(bowtie.EINVALID, "write key for %q: the key must have at least 8 characters", name)
	}
	return writeKey{workspace: ws, source: bowtie.Source{Name: name, WriteKey: key}}, nil
}

// redact hides the key part of a --write-key value for error messages.
func redact(v string) string {
	if i := strings.IndexByte(v, '='); i >= 0 {
		return v[:i] + "=…"
	}
	if len(v) > 4 {
		return v[:4] + "…"
	}
	return v
}

// envWriteKeys parses $BOWTIE_WRITE_KEYS.
func envWriteKeys() ([]writeKey, error) {
	var out []writeKey
	for _, v := range strings.Split(os.Getenv(writeKeysEnv), ",") {
		if strings.TrimSpace(v) == "" {
			continue
		}
		k, err := parseWriteKey(v)
		if err != nil {
			return nil, bowtie.Errorf(bowtie.EINVALID, "$%s: %s", writeKeysEnv, bowtie.ErrorMessage(err))
		}
		out = append(out, k)
	}
	return out, nil
}

// sourcesByWorkspace assigns the write keys to the workspaces: those of each
// workspace's bowtie.yaml, then the flag and environment keys (which name
// their workspace when several are served). A key may serve one source only.
func sourcesByWorkspace(ws []workspace, bizs []*bowtie.Business, keys []writeKey) ([][]bowtie.Source, error) {
	out := make([][]bowtie.Source, len(ws))
	seen := map[string]string{}
	add := func(i int, s bowtie.Source) error {
		if prev, dup := seen[s.WriteKey]; dup {
			return bowtie.Errorf(bowtie.EINVALID, "the write key of source %q is also the key of %q: give each source its own key", s.Name, prev)
		}
		seen[s.WriteKey] = s.Name
		out[i] = append(out[i], s)
		return nil
	}
	for i, b := range bizs {
		for _, s := range b.Ingest.Sources {
			if err := add(i, s); err != nil {
				return nil, err
			}
		}
	}
	for _, k := range keys {
		i := -1
		switch {
		case k.workspace == "" && len(ws) == 1:
			i = 0
		case k.workspace == "":
			names := make([]string, len(ws))
			for j, w := range ws {
				names[j] = w.Name
			}
			return nil, bowtie.Errorf(bowtie.EINVALID, "write key for %q: several workspaces are served (%s): write WORKSPACE/%s=KEY", k.source.Name, strings.Join(names, ", "), k.source.Name)
		default:
			for j, w := range ws {
				if w.Name == k.workspace {
					i = j
				}
			}
			if i < 0 {
				return nil, bowtie.Errorf(bowtie.EINVALID, "write key for %q: no workspace %q is served", k.source.Name, k.workspace)
			}
		}
		if err := add(i, k.source); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// serveWorkspaces serves the API, the dashboard and the collection API for
// ws on addr until ctx is cancelled, then shuts down gracefully and closes
// the stores. It prints the dashboard's URL to env.Stderr once it listens.
// The read token comes from $BOWTIE_READ_TOKEN (empty: open), write keys
// from the workspaces' business models and $BOWTIE_WRITE_KEYS.
func serveWorkspaces(ctx context.Context, env *Env, addr string, ws []workspace) error {
	return serve(ctx, env, addr, serveOptions{token: os.Getenv(tokenEnv)}, ws)
}

// serve is serveWorkspaces with explicit options.
func serve(ctx context.Context, env *Env, addr string, opts serveOptions, ws []workspace) (err error) {
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	token := opts.token
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return bowtie.Errorf(bowtie.EINVALID, "--addr %q: use HOST:PORT (127.0.0.1:8080)", addr)
	}
	if token == "" && !loopbackHost(host) {
		return errNoToken(addr)
	}
	envKeys, err := envWriteKeys()
	if err != nil {
		return err
	}
	bizs := make([]*bowtie.Business, len(ws))
	for i, w := range ws {
		if bizs[i] = w.Business; bizs[i] == nil {
			if bizs[i], err = env.Business(); err != nil {
				return err
			}
		}
	}
	sources, err := sourcesByWorkspace(ws, bizs, append(opts.keys, envKeys...))
	if err != nil {
		return err
	}

	// Deferred in reverse: ingesters drain before their sinks close, sinks
	// close before their stores.
	var stores []*duckdb.Store
	defer func() {
		for _, st := range stores {
			if cerr := st.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("close store %s: %w", st.Path(), cerr)
			}
		}
	}()
	var sinks []*duckdb.IngestSink
	defer func() {
		for _, k := range sinks {
			k.Close()
		}
	}()
	var ingesters []*ingest.Ingester
	closeIngesters := func() {
		for _, in := range ingesters {
			cctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			if cerr := in.Close(cctx); cerr != nil {
				fmt.Fprintf(env.Stderr, "bowtie: %v\n", cerr)
			}
			cancel()
		}
		ingesters = nil
	}
	defer closeIngesters()

	metrics := ingest.NewMetrics()
	cfg := server.Config{ReadToken: token, Logger: log, QueryTimeout: queryTimeout, IngestMetrics: metrics, TrustProxy: opts.trustProxy,
		AllowedHosts: []string{host}}
	for i, w := range ws {
		st, err := duckdb.Open(w.Path)
		if err != nil {
			return err
		}
		stores = append(stores, st)
		sw := server.Workspace{Name: w.Name, DB: st.DB(), Dialect: query.DuckDB{}, Business: bizs[i]}
		if len(sources[i]) > 0 {
			sink, err := st.IngestSink(ctx)
			if err != nil {
				return err
			}
			sinks = append(sinks, sink)
			in, err := ingest.New(ctx, ingest.Config{Business: bizs[i], Sources: sources[i], Sink: sink, Metrics: metrics, Logger: log})
			if err != nil {
				return err
			}
			ingesters = append(ingesters, in)
			sw.Ingest = in
			names := make([]string, len(sources[i]))
			for j, s := range sources[i] {
				names[j] = s.Name
			}
			fmt.Fprintf(env.Stderr, "bowtie: collecting events for %s from %s\n", w.Name, strings.Join(names, ", "))
		}
		cfg.Workspaces = append(cfg.Workspaces, sw)
	}
	h, err := server.New(cfg)
	if err != nil {
		return err
	}

	l, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return bowtie.Errorf(bowtie.ECONFLICT, "%s is already in use: stop the other server or choose another --addr", addr)
		}
		return bowtie.Errorf(bowtie.EINVALID, "cannot listen on %s: %v", addr, err)
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if token == "" && !isLoopback(l.Addr()) {
		l.Close()
		return errNoToken(addr)
	}
	if token == "" && opts.trustProxy {
		fmt.Fprintf(env.Stderr, "bowtie: warning: no read token: the API and the dashboard answer only requests for localhost and %s, not for the name a proxy forwards (set --token or $%s)\n", host, tokenEnv)
	}
	fmt.Fprintf(env.Stderr, "bowtie: dashboard at http://%s/\n", l.Addr())
	if token != "" {
		fmt.Fprintf(env.Stderr, "bowtie: a read token is required: open the dashboard once as http://%s/?token=<token>\n", l.Addr())
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Stop accepting, let the requests in flight finish (their messages
	// commit), then drain what is still queued and flush it.
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
		fmt.Fprintf(env.Stderr, "bowtie: shutdown: %v\n", err)
	}
	<-errc
	closeIngesters()
	fmt.Fprintln(env.Stderr, "bowtie: server stopped")
	return nil
}

// errNoToken refuses to serve addr, which other machines reach, without a
// read token.
func errNoToken(addr string) error {
	return bowtie.Errorf(bowtie.EINVALID, "refusing to serve %s without a read token: other machines reach it and could read every report; "+
		"set --token or $%s (at least %d characters, e.g. `openssl rand -hex 16`), or listen on 127.0.0.1", addr, tokenEnv, server.MinTokenLength)
}

// loopbackHost reports whether the host of a listen address is a loopback
// name or address; "" (every interface) is not. Other names are checked
// once listening (isLoopback).
func loopbackHost(host string) bool {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().IsLoopback()
	}
	return host != ""
}

// isLoopback reports whether a listens on a loopback address only.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
