package main

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

func init() {
	commands["revenue"] = command{summary: "MRR/ARR and movements; 'revenue log': per-customer movements; 'revenue retention': churn, GRR, NRR, trial → paid", run: runRevenue}
}

// revenueOutput prints a Revenue with one column set.
type revenueOutput struct {
	r     *query.Revenue
	title string
}

func (o revenueOutput) MarshalJSON() ([]byte, error) { return json.Marshal(o.r) }

func (o revenueOutput) WriteTable(w io.Writer) error {
	if o.title == "retention" {
		return o.r.WriteTable(w, "Churn and revenue retention", query.RevenueRetentionColumns)
	}
	return o.r.WriteTable(w, "MRR movements", query.RevenueMovementColumns)
}

func (o revenueOutput) WriteCSV(w io.Writer) error {
	if o.title == "retention" {
		return o.r.WriteCSV(w, query.RevenueRetentionColumns)
	}
	return o.r.WriteCSV(w, query.RevenueMovementColumns)
}

func runRevenue(ctx context.Context, env *Env, args []string) error {
	sub := ""
	if len(args) > 0 && (args[0] == "log" || args[0] == "retention") {
		sub, args = args[0], args[1:]
	}
	name := "revenue"
	usage := "revenue [--grain day|week|month] [--by plan|channel|segment|cohort] [--from DATE] [--to DATE] [--format table|json|csv]"
	switch sub {
	case "log":
		name, usage = "revenue log", "revenue log [--grain day|week|month] [--from DATE] [--to DATE] [--format table|json|csv]"
	case "retention":
		name, usage = "revenue retention", "revenue retention [--from DATE] [--to DATE] [--format table|json|csv]"
	}
	fs := env.newFlagSet(name, usage)
	grain := fs.String("grain", "month", "period `grain`: day, week or month")
	by := ""
	if sub == "" {
		fs.StringVar(&by, "by", "", "break down by `group`: plan, channel, segment or cohort")
	}
	from := fs.String("from", "", "first `date` (YYYY-MM-DD, inclusive; default the first day of the month 11 months before --to)")
	to := fs.String("to", "", "last `date` (YYYY-MM-DD, inclusive; default the last day with data)")
	format := fs.String("format", "table", "output `format`: table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkAnalysisFormat(*format); err != nil {
		return err
	}
	if sub == "retention" && *grain != "month" {
		return bowtie.Errorf(bowtie.EINVALID, "--grain: revenue retention is monthly")
	}
	return withAnalysisStore(ctx, env, *from, *to, func(st bowtie.Store, biz *bowtie.Business, f, t time.Time) error {
		if *from == "" {
			f = query.RevenueDefaultFrom(t)
		}
		opts := query.RevenueOptions{From: f, To: t, Grain: *grain, By: by, Trailing: sub == "retention"}
		if sub == "log" {
			res, err := query.RevenueLog(ctx, st.DB(), query.DuckDB{}, biz, opts)
			if err != nil {
				return err
			}
			return emitAnalysis(env, *format, res)
		}
		res, err := query.RevenueQuery(ctx, st.DB(), query.DuckDB{}, biz, opts)
		if err != nil {
			return err
		}
		return emitAnalysis(env, *format, revenueOutput{r: res, title: sub})
	})
}
