package main

import (
	"context"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

func init() {
	commands["orders"] = command{summary: "orders: AOV, repeat-purchase rate, purchase frequency, gross margin, revenue by product line", run: runOrders}
}

func runOrders(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("orders", "orders [--grain day|week|month|quarter|year] [--by product_line|channel|source|campaign|person.COLUMN|account.COLUMN] [--from DATE] [--to DATE] [--format table|json|csv]")
	grain := fs.String("grain", "", "cut the period into `grain`s: day, week, month, quarter or year (default one row)")
	by := fs.String("by", "", "break down by product_line, or the customer's `channel`, source, campaign (acquisition touch), person.COLUMN or account.COLUMN")
	from, to := analysisRangeFlags(fs)
	format := fs.String("format", "table", "output `format`: table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkAnalysisFormat(*format); err != nil {
		return err
	}
	return withAnalysisStore(ctx, env, *from, *to, func(st bowtie.Store, biz *bowtie.Business, f, t time.Time) error {
		res, err := query.RunOrders(ctx, st.DB(), query.DuckDB{}, biz, query.OrdersRequest{From: f, To: t, Grain: *grain, By: *by})
		if err != nil {
			return err
		}
		return emitAnalysis(env, *format, res)
	})
}
