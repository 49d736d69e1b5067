package query

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// DefaultRenewalPipeline is the deals.pipeline that marks a renewal deal
// unless a request names another.
const DefaultRenewalPipeline = "renewal"

// DefaultContractPipelines are the pipelines whose won deals are
// contracts a renewal renews: the first contract and earlier renewals.
var DefaultContractPipelines = []string{"service", "renewal"}

// RenewalsRequest asks for the contract renewal analysis
// (docs/metrics.md, "Renewals").
type RenewalsRequest struct {
	// From and To bound the renewals by the local date they closed, both
	// inclusive.
	From, To time.Time
	// Grain cuts the period ("" for one row).
	Grain string
	// By breaks down by the customer's "channel", "source", "campaign"
	// (acquisition touch), "person.COLUMN" or "account.COLUMN"; "" for
	// none.
	By string
	// Pipeline marks renewal deals (default DefaultRenewalPipeline).
	Pipeline string
	// ContractPipelines are the pipelines of the contracts renewed
	// (default DefaultContractPipelines).
	ContractPipelines []string
}

// RenewalsRow holds the renewal figures of one period (and channel).
type RenewalsRow struct {
	Period string `json:"period,omitempty"`
	Group  string `json:"group,omitempty"` // the By value (a channel, a segment, ...)
	// Due counts renewal deals closed in the row (won or lost); open
	// renewals are not due yet and are not counted.
	Due  int64 `json:"due"`
	Won  int64 `json:"won"`
	Lost int64 `json:"lost"`
	// Rate is Won ÷ Due.
	Rate *float64 `json:"rate"`
	// WonAmount and LostAmount sum the renewal deals' amounts.
	WonAmount  float64 `json:"won_amount"`
	LostAmount float64 `json:"lost_amount"`
	// Uplifts counts won renewals with a previous contract of positive
	// amount; UpliftMean and UpliftMedian summarise their renewal amount ÷
	// previous contract amount − 1.
	Uplifts      int64    `json:"uplifts"`
	UpliftMean   *float64 `json:"uplift_mean"`
	UpliftMedian *float64 `json:"uplift_median"`
	// PreviousAmount sums the previous contracts of those renewals and
	// RenewedAmount their renewal amounts; their ratio − 1 is the
	// amount-weighted uplift.
	PreviousAmount float64  `json:"previous_amount"`
	RenewedAmount  float64  `json:"renewed_amount"`
	UpliftWeighted *float64 `json:"uplift_weighted"`

	uplifts []float64
}

// Renewals is the contract renewal analysis.
type Renewals struct {
	Currency          string        `json:"currency"`
	TimeZone          string        `json:"time_zone"`
	From              string        `json:"from"`
	To                string        `json:"to"`
	Grain             string        `json:"grain"`
	By                string        `json:"by"`
	Pipeline          string        `json:"pipeline"`
	ContractPipelines []string      `json:"contract_pipelines"`
	Rows              []RenewalsRow `json:"rows"`
	Total             RenewalsRow   `json:"total"`
	// Open counts renewal deals still open (created up to To): not yet
	// due, so in no rate.
	Open int64 `json:"open"`
}

