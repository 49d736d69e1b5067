package main

import (
	"context"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
)

func init() {
	commands["referrals"] = command{summary: "referral and virality: invites per user, invite conversion, K-factor, viral cycle time; B2B referral share of new business", run: runReferrals}
}

func runReferrals(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("referrals", "referrals [--grain day|week|month|quarter|year] [--invite-event NAME] [--referrer-property KEY] [--signup-stage STAGE] [--referral-channels A,B] [--new-pipelines A,B] [--from DATE] [--to DATE] [--format table|json|csv]")
	grain := fs.String("grain", "", "cut the period into `grain`s: day, week, month, quarter or year (default one row)")
	invite := fs.String("invite-event", query.DefaultInviteEvent, "events.name of a sent `invitation`")
	prop := fs.String("referrer-property", query.DefaultReferrerProperty, "events.properties `key` holding the referrer's person_id on a referred visitor's events")
	stage := fs.String("signup-stage", "", "`stage` that counts as signing up (default the lead stage of report_stages, else the first stage)")
	channels := fs.String("referral-channels", strings.Join(query.DefaultReferralChannels, ","), "acquisition `channels` that count as referred (B2B share), comma-separated")
	pipelines := fs.String("new-pipelines", strings.Join(query.DefaultNewPipelines, ","), "deal `pipelines` that are new business (B2B share), comma-separated")
	from, to := analysisRangeFlags(fs)
	format := fs.String("format", "table", "output `format`: table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkAnalysisFormat(*format); err != nil {
		return err
	}
	return withAnalysisStore(ctx, env, *from, *to, func(st bowtie.Store, biz *bowtie.Business, f, t time.Time) error {
		res, err := query.RunReferrals(ctx, st.DB(), query.DuckDB{}, biz, query.ReferralsRequest{From: f, To: t, Grain: *grain,
			InviteEvent: *invite, ReferrerProperty: *prop, SignupStage: *stage,
			ReferralChannels: splitCommaList(*channels), NewPipelines: splitCommaList(*pipelines)})
		if err != nil {
			return err
		}
		return emitAnalysis(env, *format, res)
	})
}
