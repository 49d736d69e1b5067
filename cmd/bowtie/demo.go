package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/demo"
	"github.com/bowtie-analytics/bowtie/duckdb"
)

func init() {
	commands["demo"] = command{summary: "generate the B2B and B2C demo businesses and serve them", run: runDemo}
}

const demoUsage = "demo [--business b2b|b2c|both] [--seed N] [--events N] [--force] [--no-serve] [--addr HOST:PORT] [--db FILE]"

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("demo", demoUsage)
	business := fs.String("business", "both", "business to generate: `b2b`, b2c or both (both writes NAME-b2b and NAME-b2c beside --db)")
	seed := fs.Uint64("seed", 1, "random `seed`: the same seed and flags give the same data")
	events := fs.Int("events", demo.DefaultEvents, "approximate `number` of events per business")
	force := fs.Bool("force", false, "replace store files that already exist")
	noServe := fs.Bool("no-serve", false, "generate only; do not start the server")
	addr := fs.String("addr", "127.0.0.1:8080", "`address` to serve on after generating")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "bowtie demo: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	var names []string
	switch *business {
	case "b2b", "b2c":
		names = []string{*business}
	case "both":
		names = []string{"b2b", "b2c"}
	default:
		return bowtie.Errorf(bowtie.EINVALID, "--business %q: use b2b, b2c or both", *business)
	}
	if *events <= 0 {
		return bowtie.Errorf(bowtie.EINVALID, "--events must be positive, got %d", *events)
	}
	var ws []workspace
	for _, name := range names {
		path := env.Config.DB
		if len(names) > 1 {
			path = demoPath(path, name)
		}
		if err := checkReplaceable(path, *force); err != nil {
			return err
		}
		biz, err := bowtie.Preset(name)
		if err != nil {
			return err
		}
		ws = append(ws, workspace{Name: name, Path: path, Business: biz})
	}
	for _, w := range ws {
		if err := demoGenerate(ctx, env, w, *seed, *events, *force); err != nil {
			return err
		}
	}
	if *noServe {
		return nil
	}
	return serveWorkspaces(ctx, env, *addr, ws)
}

// demoPath names the store of one business when both are generated:
// bowtie.duckdb becomes bowtie-b2b.duckdb.
func demoPath(db, business string) string {
	ext := filepath.Ext(db)
	return strings.TrimSuffix(db, ext) + "-" + business + ext
}

// demoGenerate writes one business into a temporary file beside w.Path and
// moves it into place once complete, with its truth file, so that a failed
// or interrupted run leaves any previous store untouched.
func demoGenerate(ctx context.Context, env *Env, w workspace, seed uint64, events int, force bool) (err error) {
	// A directory of its own beside the target: same file system for the
	// rename, and nothing in it that the command did not create.
	tmpDir, err := os.MkdirTemp(filepath.Dir(w.Path), "."+filepath.Base(w.Path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, filepath.Base(w.Path))
	st, err := duckdb.Open(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	bar := newDemoBar(env.Stderr, w.Name)
	start := time.Now()
	truth, err := demo.Generate(ctx, st, demo.Options{Business: w.Name, Seed: seed, Events: events, Progress: bar.update})
	bar.done()
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if err := st.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	// Checked again: the file may have appeared while the demo was
	// generated. The old store's log goes first (it must never be replayed
	// into the new file); the rename replaces the old store at once.
	if err := checkReplaceable(w.Path, force); err != nil {
		return err
	}
	if err := os.Remove(w.Path + ".wal"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the old store's log: %w", err)
	}
	if err := os.Rename(tmp, w.Path); err != nil {
		return fmt.Errorf("move the store into place: %w", err)
	}
	if _, serr := os.Stat(tmp + ".wal"); serr == nil {
		if err := os.Rename(tmp+".wal", w.Path+".wal"); err != nil {
			return fmt.Errorf("move the store's log into place: %w", err)
		}
	}
	truthPath := w.Path + ".truth.json"
	data, err := json.MarshalIndent(truth, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(truthPath, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the truth file: %w", err)
	}
	printDemoSummary(env.Stdout, w, truthPath, truth, elapsed)
	return nil
}

// checkReplaceable refuses to let the demo write over anything but a
// DuckDB store it is told to replace: without force, an existing store or a
// left-over write-ahead log is an error; with force, so is a file that is
// not a DuckDB database (a CSV or a document named by mistake with --db).
func checkReplaceable(path string, force bool) error {
	for _, p := range []string{path, path + ".wal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return bowtie.Errorf(bowtie.EINVALID, "%s: %v", p, errors.Unwrap(err))
		}
		if !force {
			return bowtie.Errorf(bowtie.EINVALID, "%s already exists: pass --force to replace it, or name another file with --db", p)
		}
		if !fi.Mode().IsRegular() {
			return bowtie.Errorf(bowtie.EINVALID, "%s is not a regular file: name another file with --db", p)
		}
		if p == path && !isDuckDBFile(p) {
			return bowtie.Errorf(bowtie.EINVALID, "%s is not a DuckDB store: --force replaces only a store; name another file with --db", p)
		}
	}
	return nil
}

// isDuckDBFile reports whether the file at path starts with DuckDB's main
// header: an 8-byte checksum, then the magic bytes "DUCK".
func isDuckDBFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [12]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return false
	}
	return string(head[8:12]) == "DUCK"
}

func printDemoSummary(w io.Writer, ws workspace, truthPath string, t *demo.Truth, elapsed time.Duration) {
	fmt.Fprintf(w, "%s: %s (%s, %s)\n", ws.Name, ws.Path, t.Currency, t.TimeZone)
	var total int64
	for _, tab := range bowtie.Tables {
		n, ok := t.Rows[tab.Name]
		if !ok {
			continue
		}
		total += n
		fmt.Fprintf(w, "  %-17s %12s\n", tab.Name, demoCount(n))
	}
	secs := max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(w, "  %s rows in %.1fs: %s events/s, %s rows/s\n", demoCount(total), elapsed.Seconds(),
		demoCount(int64(float64(t.Rows["events"])/secs)), demoCount(int64(float64(total)/secs)))
	fmt.Fprintf(w, "  revenue %.2f %s, spend %.2f %s, %d new customers; truth: %s\n",
		t.Total.Revenue, t.Currency, t.Total.Spend, t.Currency, t.Total.Customers, truthPath)
}

// demoCount formats n with thousands separators.
func demoCount(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// demoBar draws a progress bar on a terminal and nothing otherwise.
type demoBar struct {
	w     io.Writer
	name  string
	on    bool
	start time.Time
	last  time.Time
	drawn bool
}

func newDemoBar(w io.Writer, name string) *demoBar {
	b := &demoBar{w: w, name: name, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.on = true
		}
	}
	return b
}

func (b *demoBar) update(done, total int64) {
	if !b.on {
		return
	}
	now := time.Now()
	if now.Sub(b.last) < 100*time.Millisecond && done < total {
		return
	}
	b.last = now
	frac := float64(done) / float64(max(total, 1))
	const width = 30
	fill := int(frac * width)
	rate := float64(done) / max(now.Sub(b.start).Seconds(), 1e-9)
	fmt.Fprintf(b.w, "\r%s [%s%s] %3.0f%%  %s rows  %s rows/s ", b.name,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), 100*frac, demoCount(done), demoCount(int64(rate)))
	b.drawn = true
}

func (b *demoBar) done() {
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
	}
}
