package query

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// PaybackRequest asks for unit economics per channel, campaign or
// acquisition cohort.
type PaybackRequest struct {
	// By is channel (default), campaign or cohort.
	By string
	// From and To bound the acquisition months: local calendar dates,
	// inclusive; customers first paying and spend dated in [From, To]
	// count. Zero: the 12 months up to today.
	From, To time.Time
	// Now is the clock ("today"). Zero: time.Now().
	Now time.Time
	// Months is the last month since acquisition of the ROAS curves
	// (default ltv.horizon_months).
	Months int
	// Models lists the LTV methods to add beside CAC (historical is
	// always computed; formula, sbg and bgnbd when listed).
	Models []string
}

// ROASPoint is month N since acquisition of a group's cohort ROAS curve:
// over the acquisition months whose month N has ended, the revenue and
// gross profit to date of the customers they acquired ÷ their spend.
type ROASPoint struct {
	Month       int      `json:"month"`
	Cohorts     int      `json:"cohorts"` // acquisition months included
	Spend       float64  `json:"spend"`
	Revenue     float64  `json:"revenue"`      // cumulative to month N
	GrossProfit float64  `json:"gross_profit"` // cumulative to month N
	ROAS        *float64 `json:"roas"`         // Revenue ÷ Spend
	GPROAS      *float64 `json:"gp_roas"`      // GrossProfit ÷ Spend
}

// PaybackRow is the unit economics of one channel, campaign or cohort.
type PaybackRow struct {
	Group        string  `json:"group"`
	Spend        float64 `json:"spend"`
	NewCustomers int64   `json:"new_customers"`
	// CAC is Spend ÷ NewCustomers, as the acquisition report.
	CAC *float64 `json:"cac"`
	// MonthlyGP is the gross profit per customer-month in the first 12
	// months since acquisition (months that have ended).
	MonthlyGP *float64 `json:"monthly_gross_profit_per_customer"`
	// PaybackMonths is CAC ÷ MonthlyGP.
	PaybackMonths *float64 `json:"payback_months"`
	// CohortPaybackMonth is the first month since acquisition by whose
	// end the acquired customers' cumulative gross profit reached the
	// spend that acquired them (0: the acquisition month); nil: not yet.
	CohortPaybackMonth *int `json:"cohort_payback_month"`
	// LTV holds lifetime value (gross profit per customer) by method;
	// LTVToCAC the ratio to CAC.
	LTV      map[string]*float64 `json:"ltv"`
	LTVToCAC map[string]*float64 `json:"ltv_to_cac"`
	Curve    []ROASPoint         `json:"roas_curve"`
}

// Payback is the result of RunPayback.
type Payback struct {
	By          string         `json:"by"`
	From        string         `json:"from"`
	To          string         `json:"to"`
	Assumptions LTVAssumptions `json:"assumptions"`
	Rows        []PaybackRow   `json:"rows"`
	Total       PaybackRow     `json:"total"`
}

