package query

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// FormulaRow is the simple-formula LTV of one group.
type FormulaRow struct {
	Group string `json:"group"`
	// CustomerMonths counts (customer, month) pairs with MRR > 0 at the
	// month's start, over the window.
	CustomerMonths int64 `json:"customer_months"`
	// Churned counts those with no MRR at the month's end.
	Churned int64 `json:"churned"`
	// ARPA is the mean MRR per paying customer at month start.
	ARPA *float64 `json:"arpa"`
	// Churn is the monthly churn the formula divides by (ltv.churn_basis).
	Churn  *float64 `json:"churn"`
	Margin float64  `json:"margin"`
	// Lifetime is 1 ÷ Churn, in months.
	Lifetime *float64 `json:"lifetime_months"`
	// LTV is ARPA × Margin ÷ Churn.
	LTV *float64 `json:"ltv"`
}

// FormulaLTV is the result of RunFormulaLTV.
type FormulaLTV struct {
	Model       string         `json:"model"`
	By          string         `json:"by"`
	Window      [2]string      `json:"window"` // first and last month
	ChurnBasis  string         `json:"churn_basis"`
	Assumptions LTVAssumptions `json:"assumptions"`
	Rows        []FormulaRow   `json:"rows"`
	Total       FormulaRow     `json:"total"`
}

// subscriptionMRR is the MRR of a subscriptions row s in its own
// currency: mrr when given, else amount × quantity normalised by its
// billing interval (NULL for an unknown interval).
const subscriptionMRR = `coalesce(s.mrr, s.amount * coalesce(s.quantity, 1) / coalesce(nullif(s.interval_count, 0), 1) *
	CASE lower(coalesce(s.billing_interval, 'month')) WHEN 'month' THEN 1.0 WHEN 'year' THEN 1.0 / 12 WHEN 'quarter' THEN 1.0 / 3
	WHEN 'week' THEN 52.0 / 12 WHEN 'day' THEN 365.0 / 12 END)`

// subsCTEs returns the subscription CTEs shared by the formula and sBG:
// sub (customer_id, valid_from, valid_to, interval, mrr): the active
// segments (status 'active'; trials and pauses are not paying) with MRR
// converted to the reporting currency at the segment's start;
// subcust (customer_id, start, cohort, channel, campaign): every
// subscriber, acquired at the start of their first active segment.
func subsCTEs(d Dialect, biz *bowtie.Business, ps *params, span [2]time.Time) []string {
	rep := ps.p("currency", biz.Currency)
	cohort, _ := d.Bucket("month", localTime(d, "min(valid_from)", biz.Location(), span[0], span[1]))
	return []string{
		"sub AS (SELECT s.customer_id, s.valid_from, coalesce(s.valid_to, TIMESTAMP '9999-12-31') AS valid_to, " +
			"lower(coalesce(s.billing_interval, 'month')) AS interval, CAST(" +
			convert(subscriptionMRR, "coalesce(s.currency, "+rep+")", rep) + " AS DOUBLE) AS mrr FROM subscriptions s " +
			d.FXJoin("coalesce(s.currency, "+rep+")", "CAST(s.valid_from AS DATE)") + " WHERE s.status = 'active')",
		"subcust AS (SELECT f.customer_id, f.start, f.cohort, coalesce(a.channel, 'Unassigned') AS channel, " +
			"coalesce(a.campaign, '(not set)') AS campaign FROM (SELECT customer_id, min(valid_from) AS start, " + cohort +
			" AS cohort FROM sub GROUP BY customer_id) f LEFT JOIN acq a ON a.id = f.customer_id)",
	}
}

