package attribution

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
	model "github.com/bowtie-analytics/bowtie/model/attribution"
	"github.com/bowtie-analytics/bowtie/query"
)

// keySep joins channel and campaign into one state name for the
// data-driven models when rows are by campaign.
const keySep = "\x1f"

// Run computes the attribution analysis asked for by req. Errors:
// *bowtie.Error with EINVALID for a bad request (unknown model, level,
// breakdown or conversion kind, a lookback that is not positive, From
// after To), a conversion or dataset that matches nothing in the store
// (the message names the closest existing names), or money in a currency
// without an exchange rate.
func Run(ctx context.Context, db *sql.DB, d query.Dialect, biz *bowtie.Business, req Request) (*Result, error) {
	s, err := resolve(biz, req)
	if err != nil {
		return nil, err
	}
	res := &Result{
		Currency: biz.Currency, TimeZone: biz.TimeZone,
		From: s.from.Format(time.DateOnly), To: s.to.Format(time.DateOnly),
		Level: s.level, By: s.by, Models: s.models,
		LookbackDays: s.lookbackDays, HalfLifeDays: s.halfLifeDays,
		KeepRepeats: req.KeepRepeats, ExcludeDirect: req.ExcludeDirect, MarkovOrder: s.markovOrder,
		Dataset: req.Dataset, Rows: []Row{}, LeadQuality: []LeadQualityRow{}, TopPaths: []PathRow{}, Notes: []string{},
	}
	var bp *builtPaths
	if req.Dataset != "" {
		res.Conversion = "dataset:" + req.Dataset
		for _, m := range []string{string(model.TimeDecay), string(model.WShaped)} {
			if !slices.Contains(s.models, m) {
				continue
			}
			if len(req.Models) > 0 && !slices.Contains(req.Models, "all") {
				return nil, bowtie.Errorf(bowtie.EINVALID, "model %s: imported paths carry no touch times or lead and opportunity milestones, which %s needs; choose another model", m, m)
			}
			s.models = slices.DeleteFunc(s.models, func(x string) bool { return x == m })
			res.Notes = append(res.Notes, m+" is left out: imported paths carry no touch times or milestones")
		}
		res.Models = s.models
		if bp, err = readDataset(ctx, db, d, biz, s); err != nil {
			return nil, err
		}
	} else {
		res.Conversion = s.conv.String()
		if s.conv.kind == kindDeal {
			res.DealWindow = s.dealWindow
		}
		if bp, err = buildPaths(ctx, db, d, biz, s); err != nil {
			return nil, err
		}
	}
	if err := model.ValidatePaths(bp.paths); err != nil {
		return nil, fmt.Errorf("attribution: built an invalid path: %w", err)
	}
	credits, err := runModels(s, bp.paths, res)
	if err != nil {
		return nil, err
	}
	spend, err := readSpend(ctx, db, d, biz, s)
	if err != nil {
		return nil, err
	}
	if req.Dataset == "" {
		if res.LeadQuality, err = leadQuality(ctx, db, biz, s); err != nil {
			return nil, err
		}
	}
	fillTotals(res, bp)
	fillRows(res, s, credits, spend)
	fillPaths(res, s, bp.paths, req.Dataset != "")
	if bp.direct > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d conversions had no touch in their window and are credited to %s by every model", bp.direct, model.DirectChannel))
	}
	if bp.unknownUnit > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d of them belong to no known %s (the conversion row names none) and count as direct", bp.unknownUnit, s.level))
	}
	if bp.droppedDirect > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("exclude direct: %d Direct touches were dropped from paths that had other touches", bp.droppedDirect))
	}
	if res.Shapley != nil {
		neg := 0
		for _, v := range res.Shapley.Values {
			if v.Value < 0 {
				neg++
			}
		}
		if neg > 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("shapley: %d channels have a negative Shapley value (paths that include them convert less often than paths without them), so their credit is negative", neg))
		}
	}
	if res.Totals.Conversions == 0 {
		res.Notes = append(res.Notes, "no conversion in the period")
	}
	return res, nil
}