// RunRenewals computes the contract renewal analysis. Errors:
// *bowtie.Error with EINVALID for a bad request or an amount in a
// currency without an fx rate.
func RunRenewals(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req RenewalsRequest) (*Renewals, error) {
	if err := checkGrain(req.Grain); err != nil {
		return nil, err
	}
	bd, err := customerBreakdown(biz, req.By, "r.customer")
	if err != nil {
		return nil, err
	}
	if req.Pipeline == "" {
		req.Pipeline = DefaultRenewalPipeline
	}
	if len(req.ContractPipelines) == 0 {
		req.ContractPipelines = DefaultContractPipelines
	}
	for _, p := range append([]string{req.Pipeline}, req.ContractPipelines...) {
		if err := checkText("pipeline", p); err != nil {
			return nil, err
		}
	}
	fromD, toD, start, end, err := periodBounds(biz, req.From, req.To)
	if err != nil {
		return nil, err
	}
	var ps params
	rep := ps.p("currency", biz.Currency)
	pStart, pEnd := ps.p("start", start), ps.p("end", end)
	pPipe := ps.p("pipeline", req.Pipeline)
	period, err := periodExpr(d, biz, req.Grain, "r.closed_at", &ps, fromD, start, end)
	if err != nil {
		return nil, err
	}
	cust := "person_id"
	if biz.CustomerEntity == "account" {
		cust = "account_id"
	}
	q := `-- query.RunRenewals
WITH ` + fxCTE(rep) + `,
` + acquisitionCTEs + `,
dl AS (SELECT d.deal_id, d.` + cust + ` AS customer, d.pipeline, d.status, d.closed_at,
		` + convert("d.amount", "d.currency", rep) + ` AS amount, d.amount IS NULL AS no_amount
	FROM deals d ` + d.FXJoin("d.currency", "CAST(d.closed_at AS DATE)") + `
	WHERE d.status IN ('won', 'lost') AND d.closed_at IS NOT NULL AND d.` + cust + ` IS NOT NULL),
r AS (SELECT * FROM dl WHERE pipeline = ` + pPipe + ` AND closed_at >= ` + pStart + ` AND closed_at < ` + pEnd + `),
prev AS (SELECT deal_id, prev_amount FROM (
	SELECT r.deal_id, c.amount AS prev_amount,
		row_number() OVER (PARTITION BY r.deal_id ORDER BY c.closed_at DESC, c.deal_id DESC) AS k
	FROM r JOIN dl c ON c.customer = r.customer AND c.status = 'won' AND c.closed_at < r.closed_at
		AND c.deal_id <> r.deal_id AND c.pipeline IN ` + ps.list("contracts", req.ContractPipelines) + `) x WHERE k = 1)
SELECT ` + period + `, ` + bd.expr + `, r.status = 'won', CAST(r.amount AS DOUBLE), CAST(p.prev_amount AS DOUBLE),
	r.amount IS NULL AND NOT r.no_amount
FROM r LEFT JOIN prev p ON p.deal_id = r.deal_id` + bd.joins
	rs, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: renewals: %w", err)
	}
	defer rs.Close()
	type key struct{ period, group string }
	rows := map[key]*RenewalsRow{}
	total := &RenewalsRow{}
	missing := false
	for rs.Next() {
		var p time.Time
		var g sql.NullString
		var won, miss bool
		var amount, prevAmount sql.NullFloat64
		if err := rs.Scan(&p, &g, &won, &amount, &prevAmount, &miss); err != nil {
			return nil, fmt.Errorf("query: renewals: %w", err)
		}
		missing = missing || miss
		k := key{group: g.String}
		if req.Grain != "" {
			k.period = p.Format(time.DateOnly)
		}
		row := rows[k]
		if row == nil {
			row = &RenewalsRow{Period: k.period, Group: k.group}
			rows[k] = row
		}
		for _, x := range []*RenewalsRow{row, total} {
			x.add(won, amount, prevAmount)
		}
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("query: renewals: %w", err)
	}
	if missing {
		return nil, missingFX(ctx, db, biz, start, end)
	}
	out := &Renewals{Currency: biz.Currency, TimeZone: biz.TimeZone, From: fromD.Format(time.DateOnly), To: toD.Format(time.DateOnly),
		Grain: req.Grain, By: req.By, Pipeline: req.Pipeline, ContractPipelines: req.ContractPipelines, Rows: []RenewalsRow{}}
	for _, r := range rows {
		r.derive()
		out.Rows = append(out.Rows, *r)
	}
	sort.Slice(out.Rows, func(i, j int) bool {
		a, b := out.Rows[i], out.Rows[j]
		if a.Period != b.Period {
			return a.Period < b.Period
		}
		if a.Due != b.Due {
			return a.Due > b.Due
		}
		return a.Group < b.Group
	})
	total.derive()
	out.Total = *total
	err = db.QueryRowContext(ctx, `-- query.RunRenewals open
		SELECT count(*) FROM deals WHERE pipeline = $1 AND status = 'open' AND created_at < $2`, req.Pipeline, end).Scan(&out.Open)
	if err != nil {
		return nil, fmt.Errorf("query: renewals: %w", err)
	}
	return out, nil
}

