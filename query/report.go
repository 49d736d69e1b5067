package query

import (
	"time"
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
