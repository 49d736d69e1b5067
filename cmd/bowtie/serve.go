package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
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
	fs := env.newFlagSet("serve", "serve [--addr HOST:PORT] [--token TOKEN] [--db FILE] [--config FILE]")
	addr := fs.String("addr", "127.0.0.1:8080", "`address` to listen on")
	token := fs.String("token", os.Getenv(tokenEnv), "read `token` required by the API and the dashboard (default $"+tokenEnv+"; empty: open)")
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
	return serve(ctx, env, *addr, *token, []workspace{{Name: name, Path: env.Config.DB, Business: biz}})
}

// serveWorkspaces serves the API and the dashboard for ws on addr until
// ctx is cancelled, then shuts down gracefully and closes the stores. It
// prints the dashboard's URL to env.Stderr once it listens. The read token
// comes from $BOWTIE_READ_TOKEN (empty: open).
func serveWorkspaces(ctx context.Context, env *Env, addr string, ws []workspace) error {
	return serve(ctx, env, addr, os.Getenv(tokenEnv), ws)
}

// serve is serveWorkspaces with an explicit read token.
func serve(ctx context.Context, env *Env, addr, token string, ws []workspace) (err error) {
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	var stores []*duckdb.Store
	defer func() {
		for _, st := range stores {
			if cerr := st.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("close store %s: %w", st.Path(), cerr)
			}
		}
	}()
	cfg := server.Config{ReadToken: token, Logger: log, QueryTimeout: queryTimeout}
	for _, w := range ws {
		st, err := duckdb.Open(w.Path)
		if err != nil {
			return err
		}
		stores = append(stores, st)
		biz := w.Business
		if biz == nil {
			if biz, err = env.Business(); err != nil {
				return err
			}
		}
		cfg.Workspaces = append(cfg.Workspaces, server.Workspace{Name: w.Name, DB: st.DB(), Dialect: query.DuckDB{}, Business: biz})
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
		fmt.Fprintf(env.Stderr, "bowtie: warning: serving %s without a read token: anyone who reaches it can read the reports (set --token or $%s)\n", l.Addr(), tokenEnv)
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
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
		fmt.Fprintf(env.Stderr, "bowtie: shutdown: %v\n", err)
	}
	<-errc
	fmt.Fprintln(env.Stderr, "bowtie: server stopped")
	return nil
}

// isLoopback reports whether a listens on a loopback address only.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
