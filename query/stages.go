package query

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// StageFunnelRequest asks for a funnel over the stage_changes history.
type StageFunnelRequest struct {
	// Entity is "person" (default), "account" or "deal": the
	// stage_changes.entity_type counted.
	Entity string
	// Stages is the ordered stage list (default Business.Stages); at least
	// two, no repeats.
	Stages []string
	// From and To bound the period by calendar date in the business time
	// zone, both inclusive.
	From, To time.Time
	// Mode is "cohort" (default: of the units whose arrival at the first
	// stage falls in the period, how many reached each later stage) or
	// "period" (units whose arrival at each stage falls in the period).
	Mode string
	// WithinDays, in cohort mode, counts a later stage only when it was
	// reached within that many days of the first stage; 0 means no limit.
	WithinDays int
	// Strict turns off "skipped stages count as passed": a unit is counted
	// at a stage only with a row for that stage and for every stage before
	// it.
	Strict bool
	// By is a breakdown (see resolveBreakdown): channel, source, campaign,
	// person.COLUMN or account.COLUMN; empty for none.
	By string
}

// StageFunnel is the result of RunStageFunnel.
type StageFunnel struct {
	Entity     string        `json:"entity"`
	Mode       string        `json:"mode"`
	Stages     []string      `json:"stages"`
	From       string        `json:"from"`
	To         string        `json:"to"`
	TimeZone   string        `json:"time_zone"`
	WithinDays int           `json:"within_days"`
	Strict     bool          `json:"strict"`
	By         string        `json:"by"`
	Total      FunnelGroup   `json:"total"`
	Groups     []FunnelGroup `json:"groups"`
}