// add counts one closed renewal into r.
func (r *RenewalsRow) add(won bool, amount, prev sql.NullFloat64) {
	r.Due++
	if !won {
		r.Lost++
		r.LostAmount += amount.Float64
		return
	}
	r.Won++
	r.WonAmount += amount.Float64
	if amount.Valid && prev.Valid && prev.Float64 > 0 {
		r.uplifts = append(r.uplifts, amount.Float64/prev.Float64-1)
		r.PreviousAmount += prev.Float64
		r.RenewedAmount += amount.Float64
	}
}

// derive fills r's ratios and summaries.
func (r *RenewalsRow) derive() {
	r.WonAmount, r.LostAmount = round4(r.WonAmount), round4(r.LostAmount)
	r.PreviousAmount, r.RenewedAmount = round4(r.PreviousAmount), round4(r.RenewedAmount)
	r.Rate = div(float64(r.Won), float64(r.Due))
	r.Uplifts = int64(len(r.uplifts))
	if len(r.uplifts) > 0 {
		s := slices.Clone(r.uplifts)
		slices.Sort(s)
		var sum float64
		for _, u := range s {
			sum += u
		}
		mean := sum / float64(len(s))
		r.UpliftMean = &mean
		med := s[len(s)/2]
		if len(s)%2 == 0 {
			med = (s[len(s)/2-1] + s[len(s)/2]) / 2
		}
		r.UpliftMedian = &med
	}
	if r.PreviousAmount > 0 {
		r.UpliftWeighted = div(r.RenewedAmount-r.PreviousAmount, r.PreviousAmount)
	}
}

func (rn *Renewals) grid(human bool) *grid {
	g := &grid{head: []string{"period", "group", "due", "won", "lost", "rate", "won_amount", "lost_amount", "uplifts", "uplift_mean", "uplift_median", "uplift_weighted"}}
	if human {
		g.head = []string{"Period", "Group", "Due", "Won", "Lost", "Renewal rate", "Won amount", "Lost amount", "Uplifts", "Uplift mean", "Uplift median", "Uplift weighted"}
	}
	add := func(r *RenewalsRow, period string) {
		if human {
			g.add(period, r.Group, FormatCount(r.Due), FormatCount(r.Won), FormatCount(r.Lost), fmtOpt(r.Rate, "percent"),
				formatValue(r.WonAmount, true, "money"), formatValue(r.LostAmount, true, "money"), FormatCount(r.Uplifts),
				fmtOpt(r.UpliftMean, "percent"), fmtOpt(r.UpliftMedian, "percent"), fmtOpt(r.UpliftWeighted, "percent"))
			return
		}
		g.add(period, r.Group, count(r.Due), count(r.Won), count(r.Lost), cell(r.Rate), num(r.WonAmount), num(r.LostAmount),
			count(r.Uplifts), cell(r.UpliftMean), cell(r.UpliftMedian), cell(r.UpliftWeighted))
	}
	if rn.Grain != "" || rn.By != "" {
		for i := range rn.Rows {
			add(&rn.Rows[i], rn.Rows[i].Period)
		}
	}
	add(&rn.Total, "Total")
	return g
}

// WriteCSV writes the rows and a final "Total" row as CSV.
func (rn *Renewals) WriteCSV(w io.Writer) error { return rn.grid(false).writeCSV(w) }

// WriteTable writes the renewal analysis as an aligned text table.
func (rn *Renewals) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Contract renewals (pipeline %q; previous contract from %s), closed %s to %s, %s\n\n",
		rn.Pipeline, strings.Join(rn.ContractPipelines, ", "), rn.From, rn.To, rn.Currency)
	if err := rn.grid(true).writeTable(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d renewals still open (not yet due, not in the rate)\n", rn.Open)
	return nil
}