// RunFormulaLTV computes LTV = ARPA × gross margin ÷ monthly churn from
// subscriptions over the trailing ltv.window_months complete months.
// Errors: EINVALID for a bad request or money without an exchange rate.
func RunFormulaLTV(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req LTVRequest) (*FormulaLTV, error) {
	if err := checkLTVBy(req.By); err != nil {
		return nil, err
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	loc := biz.Location()
	pol := biz.LTV
	asOf := asOfInstant(now, loc)
	if err := checkRevenueFX(ctx, db, d, biz, asOf); err != nil {
		return nil, err
	}
	lastStart := monthStart(now.In(loc)).AddDate(0, -1, 0) // the last complete month
	first := lastStart.AddDate(0, -(pol.WindowMonths - 1), 0)
	var vals []string
	for i := 0; i < pol.WindowMonths; i++ {
		m := first.AddDate(0, i, 0)
		s := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, loc)
		e := s.AddDate(0, 1, 0)
		vals = append(vals, fmt.Sprintf("(%d, %s, %s)", i, timestampLiteral(s), timestampLiteral(e)))
	}
	span, err := dataSpan(ctx, db, asOf)
	if err != nil {
		return nil, err
	}
	var ps params
	ctes := append(ltvBaseCTEs(d, biz, &ps, asOf, span), subsCTEs(d, biz, &ps, span)...)
	grp := ltvGroupExpr(req.By, "c")
	wFrom := ps.p("window_from", time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, loc).UTC())
	wTo := ps.p("window_to", time.Date(lastStart.Year(), lastStart.Month()+1, 1, 0, 0, 0, 0, loc).UTC())
	q := "-- query.RunFormulaLTV\nWITH " + strings.Join(ctes, ",\n") + `,
	mon (i, s, e) AS (VALUES ` + strings.Join(vals, ", ") + `),
	at_s AS (SELECT m.i, sub.customer_id, sum(sub.mrr) AS mrr FROM mon m JOIN sub ON sub.valid_from <= m.s AND sub.valid_to > m.s GROUP BY ALL),
	at_e AS (SELECT m.i, sub.customer_id, sum(sub.mrr) AS mrr FROM mon m JOIN sub ON sub.valid_from <= m.e AND sub.valid_to > m.e GROUP BY ALL),
	per AS (SELECT a.i, a.customer_id, a.mrr AS mrr_s, coalesce(b.mrr, 0) AS mrr_e FROM at_s a
		LEFT JOIN at_e b ON b.i = a.i AND b.customer_id = a.customer_id WHERE a.mrr > 0)
	SELECT ` + grp + ` AS grp, grouping(` + grp + `) AS is_total, count(*), count(*) FILTER (WHERE p.mrr_e <= 0),
		coalesce(` + exactSum("p.mrr_s", "") + `, 0), coalesce(` + exactSum("greatest(p.mrr_s - p.mrr_e, 0)", "") + `, 0), count(*) FILTER (WHERE p.mrr_s IS NULL)
	FROM per p LEFT JOIN subcust c ON c.customer_id = p.customer_id
	GROUP BY GROUPING SETS ((` + grp + `), ())
	UNION ALL
	SELECT '#margin', 1, count(*), 0, coalesce(` + exactSum("amount", "") + `, 0), coalesce(` + exactSum("gp", "") + `, 0), 0 FROM rev
	WHERE gm_known AND ts >= ` + wFrom + ` AND ts < ` + wTo + `
	ORDER BY ALL`
	rs, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: formula ltv: %w", err)
	}
	defer rs.Close()
	type raw struct {
		grp              string
		total            bool
		n, churned, miss int64
		mrr, lost        float64
	}
	var rows []raw
	var marginN int64
	var marginRev, marginGP float64
	for rs.Next() {
		var r raw
		var tot int
		var g sql.NullString
		if err := rs.Scan(&g, &tot, &r.n, &r.churned, &r.mrr, &r.lost, &r.miss); err != nil {
			return nil, fmt.Errorf("query: formula ltv: %w", err)
		}
		r.grp, r.total = g.String, tot == 1
		if r.grp == "#margin" && r.total {
			marginN, marginRev, marginGP = r.n, r.mrr, r.lost
			continue
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("query: formula ltv: %w", err)
	}
	margin := pol.DefaultMargin
	out := &FormulaLTV{Model: "formula", By: req.By, ChurnBasis: pol.ChurnBasis, Rows: []FormulaRow{},
		Window: [2]string{first.Format("2006-01"), lastStart.Format("2006-01")}}
	out.Assumptions = ltvAssumptions(biz, now)
	if marginN > 0 && marginRev > 0 {
		margin = marginGP / marginRev
		out.Assumptions.Margin = fmt.Sprintf("measured: Σ orders.gross_margin ÷ Σ amount of the %d orders with a known margin in the window = %.1f %%", marginN, margin*100)
	} else {
		out.Assumptions.Margin = fmt.Sprintf("ltv.default_margin %.0f %% (no order in the window has a gross margin)", margin*100)
	}
	churnDef := "logo churn: customers with MRR > 0 at a month's start and none at its end ÷ customers with MRR > 0 at its start, pooled over the window"
	if pol.ChurnBasis == "mrr" {
		churnDef = "gross MRR churn: Σ max(MRR at start − MRR at end, 0) of customers paying at a month's start ÷ their MRR at start, pooled over the window (churn and contraction)"
	}
	out.Assumptions.Notes = append(out.Assumptions.Notes,
		fmt.Sprintf("window: the %d complete months %s to %s (ltv.window_months)", pol.WindowMonths, out.Window[0], out.Window[1]),
		"ARPA: mean MRR per customer paying at a month's start (subscriptions with status active; trials and pauses excluded; MRR = mrr, else amount × quantity normalised by the billing interval)",
		"churn: "+churnDef+" (ltv.churn_basis)",
		"LTV = ARPA × margin ÷ churn: undiscounted, constant churn, no horizon")
	for _, r := range rows {
		fr := FormulaRow{Group: r.grp, CustomerMonths: r.n, Churned: r.churned, Margin: margin}
		fr.ARPA = div(r.mrr, float64(r.n))
		if pol.ChurnBasis == "mrr" {
			fr.Churn = div(r.lost, r.mrr)
		} else {
			fr.Churn = div(float64(r.churned), float64(r.n))
		}
		if fr.Churn != nil {
			fr.Lifetime = div(1, *fr.Churn)
			if fr.ARPA != nil {
				fr.LTV = div(*fr.ARPA*margin, *fr.Churn)
			}
		}
		if r.total {
			fr.Group = "Total"
			out.Total = fr
		} else if req.By != "" {
			out.Rows = append(out.Rows, fr)
		}
	}
	if out.Total.Group == "" {
		out.Total = FormulaRow{Group: "Total", Margin: margin}
	}
	return out, nil
}
