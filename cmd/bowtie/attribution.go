package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/query"
	"github.com/bowtie-analytics/bowtie/query/attribution"
)

func init() {
	commands["attribution"] = command{summary: "multi-touch attribution: every model side by side per channel or campaign, joined to spend (ROAS, ROMI)", run: runAttribution}
}

func runAttribution(ctx context.Context, env *Env, args []string) error {
	fs := env.newFlagSet("attribution", "attribution [--model first|last|last_non_direct|linear|position|w_shaped|time_decay|custom|markov|shapley|all] [--conversion stage:NAME|event:NAME|deal:won|payment:first] [--level person|account] [--by channel|campaign] [--lookback 90d] [--from DATE] [--to DATE] [--dataset NAME] [--format table|json|csv]")
	models := fs.String("model", "all", "`models`, comma-separated: first, last, last_non_direct, linear, position, w_shaped, time_decay, custom, markov, shapley or all")
	conversion := fs.String("conversion", "", "what a conversion is: stage:`NAME`, event:NAME, deal:won or payment:first (default deal:won for B2B, payment:first for B2C)")
	level := fs.String("level", "", "whose touches form a path: `person` or account (default the business's customer entity)")
	by := fs.String("by", "channel", "rows per `channel` or per channel and campaign")
	lookback := fs.String("lookback", "", "how far before a conversion touches count, e.g. 90d or 12w (default 365d for B2B, 30d for B2C)")
	from, to := analysisRangeFlags(fs)
	halfLife := fs.String("half-life", "", "time-decay half-life, e.g. 7d (default 7d)")
	custom := fs.String("custom", "", "custom model's shares of the first touch, the middle touches and the last touch, e.g. 0.3,0.4,0.3 (default 0.4,0.2,0.4)")
	order := fs.Int("markov-order", 1, "Markov chain `order`, 1 to 3")
	dataset := fs.String("dataset", "", "attribute the imported paths of this `name` instead of the events")
	touches := fs.String("touch-events", "", "comma-separated event `names` that count as touches (default every event with a channel)")
	keep := fs.Bool("keep-repeats", false, "keep consecutive touches of the same channel apart (default: a run collapses into its first touch)")
	noDirect := fs.Bool("exclude-direct", false, "drop Direct touches from paths that have another touch")
	dealWindow := fs.String("deal-window", "created", "deal:won paths end at the deal's `created` date or at its closed date")
	samples := fs.Int("shapley-samples", 0, "Shapley: random permutations when sampling (0: the model's default)")
	maxExact := fs.Int("shapley-max-exact", 0, "Shapley: the most channels computed exactly (0: the model's default)")
	seed := fs.Int64("seed", 1, "Shapley: seed of the sampled permutations")
	top := fs.Int("top-paths", 20, "how many top paths to list")
	format := fs.String("format", "table", "output `format`: table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	req := attribution.Request{
		Conversion: *conversion, Level: *level, By: *by, Models: splitCommaList(*models), Lookback: *lookback,
		HalfLife: *halfLife, MarkovOrder: *order, Dataset: *dataset, TouchEvents: splitCommaList(*touches),
		KeepRepeats: *keep, ExcludeDirect: *noDirect, DealWindow: *dealWindow,
		ShapleySamples: *samples, ShapleyMaxExact: *maxExact, ShapleySeed: *seed, TopPaths: *top,
	}
	if *custom != "" {
		w, err := parseWeights(*custom)
		if err != nil {
			return err
		}
		req.Custom = w
	}
	if len(req.Models) == 0 {
		return bowtie.Errorf(bowtie.EINVALID, "--model: give at least one model (or all)")
	}
	biz, st, err := openAnalysis(env, *format)
	if err != nil {
		return err
	}
	defer st.Close()
	if req.From, req.To, err = reportRange(ctx, st, biz, *from, *to); err != nil {
		return err
	}
	res, err := attribution.Run(ctx, st.DB(), query.DuckDB{}, biz, req)
	if err != nil {
		return err
	}
	return emitAnalysis(env, *format, res)
}

// parseWeights parses "first,middle,last" custom weights.
func parseWeights(s string) (attribution.CustomWeights, error) {
	parts := strings.Split(s, ",")
	var v [3]float64
	if len(parts) != 3 {
		return attribution.CustomWeights{}, bowtie.Errorf(bowtie.EINVALID, "--custom: %q is not three shares first,middle,last (e.g. 0.3,0.4,0.3)", s)
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return attribution.CustomWeights{}, bowtie.Errorf(bowtie.EINVALID, "--custom: %q is not a number (shares first,middle,last, e.g. 0.3,0.4,0.3)", p)
		}
		v[i] = f
	}
	return attribution.CustomWeights{First: v[0], Middle: v[1], Last: v[2]}, nil
}
