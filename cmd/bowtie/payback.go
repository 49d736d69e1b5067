package main

import (
	"context"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

func init() {
	commands["payback"] = command{summary: "unit economics per channel, campaign or cohort: CAC, LTV, LTV:CAC, CAC payback, cohort ROAS curves", run: runPayback}
}

func runPayback(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("payback", "payback [--by channel|campaign|cohort] [--from DATE] [--to DATE] [--as-of DATE] [--models LIST] [--format table|json|csv]")
	by := fs.String("by", "channel", "break down by `group`: channel, campaign or cohort (the acquisition month)")
	from := fs.String("from", "", "first acquisition `date` (YYYY-MM-DD; default the first day of the month 11 months before --to)")
	to := fs.String("to", "", "last acquisition `date` (YYYY-MM-DD; default --as-of)")
	asOf := fs.String("as-of", "", "\"today\": the last `date` observed (YYYY-MM-DD; default the last day with data)")
	months := fs.Int("months", 0, "the last month since acquisition of the ROAS curves (default ltv.horizon_months)")
	models := fs.String("models", "historical,formula,sbg,bgnbd", "LTV `methods` shown beside CAC, comma-separated")
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
	req := query.PaybackRequest{By: *by, Now: now, Months: *months, Models: splitCommaList(*models)}
	for _, d := range []struct {
		name, s string
		t       *time.Time
	}{{"from", *from, &req.From}, {"to", *to, &req.To}} {
		if d.s == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.s)
		if err != nil {
			return bowtie.Errorf(bowtie.EINVALID, "--%s: %q is not a date like 2024-03-31", d.name, d.s)
		}
		*d.t = t
	}
	if req.To.IsZero() {
		req.To = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	}
	res, err := query.RunPayback(ctx, st.DB(), query.DuckDB{}, biz, req)
	if err != nil {
		return err
	}
	return emitAnalysis(env, *format, res)
}