// runModels runs the requested models and returns each one's credits.
func runModels(s *settings, paths []model.Path, res *Result) (map[string][]model.Credit, error) {
	out := map[string][]model.Credit{}
	byCampaign := s.by == "campaign"
	anyRule := slices.ContainsFunc(s.models, func(m string) bool { return model.Model(m).IsRule() })
	if anyRule {
		o := model.RuleOptions{HalfLife: time.Duration(s.halfLifeDays * 24 * float64(time.Hour)),
			Custom: model.CustomWeights{First: s.req.Custom.First, Middle: s.req.Custom.Middle, Last: s.req.Custom.Last}}
		if err := o.Validate(); err != nil {
			return nil, bowtie.Errorf(bowtie.EINVALID, "%v", err)
		}
		for m, cs := range model.AllRuleCredits(paths, o, byCampaign) {
			if slices.Contains(s.models, string(m)) {
				out[string(m)] = cs
			}
		}
	}
	dd := paths
	if byCampaign && (slices.Contains(s.models, string(model.Markov)) || slices.Contains(s.models, string(model.Shapley))) {
		dd = campaignStates(paths)
	}
	if slices.Contains(s.models, string(model.Markov)) {
		mr, err := model.RunMarkov(dd, model.MarkovOptions{Order: s.markovOrder, Collapse: !s.req.KeepRepeats})
		if err != nil {
			return nil, fmt.Errorf("attribution: markov: %w", err)
		}
		out[string(model.Markov)] = splitKeys(mr.Credit)
		res.Markov = markovReport(mr)
	}
	if slices.Contains(s.models, string(model.Shapley)) {
		cs, rep, err := runShapley(s, dd)
		if err != nil {
			return nil, err
		}
		out[string(model.Shapley)] = splitKeys(cs)
		res.Shapley = rep
	}
	return out, nil
}

// campaignStates returns the paths with each touch's channel replaced by
// channel and campaign joined by keySep, so the data-driven models see
// one state per (channel, campaign).
func campaignStates(paths []model.Path) []model.Path {
	out := make([]model.Path, len(paths))
	for i, p := range paths {
		out[i] = p
		if len(p.Touches) == 0 {
			continue
		}
		ts := make([]model.Touch, len(p.Touches))
		for j, t := range p.Touches {
			ts[j] = t
			ts[j].Channel = t.Channel + keySep + t.Campaign
			ts[j].Campaign = ""
		}
		out[i].Touches = ts
	}
	return out
}

// splitKeys turns credits of joined channel/campaign states back into
// channel and campaign.
func splitKeys(cs []model.Credit) []model.Credit {
	out := make([]model.Credit, len(cs))
	for i, c := range cs {
		out[i] = c
		if ch, camp, ok := strings.Cut(c.Channel, keySep); ok {
			out[i].Channel, out[i].Campaign = ch, camp
		}
	}
	return out
}

// display writes a state key for people: channel / campaign.
func display(k string) string { return strings.ReplaceAll(k, keySep, " / ") }

// markovTransitions is how many transitions the report lists.
const markovTransitions = 50

func markovReport(mr *model.MarkovResult) *MarkovReport {
	r := &MarkovReport{Order: mr.Order, ConversionProb: mr.ConversionProb, States: len(mr.States),
		RemovalEffects: []RemovalEffect{}, Transitions: []Transition{}}
	sum := 0.0
	for _, re := range mr.RemovalEffect {
		sum += re
	}
	for i, ch := range mr.Channels {
		e := RemovalEffect{Channel: display(ch), RemovalEffect: mr.RemovalEffect[i]}
		if sum > 0 {
			e.Share = mr.RemovalEffect[i] / sum
		}
		r.RemovalEffects = append(r.RemovalEffects, e)
	}
	sort.SliceStable(r.RemovalEffects, func(a, b int) bool {
		return r.RemovalEffects[a].RemovalEffect > r.RemovalEffects[b].RemovalEffect
	})
	ts := slices.Clone(mr.Transitions)
	sort.SliceStable(ts, func(a, b int) bool { return ts[a].Count > ts[b].Count })
	if len(ts) > markovTransitions {
		ts = ts[:markovTransitions]
	}
	for _, t := range ts {
		r.Transitions = append(r.Transitions, Transition{From: display(mr.States[t.From]), To: display(mr.States[t.To]), P: t.P, Count: t.Count})
	}
	return r
}

// fillTotals sets the totals from the paths.
func fillTotals(res *Result, bp *builtPaths) {
	t := &res.Totals
	for i := range bp.paths {
		p := &bp.paths[i]
		t.Conversions += p.Conversions
		t.NullPaths += p.Nulls
		if p.Conversions > 0 {
			t.ConvertingPaths++
			t.Touches += float64(len(p.Touches))
		}
	}
	t.Revenue = float64(bp.valueE4) / 1e4
	t.DirectConversions = float64(bp.direct)
}