// RunStageFunnel computes a stage funnel (definitions in docs/metrics.md,
// "Stage funnel"). Errors: *bowtie.Error with EINVALID for a bad request.
func RunStageFunnel(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req StageFunnelRequest) (*StageFunnel, error) {
	if req.Entity == "" {
		req.Entity = "person"
	}
	if req.Entity != "person" && req.Entity != "account" && req.Entity != "deal" {
		return nil, bowtie.Errorf(bowtie.EINVALID, "entity: %q must be person, account or deal", req.Entity)
	}
	if len(req.Stages) == 0 {
		req.Stages = biz.Stages
	}
	if len(req.Stages) < 2 {
		return nil, bowtie.Errorf(bowtie.EINVALID, "stages: give at least two")
	}
	for i, s := range req.Stages {
		if s == "" || slices.Contains(req.Stages[:i], s) {
			return nil, bowtie.Errorf(bowtie.EINVALID, "stages: %q is empty or repeated", s)
		}
		if err := checkText("stages", s); err != nil {
			return nil, err
		}
	}
	if req.Mode == "" {
		req.Mode = "cohort"
	}
	if req.Mode != "cohort" && req.Mode != "period" {
		return nil, bowtie.Errorf(bowtie.EINVALID, "mode: %q must be cohort or period", req.Mode)
	}
	if req.WithinDays < 0 || (req.WithinDays > 0 && req.Mode != "cohort") {
		return nil, bowtie.Errorf(bowtie.EINVALID, "within: a positive number of days, in cohort mode only")
	}
	start, end, err := localBounds(biz, req.From, req.To)
	if err != nil {
		return nil, err
	}
	out := &StageFunnel{Entity: req.Entity, Mode: req.Mode, Stages: req.Stages, From: civil(req.From).Format(time.DateOnly),
		To: civil(req.To).Format(time.DateOnly), TimeZone: biz.TimeZone, WithinDays: req.WithinDays, Strict: req.Strict, By: req.By, Groups: []FunnelGroup{}}
	total, err := stageFunnelGroups(ctx, db, req, "", start, end)
	if err != nil {
		return nil, err
	}
	out.Total = FunnelGroup{Steps: emptySteps(req.Stages)}
	if len(total) > 0 {
		out.Total = total[0]
	}
	if req.By != "" {
		if out.Groups, err = stageFunnelGroups(ctx, db, req, req.By, start, end); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func emptySteps(names []string) []FunnelStep {
	out := make([]FunnelStep, len(names))
	for i, n := range names {
		out[i].Name = n
	}
	deriveSteps(out)
	return out
}

// stageFunnelGroups runs the funnel query with breakdown by.
func stageFunnelGroups(ctx context.Context, db *sql.DB, req StageFunnelRequest, by string, start, end time.Time) ([]FunnelGroup, error) {
	q, args, err := buildStageFunnelSQL(req, by, start, end)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query: stage funnel: %w", err)
	}
	defer rows.Close()
	return scanFunnelGroups(rows, req.Stages, "stage funnel")
}

// buildStageFunnelSQL returns the stage funnel query: one row per
// breakdown value with, per stage k, the count and (k > 0) the quantiles of
// the time from stage k-1 and from stage 0.
//
// a_k is a unit's first arrival at stage k: its earliest row whose stage is
// stage k or (unless Strict) any later stage of the list. r_k says whether
// the unit is counted at stage k.
func buildStageFunnelSQL(req StageFunnelRequest, by string, start, end time.Time) (string, []any, error) {
	var ps params
	n := len(req.Stages)
	pEntity := ps.p("entity", req.Entity)
	pStart, pEnd := ps.p("start", start), ps.p("end", end)
	var arr []string
	for k := range req.Stages {
		set := req.Stages[k:]
		if req.Strict {
			set = req.Stages[k : k+1]
		}
		arr = append(arr, fmt.Sprintf("min(ts) FILTER (WHERE stage IN %s) AS a%d", ps.list(fmt.Sprintf("set%d", k), set), k))
	}
	inPeriod := func(ts string) string { return fmt.Sprintf("(%s >= %s AND %s < %s)", ts, pStart, ts, pEnd) }
	reach := make([]string, n)
	for k := 0; k < n; k++ {
		a := fmt.Sprintf("a%d", k)
		if req.Mode == "period" || k == 0 {
			reach[k] = inPeriod(a)
			continue
		}
		c := fmt.Sprintf("%s AND %s IS NOT NULL AND %s >= a0", reach[k-1], a, a)
		if req.WithinDays > 0 {
			c += fmt.Sprintf(" AND %s <= a0 + to_days(CAST(%s AS INTEGER))", a, ps.p("within", req.WithinDays))
		}
		reach[k] = "(" + c + ")"
	}
	var sel []string
	for k := 0; k < n; k++ {
		sel = append(sel, fmt.Sprintf("r%d", k))
	}
	bd, err := resolveBreakdown(req.Entity, by, "x.entity_id")
	if err != nil {
		return "", nil, err
	}
	var reachCols []string
	for k := 0; k < n; k++ {
		reachCols = append(reachCols, fmt.Sprintf("coalesce(%s, false) AS r%d", reach[k], k))
	}
	var aggs []string
	for k := 0; k < n; k++ {
		aggs = append(aggs, fmt.Sprintf("count(*) FILTER (WHERE r%d)", k))
		if k > 0 {
			prev := fmt.Sprintf("a%d", k-1)
			cond := fmt.Sprintf("r%d AND %s IS NOT NULL AND %s <= a%d", k, prev, prev, k)
			aggs = append(aggs, quantileSQL(daysBetween(prev, fmt.Sprintf("a%d", k)), cond)...)
			cond0 := fmt.Sprintf("r%d AND a0 IS NOT NULL AND a0 <= a%d", k, k)
			aggs = append(aggs, quantileSQL(daysBetween("a0", fmt.Sprintf("a%d", k)), cond0)...)
		}
	}
	q := "-- query.RunStageFunnel\nWITH " + acquisitionCTEs + ",\n" +
		"arr AS (SELECT entity_id, " + strings.Join(arr, ", ") + " FROM stage_changes WHERE entity_type = " + pEntity +
		" AND stage IN " + ps.list("stages", req.Stages) + " GROUP BY entity_id),\n" +
		"x AS (SELECT *, " + strings.Join(reachCols, ", ") + " FROM arr)\n" +
		"SELECT " + bd.expr + " AS g, " + strings.Join(aggs, ", ") + " FROM x" + bd.joins +
		" WHERE " + strings.Join(sel, " OR ") + " GROUP BY g ORDER BY count(*) FILTER (WHERE r0) DESC, g"
	return q, ps.args, nil
}