// RunPayback computes CAC, LTV, LTV:CAC, CAC payback and cohort ROAS
// curves per channel, campaign or acquisition month. Spend and new
// customers come from the acquisition report (RunReport, by the group and
// month), so CAC agrees with it. Errors: EINVALID for a bad request or
// money without an exchange rate.
func RunPayback(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req PaybackRequest) (*Payback, error) {
	by := req.By
	if by == "" {
		by = "channel"
	}
	if err := checkLTVBy(by); err != nil {
		return nil, err
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	loc := biz.Location()
	today := civil(now.In(loc))
	from, to := civil(req.From), civil(req.To)
	if to.IsZero() {
		to = today
	}
	if from.IsZero() {
		from = monthStart(to).AddDate(0, -11, 0)
	}
	if to.Before(from) {
		return nil, bowtie.Errorf(bowtie.EINVALID, "from %s is after to %s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	months := req.Months
	if months == 0 {
		months = biz.LTV.HorizonMonths
	}
	if months < 1 || months > 240 {
		return nil, bowtie.Errorf(bowtie.EINVALID, "months: %d must be between 1 and 240", months)
	}
	for _, m := range req.Models {
		if m != "historical" && m != "formula" && m != "sbg" && m != "bgnbd" {
			return nil, bowtie.Errorf(bowtie.EINVALID, "models: %q is not historical, formula, sbg or bgnbd", m)
		}
	}
	// Spend and new customers per group and acquisition month, from the
	// acquisition report itself.
	dims := []string{"month"}
	if by != "cohort" {
		dims = []string{by, "month"}
	}
	rep, err := RunReport(ctx, db, d, biz, ReportRequest{By: dims, From: from, To: to})
	if err != nil {
		return nil, err
	}
	type gm struct {
		grp    string
		cohort string // 2006-01
	}
	spend := map[gm]float64{}
	newCust := map[gm]int64{}
	groupOf := func(r *ReportRow) string {
		switch by {
		case "channel":
			return r.Channel
		case "campaign":
			return r.Campaign
		}
		return r.Period[:7]
	}
	for i := range rep.Rows {
		r := &rep.Rows[i]
		k := gm{groupOf(r), r.Period[:7]}
		spend[k] += r.Cost
		newCust[k] += r.NewCustomers
	}
	// Revenue and gross profit of the customers acquired in each month.
	asOf := asOfInstant(now, loc)
	if err := checkRevenueFX(ctx, db, d, biz, asOf); err != nil {
		return nil, err
	}
	hb := by
	if by == "cohort" {
		hb = "" // the cohort is the group; spend is keyed by it below
	}
	cells, _, _, err := historicalSums(ctx, db, d, biz, hb, asOf, months)
	if err != nil {
		return nil, err
	}
	last := monthStart(now.In(loc))
	type groupAcc struct {
		row            PaybackRow
		spendAt, revAt []float64 // by month since acquisition, over observed cohorts
		gpAt           []float64
		cohortsAt      []int
		gp12, custM    float64
	}
	groups := map[string]*groupAcc{}
	get := func(g string) *groupAcc {
		a := groups[g]
		if a == nil {
			a = &groupAcc{row: PaybackRow{Group: g}, spendAt: make([]float64, months+1), revAt: make([]float64, months+1),
				gpAt: make([]float64, months+1), cohortsAt: make([]int, months+1)}
			groups[g] = a
		}
		return a
	}
	total := get("\x00total")
	// Every (group, month) with spend or customers in range.
	keys := map[gm]bool{}
	for k := range spend {
		keys[k] = true
	}
	for k := range newCust {
		keys[k] = true
	}
	firstM, lastM := monthStart(from), monthStart(to)
	for k := range cells {
		if k.cohort.Before(firstM) || k.cohort.After(lastM) {
			continue
		}
		g := k.grp
		if by == "cohort" {
			g = k.cohort.Format("2006-01")
		}
		keys[gm{g, k.cohort.Format("2006-01")}] = true
	}
	// In one order: the sums below are of floats, and a map's order would
	// change their last digits from run to run.
	sorted := make([]gm, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.SortFunc(sorted, func(a, b gm) int { return cmp.Or(strings.Compare(a.grp, b.grp), strings.Compare(a.cohort, b.cohort)) })
	for _, k := range sorted {
		c, err := time.Parse("2006-01", k.cohort)
		if err != nil {
			return nil, fmt.Errorf("query: payback: month %q: %w", k.cohort, err)
		}
		var cell *histAcc
		if by == "cohort" {
			cell = cells[histKey{"", c}]
		} else {
			cell = cells[histKey{k.grp, c}]
		}
		observed := min(monthIndex(c, last)-1, months)
		for _, a := range []*groupAcc{get(k.grp), total} {
			a.row.Spend += spend[k]
			a.row.NewCustomers += newCust[k]
			var cr, cg float64
			for m := 0; m <= observed; m++ {
				if cell != nil {
					cr += cell.rev[m]
					cg += cell.gp[m]
					if m < 12 {
						a.gp12 += cell.gp[m]
						a.custM += float64(cell.n)
					}
				}
				a.spendAt[m] += spend[k]
				a.revAt[m] += cr
				a.gpAt[m] += cg
				a.cohortsAt[m]++
			}
		}
	}
	out := &Payback{By: by, From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Rows: []PaybackRow{}}
	out.Assumptions = ltvAssumptions(biz, now)
	out.Assumptions.Margin = fmt.Sprintf("orders.gross_margin where known, else %.0f %% of revenue (ltv.default_margin)", biz.LTV.DefaultMargin*100)
	out.Assumptions.Notes = append(out.Assumptions.Notes,
		"CAC = spend of cac_cost_types ÷ new customers (first revenue) in the acquisition months, as the acquisition report",
		"monthly gross profit per customer = gross profit of the acquired customers in their first 12 months since acquisition ÷ customer-months observed (ended months only)",
		"payback months = CAC ÷ monthly gross profit per customer; cohort payback month = first month since acquisition by whose end cumulative gross profit ≥ spend (month 0 = acquisition month)",
		"ROAS curve at month N = revenue to month N of the customers acquired in a month ÷ that month's spend, over the acquisition months whose month N has ended",
		"LTV historical = cumulative gross profit per customer at the last month since acquisition observed (capped at horizon_months), customer-weighted over cohorts")
	finish := func(a *groupAcc) PaybackRow {
		r := a.row
		r.Spend = round4(r.Spend)
		r.CAC = div(r.Spend, float64(r.NewCustomers))
		r.MonthlyGP = div(a.gp12, a.custM)
		if r.CAC != nil && r.MonthlyGP != nil && *r.MonthlyGP > 0 {
			r.PaybackMonths = div(*r.CAC, *r.MonthlyGP)
		}
		r.Curve = []ROASPoint{}
		for m := 0; m <= months && a.cohortsAt[m] > 0; m++ {
			p := ROASPoint{Month: m, Cohorts: a.cohortsAt[m], Spend: round4(a.spendAt[m]), Revenue: round4(a.revAt[m]), GrossProfit: round4(a.gpAt[m])}
			p.ROAS, p.GPROAS = div(p.Revenue, p.Spend), div(p.GrossProfit, p.Spend)
			r.Curve = append(r.Curve, p)
			if r.CohortPaybackMonth == nil && p.Spend > 0 && p.GrossProfit >= p.Spend {
				m := m
				r.CohortPaybackMonth = &m
			}
		}
		r.LTV, r.LTVToCAC = map[string]*float64{}, map[string]*float64{}
		return r
	}
	var names []string
	for g := range groups {
		if g != "\x00total" {
			names = append(names, g)
		}
	}
	sort.Strings(names)
	for _, g := range names {
		out.Rows = append(out.Rows, finish(groups[g]))
	}
	sort.SliceStable(out.Rows, func(i, j int) bool { return out.Rows[i].Spend > out.Rows[j].Spend })
	out.Total = finish(total)
	out.Total.Group = "Total"
	if err := addPaybackLTV(ctx, db, d, biz, req, by, now, out); err != nil {
		return nil, err
	}
	return out, nil
}

// addPaybackLTV fills LTV and LTV:CAC of every row by each method.
func addPaybackLTV(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req PaybackRequest, by string, now time.Time, out *Payback) error {
	hist, err := RunHistoricalLTV(ctx, db, d, biz, LTVRequest{Model: "historical", By: by, Now: now})
	if err != nil {
		return err
	}
	values := map[string]map[string]*float64{"historical": {}}
	lastCell := func(r HistoricalRow) *float64 {
		if len(r.Cells) == 0 {
			return nil
		}
		return fnum(r.Cells[len(r.Cells)-1].GrossProfit)
	}
	if by == "cohort" {
		for _, r := range hist.Rows {
			values["historical"][r.Cohort] = lastCell(r)
		}
	} else {
		for _, r := range hist.Totals {
			values["historical"][r.Group] = lastCell(r)
		}
	}
	all, err := RunHistoricalLTV(ctx, db, d, biz, LTVRequest{Model: "historical", Now: now})
	if err != nil {
		return err
	}
	if len(all.Totals) > 0 {
		values["historical"]["Total"] = lastCell(all.Totals[0])
	}
	for _, m := range req.Models {
		if m == "historical" {
			continue
		}
		v, err := ltvByGroup(ctx, db, d, biz, m, by, now)
		if bowtie.ErrorCode(err) == bowtie.EINVALID {
			// A model the data cannot identify (no repeat buyer, no
			// subscriber): its column stays empty, with the reason.
			out.Assumptions.Notes = append(out.Assumptions.Notes, "LTV "+m+": "+bowtie.ErrorMessage(err))
			v, err = map[string]*float64{}, nil
		}
		if err != nil {
			return err
		}
		values[m] = v
	}
	set := func(r *PaybackRow) {
		for m, vs := range values {
			v := vs[r.Group]
			r.LTV[m] = v
			if v != nil && r.CAC != nil {
				r.LTVToCAC[m] = div(*v, *r.CAC)
			} else {
				r.LTVToCAC[m] = nil
			}
		}
	}
	for i := range out.Rows {
		set(&out.Rows[i])
	}
	set(&out.Total)
	return nil
}
