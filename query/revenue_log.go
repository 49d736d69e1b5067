package query

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// RevenueMove is one customer's movement in one period: the row of the
// movement log a finance team reconciles. MRR is in the reporting
// currency; Plan is the customer's largest plan (by MRR) at the period's
// start (PlanBefore) and end (PlanAfter), empty without MRR.
type RevenueMove struct {
	Customer   string  `json:"customer"`
	Period     string  `json:"period"`
	Type       string  `json:"type"` // new, expansion, contraction, churn, reactivation
	MRRBefore  float64 `json:"mrr_before"`
	MRRAfter   float64 `json:"mrr_after"`
	PlanBefore string  `json:"plan_before"`
	PlanAfter  string  `json:"plan_after"`
}

// RevenueLogResult is the movement log over RevenueOptions' periods.
type RevenueLogResult struct {
	From     string        `json:"from"`
	To       string        `json:"to"`
	Grain    string        `json:"grain"`
	Currency string        `json:"currency"`
	TimeZone string        `json:"time_zone"`
	Moves    []RevenueMove `json:"moves"`
}

// RevenueLog lists every customer movement, by period then customer. A
// customer who starts and stops within one period under same_period:
// split has two rows: its new (or reactivation) row with MRR 0 → the
// spell's starting MRR and a churn row back to 0.
func RevenueLog(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, opts RevenueOptions) (*RevenueLogResult, error) {
	if opts.Grain == "" {
		opts.Grain = "month"
	}
	if err := checkOverlaps(ctx, db); err != nil {
		return nil, err
	}
	g, err := newRevenueGrid(opts.Grain, biz.Location(), opts.From, opts.To, 0)
	if err != nil {
		return nil, err
	}
	var ps params
	q := `-- query.revenue log
	WITH ` + revenueBase(&ps, biz, g, true) + revenueMoves(&ps, biz, g) + `
	SELECT c, k, typ, before / 1e6, after / 1e6, pb, pa, bv / 1e6, nf FROM mv WHERE typ IS NOT NULL OR nf > 0 ORDER BY k, c, bv`
	rs, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: revenue log: %w", err)
	}
	defer rs.Close()
	out := &RevenueLogResult{From: opts.From.Format(time.DateOnly), To: opts.To.Format(time.DateOnly), Grain: opts.Grain,
		Currency: biz.Currency, TimeZone: biz.TimeZone, Moves: []RevenueMove{}}
	var nofx float64
	for rs.Next() {
		var m RevenueMove
		var k int
		var before, after, bv, nf sql.NullFloat64
		var pb, pa, typ sql.NullString
		if err := rs.Scan(&m.Customer, &k, &typ, &before, &after, &pb, &pa, &bv, &nf); err != nil {
			return nil, fmt.Errorf("query: revenue log: %w", err)
		}
		nofx += nf.Float64
		m.Type = typ.String
		m.Period = g.starts[k].Format(time.DateOnly)
		m.MRRBefore, m.MRRAfter, m.PlanBefore, m.PlanAfter = round4(before.Float64), round4(after.Float64), pb.String, pa.String
		if bv.Float64 > 0 { // a spell inside the period (split): in and out
			m.MRRAfter = round4(bv.Float64)
			out.Moves = append(out.Moves, m)
			m.Type, m.MRRBefore, m.MRRAfter, m.PlanBefore, m.PlanAfter = "churn", round4(bv.Float64), 0, pa.String, ""
		}
		out.Moves = append(out.Moves, m)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("query: revenue log: %w", err)
	}
	if nofx > 0 {
		return nil, revenueMissingFX(ctx, db, biz, g)
	}
	return out, nil
}
