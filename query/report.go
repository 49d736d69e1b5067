package query

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// ReportDimensions are the dimensions the acquisition report can be broken
// down by, alone or combined.
var ReportDimensions = []string{"channel", "source", "campaign", "day", "week", "month", "quarter", "year"}

// ReportRequest asks for the acquisition & ROI report.
type ReportRequest struct {
	// By lists the breakdown dimensions (see ReportDimensions); empty gives
	// one total row.
	By []string
	// From and To bound the report by calendar date in the business time
	// zone: From inclusive, To inclusive.
	From, To time.Time
	// Compare adds the totals of the previous period of equal length.
	Compare bool
}

// ReportRow is one line of the acquisition report. Ratios are nil where
// their denominator is zero. Money is in the report's currency.
type ReportRow struct {
	Channel  string `json:"channel,omitempty"`
	Source   string `json:"source,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Period   string `json:"period,omitempty"` // the bucket's first day, 2006-01-02

	Impressions  int64    `json:"impressions"`
	Clicks       int64    `json:"clicks"`
	Cost         float64  `json:"cost"`
	CPM          *float64 `json:"cpm"`
	CTR          *float64 `json:"ctr"`
	CPC          *float64 `json:"cpc"`
	Visitors     int64    `json:"visitors"`
	Leads        int64    `json:"leads"`
	CPL          *float64 `json:"cpl"`
	MQLs         int64    `json:"mqls"`
	SQLs         int64    `json:"sqls"`
	MQLToSQL     *float64 `json:"mql_to_sql"`
	NewCustomers int64    `json:"new_customers"`
	CAC          *float64 `json:"cac"`
	Revenue      float64  `json:"revenue"`
	ROAS         *float64 `json:"roas"`
	ROMI         *float64 `json:"romi"`
	CostShare    *float64 `json:"cost_share"`
}

// Report is the acquisition & ROI report.
type Report struct {
	Currency string      `json:"currency"`
	TimeZone string      `json:"time_zone"`
	From     string      `json:"from"`
	To       string      `json:"to"`
	By       []string    `json:"by"`
	Rows     []ReportRow `json:"rows"`
	Total    ReportRow   `json:"total"`
	// Previous holds the totals of the period of equal length just before
	// From, when asked for.
	Previous *ReportRow `json:"previous,omitempty"`
	// PreviousFrom and PreviousTo bound Previous.
	PreviousFrom string `json:"previous_from,omitempty"`
	PreviousTo   string `json:"previous_to,omitempty"`
}

// ReportColumn describes one figure of the report for tables, CSV and the
// dashboard. Kind is count, money, ratio (a multiple such as ROAS) or
// percent (a share shown as %).
type ReportColumn struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Kind  string `json:"kind"`
}

// ReportColumns lists the report's figures in display order; Key is the
// JSON field name.
var ReportColumns = []ReportColumn{
	{"impressions", "Impressions", "count"},
	{"clicks", "Clicks", "count"},
	{"cost", "Cost", "money"},
	{"cpm", "CPM", "money"},
	{"ctr", "CTR", "percent"},
	{"cpc", "CPC", "money"},
	{"visitors", "Visitors", "count"},
	{"leads", "Leads", "count"},
	{"cpl", "CPL", "money"},
	{"mqls", "MQLs", "count"},
	{"sqls", "SQLs", "count"},
	{"mql_to_sql", "MQL→SQL", "percent"},
	{"new_customers", "New customers", "count"},
	{"cac", "CAC", "money"},
	{"revenue", "Revenue", "money"},
	{"roas", "ROAS", "ratio"},
	{"romi", "ROMI", "percent"},
	{"cost_share", "Ad cost share", "percent"},
}

// Value returns the figure with the given column key, and false when it is
// empty (a ratio whose denominator is zero) or the key is unknown.
func (r *ReportRow) Value(key string) (float64, bool) {
	count := func(n int64) (float64, bool) { return float64(n), true }
	ratio := func(p *float64) (float64, bool) {
		if p == nil {
			return 0, false
		}
		return *p, true
	}
	switch key {
	case "impressions":
		return count(r.Impressions)
	case "clicks":
		return count(r.Clicks)
	case "cost":
		return r.Cost, true
	case "cpm":
		return ratio(r.CPM)
	case "ctr":
		return ratio(r.CTR)
	case "cpc":
		return ratio(r.CPC)
	case "visitors":
		return count(r.Visitors)
	case "leads":
		return count(r.Leads)
	case "cpl":
		return ratio(r.CPL)
	case "mqls":
		return count(r.MQLs)
	case "sqls":
		return count(r.SQLs)
	case "mql_to_sql":
		return ratio(r.MQLToSQL)
	case "new_customers":
		return count(r.NewCustomers)
	case "cac":
		return ratio(r.CAC)
	case "revenue":
		return r.Revenue, true
	case "roas":
		return ratio(r.ROAS)
	case "romi":
		return ratio(r.ROMI)
	case "cost_share":
		return ratio(r.CostShare)
	}
	return 0, false
}

// div returns a/b, or nil when b is zero: an undefined ratio is shown
// empty, never as 0 or Inf.
func div(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	v := a / b
	return &v
}

// derive fills r's ratios from its additive figures.
func (r *ReportRow) derive(hasSQL bool) {
	cost := r.Cost
	r.CPM = div(cost*1000, float64(r.Impressions))
	r.CTR = div(float64(r.Clicks), float64(r.Impressions))
	r.CPC = div(cost, float64(r.Clicks))
	r.CPL = div(cost, float64(r.Leads))
	if hasSQL {
		r.MQLToSQL = div(float64(r.SQLs), float64(r.MQLs))
	}
	r.CAC = div(cost, float64(r.NewCustomers))
	r.ROAS = div(r.Revenue, cost)
	r.ROMI = div(r.Revenue-cost, cost)
	r.CostShare = div(cost, r.Revenue)
}

// RunReport computes the acquisition & ROI report. Errors: *bowtie.Error
// with EINVALID for a bad request (unknown dimension, From after To) or
// when money in a currency without an fx rate would be summed.
func RunReport(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req ReportRequest) (*Report, error) {
	for _, dim := range req.By {
		if !slices.Contains(ReportDimensions, dim) {
			return nil, bowtie.Errorf(bowtie.EINVALID, "by: unknown dimension %q", dim)
		}
	}
	from, to := civil(req.From), civil(req.To)
	if from.IsZero() || to.IsZero() {
		return nil, bowtie.Errorf(bowtie.EINVALID, "from and to are required")
	}
	if to.Before(from) {
		return nil, bowtie.Errorf(bowtie.EINVALID, "from %s is after to %s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	rep := &Report{
		Currency: biz.Currency, TimeZone: biz.TimeZone,
		From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), By: req.By, Rows: []ReportRow{},
	}
	if rep.By == nil {
		rep.By = []string{}
	}
	rows, total, err := reportRows(ctx, db, d, biz, req.By, from, to)
	if err != nil {
		return nil, err
	}
	if rows != nil {
		rep.Rows = rows
	}
	rep.Total = total
	if req.Compare {
		days := int(to.Sub(from).Hours()/24+0.5) + 1
		pTo := from.AddDate(0, 0, -1)
		pFrom := pTo.AddDate(0, 0, -(days - 1))
		_, prev, err := reportRows(ctx, db, d, biz, nil, pFrom, pTo)
		if err != nil {
			return nil, err
		}
		rep.Previous = &prev
		rep.PreviousFrom, rep.PreviousTo = pFrom.Format(time.DateOnly), pTo.Format(time.DateOnly)
	}
	return rep, nil
}

// civil returns t's calendar date as midnight UTC (the date a user typed).
func civil(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// reportRows runs the report query for dims over the local dates [from,
// to] and returns its rows and its total.
func reportRows(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, dims []string, from, to time.Time) ([]ReportRow, ReportRow, error) {
	var total ReportRow
	loc := biz.Location()
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc).UTC()
	end := time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, loc).UTC()
	q, args, err := buildReportSQL(d, biz, dims, start, end, from, to)
	if err != nil {
		return nil, total, err
	}
	rs, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, total, fmt.Errorf("query: report: %w", err)
	}
	defer rs.Close()
	var out []ReportRow
	var missing float64
	for rs.Next() {
		var r ReportRow
		// Dimensions are NULL on the total row.
		texts := make([]sql.NullString, len(dims))
		var period sql.NullTime
		dest := make([]any, 0, len(dims)+1+len(reportMetrics))
		for i, dim := range dims {
			if isTimeDim(dim) {
				dest = append(dest, &period)
			} else {
				dest = append(dest, &texts[i])
			}
		}
		var isTotal int
		var impressions, clicks, visitors, leads, mqls, sqls, customers, miss float64
		dest = append(dest, &isTotal, &impressions, &clicks, &r.Cost, &visitors, &leads, &mqls, &sqls, &customers, &r.Revenue, &miss)
		if err := rs.Scan(dest...); err != nil {
			return nil, total, fmt.Errorf("query: report: %w", err)
		}
		for i, dim := range dims {
			switch dim {
			case "channel":
				r.Channel = texts[i].String
			case "source":
				r.Source = texts[i].String
			case "campaign":
				r.Campaign = texts[i].String
			}
		}
		if period.Valid {
			r.Period = period.Time.Format(time.DateOnly)
		}
		r.Impressions, r.Clicks, r.Visitors = int64(impressions), int64(clicks), int64(visitors)
		r.Leads, r.MQLs, r.SQLs, r.NewCustomers = int64(leads), int64(mqls), int64(sqls), int64(customers)
		r.Cost, r.Revenue = round4(r.Cost), round4(r.Revenue)
		missing += miss
		r.derive(biz.ReportStages.SQL != "")
		if isTotal == 1 {
			total = r
		} else {
			out = append(out, r)
		}
	}
	if err := rs.Err(); err != nil {
		return nil, total, fmt.Errorf("query: report: %w", err)
	}
	if missing > 0 {
		return nil, total, missingFX(ctx, db, biz, from, to)
	}
	return out, total, nil
}

// round4 rounds money to the four decimals the store keeps, hiding float
// noise from currency conversion.
func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
