package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

func init() {
	commands["report"] = command{summary: "acquisition & ROI report per channel, campaign and period", run: runReport}
}

func runReport(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("report", "report [--by channel,month] [--from DATE] [--to DATE] [--format table|json|csv]")
	by := fs.String("by", "channel", "breakdown `dimensions`, comma-separated: channel, source, campaign and one of day, week, month, quarter, year")
	from := fs.String("from", "", "first `date` (YYYY-MM-DD, inclusive; default 90 days before --to)")
	to := fs.String("to", "", "last `date` (YYYY-MM-DD, inclusive; default the last day with data)")
	format := fs.String("format", "table", "output `format`: table, json or csv")
	compare := fs.Bool("compare", false, "add the totals of the previous period of equal length")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dims, err := query.ParseDimensions(*by)
	if err != nil {
		return err
	}
	if *format != "table" && *format != "json" && *format != "csv" {
		return bowtie.Errorf(bowtie.EINVALID, "--format: %q is not table, json or csv", *format)
	}
	biz, err := env.Business()
	if err != nil {
		return err
	}
	st, err := env.OpenStore()
	if err != nil {
		return err
	}
	defer st.Close()
	req := query.ReportRequest{By: dims, Compare: *compare}
	if req.From, req.To, err = reportRange(ctx, st, biz, *from, *to); err != nil {
		return err
	}
	rep, err := query.RunReport(ctx, st.DB(), query.DuckDB{}, biz, req)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "csv":
		return rep.WriteCSV(env.Stdout)
	}
	return rep.WriteTable(env.Stdout)
}

// reportRange resolves --from and --to: given dates are parsed, a missing
// --to is the last day with data (or today) and a missing --from is 89 days
// before --to.
func reportRange(ctx context.Context, st bowtie.Store, biz *bowtie.Business, fromS, toS string) (from, to time.Time, err error) {
	parse := func(name, s string) (time.Time, error) {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return t, bowtie.Errorf(bowtie.EINVALID, "--%s: %q is not a date like 2024-03-31", name, s)
		}
		return t, nil
	}
	if toS != "" {
		if to, err = parse("to", toS); err != nil {
			return
		}
	} else {
		last, lerr := query.LastDataDate(ctx, st.DB(), query.DuckDB{}, biz, time.Now())
		if lerr != nil {
			return from, to, lerr
		}
		to = last
	}
	if fromS != "" {
		from, err = parse("from", fromS)
	} else {
		from = to.AddDate(0, 0, -89)
	}
	return
}