// fillRows joins every model's credits and the spend into rows.
func fillRows(res *Result, s *settings, credits map[string][]model.Credit, spend map[rowKey]*spendRow) {
	rows := map[rowKey]*Row{}
	get := func(k rowKey) *Row {
		r, ok := rows[k]
		if !ok {
			r = &Row{Channel: k.channel, Campaign: k.campaign, Credits: map[string]*Credit{}}
			for _, m := range s.models {
				r.Credits[m] = &Credit{}
			}
			rows[k] = r
		}
		return r
	}
	for m, cs := range credits {
		for _, c := range cs {
			cr := get(rowKey{c.Channel, c.Campaign}).Credits[m]
			cr.Conversions += c.Conversions
			cr.Revenue += c.Value
		}
	}
	for k, sp := range spend {
		r := get(k)
		r.Cost += sp.cost
		r.PlatformConversions += sp.platform
		res.Totals.Cost += sp.cost
		res.Totals.PlatformConversions += sp.platform
	}
	res.Totals.Cost = round4(res.Totals.Cost)
	res.Totals.OverClaim = div(res.Totals.PlatformConversions, res.Totals.Conversions)
	for _, r := range rows {
		r.Cost = round4(r.Cost)
		if c, ok := r.Credits[string(model.Last)]; ok {
			r.OverClaim = div(r.PlatformConversions, c.Conversions)
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, m := range s.models {
			c := r.Credits[m]
			c.Revenue = round4(c.Revenue)
			c.CostPerConversion = div(r.Cost, c.Conversions)
			c.ROAS = div(c.Revenue, r.Cost)
			c.ROMI = div(c.Revenue-r.Cost, r.Cost)
			if c.Conversions > hi {
				hi, r.MaxModel = c.Conversions, m
			}
			if c.Conversions < lo {
				lo, r.MinModel = c.Conversions, m
			}
		}
		if len(s.models) > 1 && lo > 1e-12 {
			r.Spread = div(hi, lo)
		}
		res.Rows = append(res.Rows, *r)
	}
	first := s.models[0]
	sort.Slice(res.Rows, func(i, j int) bool {
		a, b := &res.Rows[i], &res.Rows[j]
		if a.Cost != b.Cost {
			return a.Cost > b.Cost
		}
		if ca, cb := a.Credits[first].Conversions, b.Credits[first].Conversions; ca != cb {
			return ca > cb
		}
		if a.Channel != b.Channel {
			return a.Channel < b.Channel
		}
		return a.Campaign < b.Campaign
	})
}

// round4 rounds money to the four decimals the store keeps.
func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// Path-length buckets: 0 (no touch), 1 … 9 touches, 10+.
var lengthLabels = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10+"}

// Time-to-convert buckets in whole days from the first touch to the
// conversion: the upper bound of each (inclusive), then >365.
var ttcBounds = []int{0, 1, 3, 7, 14, 30, 60, 90, 180, 365}
var ttcLabels = []string{"0", "1", "2–3", "4–7", "8–14", "15–30", "31–60", "61–90", "91–180", "181–365", ">365", "no touch"}

// fillPaths computes the top paths and the distributions.
func fillPaths(res *Result, s *settings, paths []model.Path, imported bool) {
	type agg struct{ conv, nulls, value float64 }
	byPath := map[string]*agg{}
	lengths := make([]Bucket, len(lengthLabels))
	for i, l := range lengthLabels {
		lengths[i].Label = l
	}
	ttc := make([]Bucket, len(ttcLabels))
	for i, l := range ttcLabels {
		ttc[i].Label = l
	}
	var key []byte
	for i := range paths {
		p := &paths[i]
		key = key[:0]
		last := ""
		for j, t := range p.Touches {
			if j > 0 && t.Channel == last {
				continue
			}
			if len(key) > 0 {
				key = append(key, " > "...)
			}
			key = append(key, t.Channel...)
			last = t.Channel
		}
		if len(key) == 0 {
			key = append(key, "(none)"...)
		}
		a, ok := byPath[string(key)]
		if !ok {
			a = &agg{}
			byPath[string(key)] = a
		}
		a.conv += p.Conversions
		a.nulls += p.Nulls
		a.value += p.Value
		if p.Conversions == 0 {
			continue
		}
		n := min(len(p.Touches), 10)
		lengths[n].Conversions += p.Conversions
		lengths[n].Revenue += p.Value
		if imported {
			continue
		}
		b := len(ttcLabels) - 1
		if len(p.Touches) > 0 {
			days := int((p.ConvAt - p.Touches[0].At) / 86400)
			b = sort.SearchInts(ttcBounds, days)
		}
		ttc[b].Conversions += p.Conversions
		ttc[b].Revenue += p.Value
	}
	for i := range lengths {
		lengths[i].Revenue = round4(lengths[i].Revenue)
	}
	for i := range ttc {
		ttc[i].Revenue = round4(ttc[i].Revenue)
	}
	res.PathLengths = lengths
	if imported {
		res.TimeToConvert = []Bucket{}
	} else {
		res.TimeToConvert = ttc
	}
	keys := make([]string, 0, len(byPath))
	for k := range byPath {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := byPath[keys[i]], byPath[keys[j]]
		if a.conv != b.conv {
			return a.conv > b.conv
		}
		if a.nulls != b.nulls {
			return a.nulls > b.nulls
		}
		return keys[i] < keys[j]
	})
	if len(keys) > s.topPaths {
		keys = keys[:s.topPaths]
	}
	for _, k := range keys {
		a := byPath[k]
		res.TopPaths = append(res.TopPaths, PathRow{Path: k, Conversions: a.conv, Nulls: a.nulls,
			ConversionRate: div(a.conv, a.conv+a.nulls), Revenue: round4(a.value)})
	}
}
