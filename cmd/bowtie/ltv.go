package main

import (
	"context"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

func init() {
	commands["ltv"] = command{summary: "lifetime value: historical cohorts, ARPA × margin ÷ churn, sBG (subscriptions) or BG/NBD + Gamma-Gamma (orders)", run: runLTV}
}

// asOfNow resolves --as-of: the given local date, or the last day with
// data (as report's --to), as noon of that day in the business time zone.
func asOfNow(ctx context.Context, st bowtie.Store, biz *bowtie.Business, s string) (time.Time, error) {
	var d time.Time
	if s != "" {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return t, bowtie.Errorf(bowtie.EINVALID, "--as-of: %q is not a date like 2024-03-31", s)
		}
		d = t
	} else {
		last, err := query.LastDataDate(ctx, st.DB(), query.DuckDB{}, biz, time.Now())
		if err != nil {
			return d, err
		}
		d = last
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, biz.Location()), nil
}

func runLTV(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("ltv", "ltv [--model historical|formula|sbg|bgnbd] [--by channel|campaign|cohort] [--as-of DATE] [--format table|json|csv]")
	model := fs.String("model", "historical", "`method`: historical, formula, sbg or bgnbd")
	by := fs.String("by", "", "break down by `group`: channel, campaign or cohort (the acquisition month)")
	asOf := fs.String("as-of", "", "\"today\": the last `date` observed (YYYY-MM-DD; default the last day with data)")
	months := fs.Int("months", 0, "historical: the last month since acquisition shown (default ltv.horizon_months)")
	interval := fs.String("interval", "month", "sbg: the billing `interval` fitted, month or year")
	format := fs.String("format", "table", "output `format`: table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	biz, st, err := openAnalysis(env, *format)
	if err != nil {
		return err
	}
	defer st.Close()
	now, err := asOfNow(ctx, st, biz, *asOf)
	if err != nil {
		return err
	}
	res, err := query.RunLTV(ctx, st.DB(), query.DuckDB{}, biz, query.LTVRequest{Model: *model, By: *by, Now: now, Months: *months, Interval: *interval})
	if err != nil {
		return err
	}
	return emitAnalysis(env, *format, res)
}
