package query

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// SalesRequest asks for the pipeline and sales metrics of deals.
type SalesRequest struct {
	// From and To bound the period (local calendar dates, inclusive) in
	// which closed deals count toward win rate, cycle length and deal size.
	From, To time.Time
	// Pipeline restricts every figure to deals.pipeline = Pipeline (empty:
	// all deals).
	Pipeline string
}

// Sales holds the pipeline metrics (docs/metrics.md, "Sales pipeline").
// Money is in Currency; ratios are nil when undefined.
type Sales struct {
	Currency string `json:"currency"`
	From     string `json:"from"`
	To       string `json:"to"`
	Pipeline string `json:"pipeline,omitempty"`

	Won     int64    `json:"won"`
	Lost    int64    `json:"lost"`
	WinRate *float64 `json:"win_rate"`
	// SalesCycle is created → won, in days, over deals won in the period.
	SalesCycle      Quantiles `json:"sales_cycle_days"`
	AverageDealSize *float64  `json:"average_deal_size"`
	WonValue        float64   `json:"won_value"`

	// Open counts deals with status open created before the period's end;
	// OpenValue sums their amounts and WeightedValue their amounts times
	// their stage's win rate.
	Open          int64   `json:"open"`
	OpenValue     float64 `json:"open_value"`
	WeightedValue float64 `json:"weighted_value"`
	// StageWinRates are the weights, by the open deals' current stage.
	StageWinRates []StageWinRate `json:"stage_win_rates"`
	// Velocity is open × win rate × average deal size ÷ mean cycle days:
	// expected won value per day.
	Velocity *float64 `json:"velocity_per_day"`
	// MQLFollowUp is the marketing-to-sales SLA.
	MQLFollowUp MQLFollowUp `json:"mql_follow_up"`
}

// MQLFollowUp measures how fast sales follows up on MQLs: the people who
// first entered the MQL stage (report_stages.mql) in the period, those
// with a sales touch (an event named in sales_touch_events, by the person,
// at or after their MQL time, up to now), the time to the first touch,
// and the share touched within a day of the MQLs at least a day before
// the period's end.
type MQLFollowUp struct {
	Stage  string   `json:"stage"`
	Events []string `json:"events"`
	MQLs   int64    `json:"mqls"`
	// Touched counts the MQLs with a touch; Untouched the others.
	Touched   int64 `json:"touched"`
	Untouched int64 `json:"untouched"`
	// WithinDay is touched within 24 hours ÷ the MQLs at least 24 hours
	// before the period's end (DayEligible).
	DayEligible int64    `json:"day_eligible"`
	WithinDay   *float64 `json:"touched_within_1_day"`
	// Time is MQL → first touch, in days, over the touched MQLs.
	Time Quantiles `json:"time_to_first_touch_days"`
}

// StageWinRate is the learned probability that a deal at Stage is won.
type StageWinRate struct {
	Stage string `json:"stage"`
	// Closed counts closed deals (won or lost, any time) whose history has
	// the stage, Won the won ones; Rate is Won ÷ Closed, or the overall
	// historical win rate when Closed is 0 (Fallback true).
	Closed   int64    `json:"closed"`
	Won      int64    `json:"won"`
	Rate     *float64 `json:"rate"`
	Fallback bool     `json:"fallback"`
	Open     int64    `json:"open"`
}

