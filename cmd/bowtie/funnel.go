package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/query"
)

func init() {
	commands["stages"] = command{summary: "stage funnel (cohort or period) and, with 'stages sales', pipeline metrics", run: runStages}
	commands["funnel"] = command{summary: "event funnel: ordered, strict or any-order steps with a conversion window", run: runFunnel}
}

// analysisOutput is what every analysis command prints.
type analysisOutput interface {
	WriteTable(io.Writer) error
	WriteCSV(io.Writer) error
}

// checkAnalysisFormat validates --format.
func checkAnalysisFormat(format string) error {
	if format != "table" && format != "json" && format != "csv" {
		return bowtie.Errorf(bowtie.EINVALID, "--format: %q is not table, json or csv", format)
	}
	return nil
}

// openAnalysis checks --format, loads the business and opens the store,
// as every analysis command does before it asks its question; the caller
// closes the store.
func openAnalysis(env *Env, format string) (*bowtie.Business, *duckdb.Store, error) {
	if err := checkAnalysisFormat(format); err != nil {
		return nil, nil, err
	}
	biz, err := env.Business()
	if err != nil {
		return nil, nil, err
	}
	st, err := env.OpenStore()
	if err != nil {
		return nil, nil, err
	}
	return biz, st, nil
}

// emitAnalysis prints v in the requested format.
func emitAnalysis(env *Env, format string, v analysisOutput) error {
	switch format {
	case "json":
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "csv":
		return v.WriteCSV(env.Stdout)
	}
	return v.WriteTable(env.Stdout)
}

// splitCommaList splits a comma-separated flag value, dropping empty items.
func splitCommaList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// analysisRangeFlags registers --from and --to.
func analysisRangeFlags(fs *flag.FlagSet) (from, to *string) {
	from = fs.String("from", "", "first `date` (YYYY-MM-DD, inclusive; default 90 days before --to)")
	to = fs.String("to", "", "last `date` (YYYY-MM-DD, inclusive; default the last day with data)")
	return
}

// withAnalysisStore loads the business, opens the store and resolves the range.
func withAnalysisStore(ctx context.Context, env *Env, fromS, toS string, f func(st bowtie.Store, biz *bowtie.Business, from, to time.Time) error) error {
	biz, err := env.Business()
	if err != nil {
		return err
	}
	st, err := env.OpenStore()
	if err != nil {
		return err
	}
	defer st.Close()
	from, to, err := reportRange(ctx, st, biz, fromS, toS)
	if err != nil {
		return err
	}
	return f(st, biz, from, to)
}

func runStages(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "sales" {
		return runSales(ctx, env, args[1:])
	}
	fs := env.newFlagSet("stages", "stages [--entity person|account|deal] [--stages a,b,c] [--mode cohort|period] [--within DAYS] [--strict] [--by DIM] [--from DATE] [--to DATE] [--format table|json|csv]\n       bowtie stages sales [--pipeline NAME] [--from DATE] [--to DATE] [--format table|json|csv]")
	entity := fs.String("entity", "person", "what moves through the stages: `person`, account or deal")
	stages := fs.String("stages", "", "comma-separated stage `list` in order (default: stages in bowtie.yaml)")
	mode := fs.String("mode", "cohort", "conversion semantics: `cohort` (of those entering the first stage in the period) or period (entries into each stage in the period)")
	within := fs.Int("within", 0, "cohort mode: count later stages only when reached within `N` days of the first (0: no limit)")
	strict := fs.Bool("strict", false, "a stage counts only with its own row (skipped stages do not count as passed)")
	by := fs.String("by", "", "breakdown: channel, source, campaign, person.COLUMN or account.COLUMN")
	from, to := analysisRangeFlags(fs)
	format := fs.String("format", "table", "output `format`: table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkAnalysisFormat(*format); err != nil {
		return err
	}
	return withAnalysisStore(ctx, env, *from, *to, func(st bowtie.Store, biz *bowtie.Business, f, t time.Time) error {
		res, err := query.RunStageFunnel(ctx, st.DB(), query.DuckDB{}, biz, query.StageFunnelRequest{
			Entity: *entity, Stages: splitCommaList(*stages), From: f, To: t, Mode: *mode, WithinDays: *within, Strict: *strict, By: *by})
		if err != nil {
			return err
		}
		return emitAnalysis(env, *format, res)
	})
}

func runSales(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("stages sales", "stages sales [--pipeline NAME] [--from DATE] [--to DATE] [--format table|json|csv]")
	pipeline := fs.String("pipeline", "", "only deals of this `pipeline` (deals.pipeline; default all)")
	from, to := analysisRangeFlags(fs)
	format := fs.String("format", "table", "output `format`: table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkAnalysisFormat(*format); err != nil {
		return err
	}
	return withAnalysisStore(ctx, env, *from, *to, func(st bowtie.Store, biz *bowtie.Business, f, t time.Time) error {
		res, err := query.RunSales(ctx, st.DB(), query.DuckDB{}, biz, query.SalesRequest{From: f, To: t, Pipeline: *pipeline})
		if err != nil {
			return err
		}
		return emitAnalysis(env, *format, res)
	})
}

// repeatedFlag collects a repeated flag.
type repeatedFlag []string

func (l *repeatedFlag) String() string     { return strings.Join(*l, "; ") }
func (l *repeatedFlag) Set(s string) error { *l = append(*l, s); return nil }

func runFunnel(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("funnel", "funnel --step EVENT [--step 'EVENT KEY=VALUE ...']... [--exclude 'EVENT [KEY=VALUE] [between=I-J]']... [--window 14d] [--mode ordered|strict|any] [--unit person|account] [--by DIM] [--from DATE] [--to DATE] [--format table|json|csv]")
	var steps, excludes repeatedFlag
	fs.Var(&steps, "step", "a step: `'EVENT [KEY=VALUE ...]'` (event name and property equality filters); repeat in order, 2 to 20")
	fs.Var(&excludes, "exclude", "an exclusion step: `'EVENT [KEY=VALUE ...] [between=I-J]'` (default between the first and last step); repeatable")
	window := fs.String("window", "14d", "conversion `window` from the first step: 14d, 36h, 2w")
	mode := fs.String("mode", "ordered", "step order: `ordered`, strict (each step the very next event) or any")
	unit := fs.String("unit", "person", "who converts: `person` or account (any of its people)")
	by := fs.String("by", "", "breakdown: channel, source, campaign, person.COLUMN or account.COLUMN")
	from, to := analysisRangeFlags(fs)
	format := fs.String("format", "table", "output `format`: table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkAnalysisFormat(*format); err != nil {
		return err
	}
	req := query.EventFunnelRequest{Mode: *mode, Unit: *unit, By: *by}
	for _, s := range steps {
		x, err := query.ParseMatch("--step", s, false)
		if err != nil {
			return err
		}
		req.Steps = append(req.Steps, x.EventMatch)
	}
	for _, s := range excludes {
		x, err := query.ParseMatch("--exclude", s, true)
		if err != nil {
			return err
		}
		req.Exclusions = append(req.Exclusions, x)
	}
	w, err := query.ParseWindow("--window", *window)
	if err != nil {
		return err
	}
	req.Window = w
	return withAnalysisStore(ctx, env, *from, *to, func(st bowtie.Store, biz *bowtie.Business, f, t time.Time) error {
		req.From, req.To = f, t
		res, err := query.RunEventFunnel(ctx, st.DB(), query.DuckDB{}, biz, req)
		if err != nil {
			return err
		}
		return emitAnalysis(env, *format, res)
	})
}
