package main

import (
	"context"
	"io"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

func init() {
	commands["retention"] = command{summary: "cohort retention (D1/D7/D30, matrix); 'retention activity' for DAU/WAU/MAU and lifecycle", run: runRetention}
}

func runRetention(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "activity" {
		return runActivity(ctx, env, args[1:])
	}
	fs := env.newFlagSet("retention", "retention [--cohort-event NAME | --cohort-stage STAGE] [--return NAME] [--grain day|week|month] [--periods N] [--mode on|on_or_after] [--rolling] [--by DIM] [--as-of DATE] [--from DATE] [--to DATE] [--format table|json|csv]\n       bowtie retention activity [--event NAME] [--grain day|week|month] [--lifecycle] [--from DATE] [--to DATE] [--format table|json|csv]")
	cohortEvent := fs.String("cohort-event", "", "start each person's cohort at the first event with this `name`")
	cohortStage := fs.String("cohort-stage", "", "start each person's cohort at the first entry into this `stage` (default: the lead stage of report_stages, else the first stage)")
	ret := fs.String("return", "", "the event `name` that counts as coming back (default: any track, page or screen event)")
	grain := fs.String("grain", "day", "cohort and interval `grain`: day, week or month")
	periods := fs.Int("periods", 0, "last interval `N` shown (default 30 days, 12 weeks or 12 months)")
	mode := fs.String("mode", "on", "`on` (came back in interval N) or on_or_after (in N or later)")
	rolling := fs.Bool("rolling", false, "rolling 24-hour (7-day, 30-day) intervals from each person's start instead of calendar days (weeks, months)")
	by := fs.String("by", "", "breakdown: channel, source, campaign, person.COLUMN or account.COLUMN")
	asOf := fs.String("as-of", "", "observe through this `date` (inclusive; default the last day with data)")
	from, to := analysisRangeFlags(fs)
	format := fs.String("format", "table", "output `format`: table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkAnalysisFormat(*format); err != nil {
		return err
	}
	return withAnalysisStore(ctx, env, *from, *to, func(st bowtie.Store, biz *bowtie.Business, f, t time.Time) error {
		req := query.RetentionRequest{CohortEvent: *cohortEvent, CohortStage: *cohortStage, ReturnEvent: *ret, Grain: *grain,
			Periods: *periods, Mode: *mode, Rolling: *rolling, From: f, To: t, By: *by}
		if req.CohortEvent == "" && req.CohortStage == "" {
			req.CohortStage = biz.ReportStages.Lead
			if req.CohortStage == "" {
				req.CohortStage = biz.Stages[0]
			}
		}
		if *asOf != "" {
			d, err := time.Parse(time.DateOnly, *asOf)
			if err != nil {
				return bowtie.Errorf(bowtie.EINVALID, "--as-of: %q is not a date like 2024-03-31", *asOf)
			}
			req.AsOf = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, biz.Location())
		}
		res, err := query.RunRetention(ctx, st.DB(), query.DuckDB{}, biz, req)
		if err != nil {
			return err
		}
		return emitAnalysis(env, *format, res)
	})
}

// lifecycleOutput prints only the lifecycle of an Activity.
type lifecycleOutput struct{ *query.Activity }

func (l lifecycleOutput) WriteCSV(w io.Writer) error { return l.WriteLifecycleCSV(w) }

func runActivity(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("retention activity", "retention activity [--event NAME] [--grain day|week|month] [--lifecycle] [--from DATE] [--to DATE] [--format table|json|csv]")
	event := fs.String("event", "", "the event `name` that makes a person active (default: any track, page or screen event)")
	grain := fs.String("grain", "week", "lifecycle interval `grain`: day, week or month")
	lifecycle := fs.Bool("lifecycle", false, "with --format csv, write the lifecycle instead of the daily active people")
	from, to := analysisRangeFlags(fs)
	format := fs.String("format", "table", "output `format`: table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkAnalysisFormat(*format); err != nil {
		return err
	}
	return withAnalysisStore(ctx, env, *from, *to, func(st bowtie.Store, biz *bowtie.Business, f, t time.Time) error {
		res, err := query.RunActivity(ctx, st.DB(), query.DuckDB{}, biz, query.ActivityRequest{Event: *event, From: f, To: t, Grain: *grain})
		if err != nil {
			return err
		}
		if *lifecycle {
			return emitAnalysis(env, *format, lifecycleOutput{res})
		}
		return emitAnalysis(env, *format, res)
	})
}