// RunSales computes win rate, sales cycle, deal size, open and weighted
// pipeline and sales velocity. Errors: *bowtie.Error with EINVALID for a
// bad range or a deal currency without an exchange rate.
func RunSales(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req SalesRequest) (*Sales, error) {
	if err := checkText("pipeline", req.Pipeline); err != nil {
		return nil, err
	}
	start, end, err := localBounds(biz, req.From, req.To)
	if err != nil {
		return nil, err
	}
	var ps params
	rep := ps.p("currency", biz.Currency)
	pStart, pEnd := ps.p("start", start), ps.p("end", end)
	pipe := "true"
	if req.Pipeline != "" {
		pipe = "d.pipeline = " + ps.p("pipeline", req.Pipeline)
	}
	// Amounts convert at the close date (closed deals) or at the period's
	// end (open deals).
	ctes := "WITH " + fxCTE(rep) + ",\n" +
		"dl AS (SELECT d.deal_id, d.status, d.stage, d.created_at, d.closed_at, d.currency, " + convert("d.amount", "d.currency", rep) + " AS amount, d.amount IS NOT NULL AS has_amount" +
		" FROM deals d " + d.FXJoin("d.currency", "CAST(coalesce(d.closed_at, "+pEnd+") AS DATE)") + " WHERE " + pipe + "),\n" +
		"hist AS (SELECT s.stage, d.status FROM dl d JOIN (SELECT DISTINCT entity_id, stage FROM stage_changes WHERE entity_type = 'deal') s ON s.entity_id = d.deal_id" +
		" WHERE d.status IN ('won', 'lost'))\n"
	var miss string
	if err := db.QueryRowContext(ctx, "-- query.RunSales\n"+ctes+"SELECT coalesce(min(currency), '') FROM dl WHERE has_amount AND amount IS NULL AND (status = 'open' OR closed_at < "+pEnd+") AND "+pStart+" IS NOT NULL", ps.args...).Scan(&miss); err != nil {
		return nil, fmt.Errorf("query: sales: %w", err)
	}
	if miss != "" {
		return nil, bowtie.Errorf(bowtie.EINVALID, "no exchange rate for deal currency %s→%s: import rates with `bowtie import fx`", miss, biz.Currency)
	}
	cyc := quantileSQL(daysBetween("created_at", "closed_at"), "status = 'won' AND closed_at >= "+pStart+" AND closed_at < "+pEnd)
	q := "-- query.RunSales\n" + ctes + `SELECT
		count(*) FILTER (WHERE status = 'won' AND closed_at >= ` + pStart + ` AND closed_at < ` + pEnd + `),
		count(*) FILTER (WHERE status = 'lost' AND closed_at >= ` + pStart + ` AND closed_at < ` + pEnd + `),
		` + strings.Join(cyc, ", ") + `,
		avg(amount) FILTER (WHERE status = 'won' AND has_amount AND closed_at >= ` + pStart + ` AND closed_at < ` + pEnd + `),
		coalesce(sum(amount) FILTER (WHERE status = 'won' AND closed_at >= ` + pStart + ` AND closed_at < ` + pEnd + `), 0),
		count(*) FILTER (WHERE status = 'open' AND created_at < ` + pEnd + `),
		coalesce(sum(amount) FILTER (WHERE status = 'open' AND created_at < ` + pEnd + `), 0),
		(SELECT count(*) FILTER (WHERE status = 'won') FROM dl WHERE status IN ('won', 'lost')),
		(SELECT count(*) FROM dl WHERE status IN ('won', 'lost'))
	FROM dl`
	out := &Sales{Currency: biz.Currency, From: civil(req.From).Format(time.DateOnly), To: civil(req.To).Format(time.DateOnly), Pipeline: req.Pipeline, StageWinRates: []StageWinRate{}}
	var cy quantileDest
	var avgSize sql.NullFloat64
	var histWon, histClosed int64
	dest := []any{&out.Won, &out.Lost}
	dest = append(dest, cy.dest()...)
	dest = append(dest, &avgSize, &out.WonValue, &out.Open, &out.OpenValue, &histWon, &histClosed)
	if err := db.QueryRowContext(ctx, q, ps.args...).Scan(dest...); err != nil {
		return nil, fmt.Errorf("query: sales: %w", err)
	}
	if out.SalesCycle, err = cy.value(); err != nil {
		return nil, err
	}
	out.AverageDealSize = nullF(avgSize)
	out.WinRate = div(float64(out.Won), float64(out.Won+out.Lost))
	out.WonValue, out.OpenValue = round4(out.WonValue), round4(out.OpenValue)
	overall := div(float64(histWon), float64(histClosed))

	// Stage weights: per current stage of the open deals.
	// In pipeline order: by the median time from a deal's creation to its
	// entering the stage, over every deal's history; stages with no
	// history last.
	sq := "-- query.RunSales stages\n" + ctes + `, pos AS (SELECT s.stage, median(date_diff('second', d.created_at, s.ts)) AS p
		FROM stage_changes s JOIN dl d ON d.deal_id = s.entity_id WHERE s.entity_type = 'deal' GROUP BY s.stage)
	SELECT coalesce(o.stage, '(none)'), count(*), coalesce(sum(o.amount), 0),
		(SELECT count(*) FROM hist h WHERE h.stage = o.stage), (SELECT count(*) FROM hist h WHERE h.stage = o.stage AND h.status = 'won')
	FROM dl o LEFT JOIN pos ON pos.stage = o.stage WHERE o.status = 'open' AND o.created_at < ` + pEnd + ` AND ` + pStart + ` IS NOT NULL
	GROUP BY o.stage ORDER BY any_value(pos.p) NULLS LAST, 1`
	rows, err := db.QueryContext(ctx, sq, ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: sales stages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var w StageWinRate
		var value float64
		if err := rows.Scan(&w.Stage, &w.Open, &value, &w.Closed, &w.Won); err != nil {
			return nil, fmt.Errorf("query: sales stages: %w", err)
		}
		w.Rate = div(float64(w.Won), float64(w.Closed))
		if w.Rate == nil {
			w.Rate, w.Fallback = overall, true
		}
		if w.Rate != nil {
			out.WeightedValue += value * *w.Rate
		}
		out.StageWinRates = append(out.StageWinRates, w)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out.WeightedValue = round4(out.WeightedValue)
	if out.MQLFollowUp, err = mqlFollowUp(ctx, db, biz, start, end); err != nil {
		return nil, err
	}
	if out.WinRate != nil && out.AverageDealSize != nil && out.SalesCycle.Mean != nil && *out.SalesCycle.Mean > 0 {
		v := float64(out.Open) * *out.WinRate * *out.AverageDealSize / *out.SalesCycle.Mean
		out.Velocity = &v
	}
	return out, nil
}

// mqlFollowUp computes the MQL follow-up figures (empty when the business
// names no MQL stage or no sales-touch events).
func mqlFollowUp(ctx context.Context, db *sql.DB, biz *bowtie.Business, start, end time.Time) (MQLFollowUp, error) {
	f := MQLFollowUp{Stage: biz.ReportStages.MQL, Events: biz.SalesTouchEvents, Time: quantilesOf(nil)}
	if f.Events == nil {
		f.Events = []string{}
	}
	if f.Stage == "" || len(f.Events) == 0 {
		return f, nil
	}
	var ps params
	pStart, pEnd := ps.p("start", start), ps.p("end", end)
	q := "-- query.RunSales MQL follow-up\n" +
		"WITH m AS (SELECT entity_id AS id, min(ts) AS t FROM stage_changes WHERE entity_type = 'person' AND stage = " + ps.p("mql", f.Stage) + " GROUP BY 1),\n" +
		"f AS (SELECT m.id, m.t, min(e.ts) AS ft FROM m LEFT JOIN events e ON e.person_id = m.id AND e.name IN " + ps.list("touch", f.Events) +
		" AND e.ts >= m.t WHERE m.t >= " + pStart + " AND m.t < " + pEnd + " GROUP BY 1, 2)\n" +
		"SELECT count(*), count(ft), count(*) FILTER (WHERE t + INTERVAL 1 DAY <= " + pEnd + "), " +
		"count(*) FILTER (WHERE t + INTERVAL 1 DAY <= " + pEnd + " AND ft <= t + INTERVAL 1 DAY), " +
		strings.Join(quantileSQL(daysBetween("t", "ft"), "ft IS NOT NULL"), ", ") + " FROM f"
	var within int64
	var qd quantileDest
	dest := append([]any{&f.MQLs, &f.Touched, &f.DayEligible, &within}, qd.dest()...)
	if err := db.QueryRowContext(ctx, q, ps.args...).Scan(dest...); err != nil {
		return f, fmt.Errorf("query: MQL follow-up: %w", err)
	}
	var err error
	if f.Time, err = qd.value(); err != nil {
		return f, err
	}
	f.Untouched = f.MQLs - f.Touched
	f.WithinDay = div(float64(within), float64(f.DayEligible))
	return f, nil
}
