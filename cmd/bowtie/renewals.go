package main

import (
	"context"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

func init() {
	commands["renewals"] = command{summary: "B2B contract renewals: renewal rate and uplift per period and channel", run: runRenewals}
}

func runRenewals(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("renewals", "renewals [--grain day|week|month|quarter|year] [--by channel|source|campaign|person.COLUMN|account.COLUMN] [--pipeline NAME] [--contracts A,B] [--from DATE] [--to DATE] [--format table|json|csv]")
	grain := fs.String("grain", "", "cut the period into `grain`s: day, week, month, quarter or year (default one row)")
	by := fs.String("by", "", "break down by the customer's `channel`, source, campaign (acquisition touch), person.COLUMN or account.COLUMN")
	pipeline := fs.String("pipeline", query.DefaultRenewalPipeline, "deals.pipeline `name` of renewal deals")
	contracts := fs.String("contracts", strings.Join(query.DefaultContractPipelines, ","), "`pipelines` whose won deals are the contracts a renewal renews, comma-separated")
	from, to := analysisRangeFlags(fs)
	format := fs.String("format", "table", "output `format`: table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkAnalysisFormat(*format); err != nil {
		return err
	}
	return withAnalysisStore(ctx, env, *from, *to, func(st bowtie.Store, biz *bowtie.Business, f, t time.Time) error {
		res, err := query.RunRenewals(ctx, st.DB(), query.DuckDB{}, biz, query.RenewalsRequest{From: f, To: t, Grain: *grain, By: *by,
			Pipeline: *pipeline, ContractPipelines: splitCommaList(*contracts)})
		if err != nil {
			return err
		}
		return emitAnalysis(env, *format, res)
	})
}
