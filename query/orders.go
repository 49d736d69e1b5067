package query

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// OrdersRequest asks for the orders analysis (docs/metrics.md, "Orders").
type OrdersRequest struct {
	// From and To bound the orders by local calendar date, both inclusive.
	From, To time.Time
	// Grain cuts the period into days, weeks, months, quarters or years;
	// "" gives one row for the whole period.
	Grain string
	// By breaks each period down by "product_line" (the order's), or by
	// the customer's "channel", "source", "campaign" (acquisition touch),
	// "person.COLUMN" or "account.COLUMN" (BreakdownColumns); "" for none.
	By string
}

// OrdersRow holds the order figures of one period (and group). Money is
// in the reporting currency; ratios are nil when their denominator is 0.
type OrdersRow struct {
	Period string `json:"period,omitempty"` // the bucket's first day
	Group  string `json:"group,omitempty"`  // the By value: product line, channel, segment, ...
	// Orders counts paid orders; Revenue sums their amounts.
	Orders  int64   `json:"orders"`
	Revenue float64 `json:"revenue"`
	// AOV is Revenue ÷ Orders.
	AOV *float64 `json:"aov"`
	// Customers counts customers with a paid order in the row;
	// NewCustomers those whose first paid order ever is in it.
	Customers    int64 `json:"customers"`
	NewCustomers int64 `json:"new_customers"`
	// RepeatCustomers counts the row's customers who have at least two
	// paid orders from their first order up to the end of the row's
	// period (any product line); RepeatRate is RepeatCustomers ÷
	// Customers.
	RepeatCustomers int64    `json:"repeat_customers"`
	RepeatRate      *float64 `json:"repeat_rate"`
	// Frequency is Orders ÷ Customers: paid orders per ordering customer.
	Frequency *float64 `json:"frequency"`
	// GrossMargin sums gross_margin of the paid orders that have one;
	// MarginPct is GrossMargin ÷ the revenue of those same orders, and
	// MarginCoverage the share of Revenue they make up.
	GrossMargin    float64  `json:"gross_margin"`
	MarginPct      *float64 `json:"margin_pct"`
	MarginCoverage *float64 `json:"margin_coverage"`
	// Refunds counts refunded orders dated in the row and RefundedAmount
	// sums them; neither is in Revenue.
	Refunds        int64   `json:"refunds"`
	RefundedAmount float64 `json:"refunded_amount"`

	marginBase float64
}

// LineRevenue is the revenue of one product line in one period from
// every configured revenue source: paid orders and won deals (closed in
// the period), as the acquisition report counts revenue.
type LineRevenue struct {
	Period        string   `json:"period,omitempty"`
	ProductLine   string   `json:"product_line"`
	OrdersRevenue float64  `json:"orders_revenue"`
	DealsRevenue  float64  `json:"deals_revenue"`
	Revenue       float64  `json:"revenue"`
	Share         *float64 `json:"share"` // of the period's revenue
}

// Orders is the orders analysis.
type Orders struct {
	Currency string `json:"currency"`
	TimeZone string `json:"time_zone"`
	From     string `json:"from"`
	To       string `json:"to"`
	Grain    string `json:"grain"`
	By       string `json:"by"`
	// Rows are per period (and group when By is set).
	Rows []OrdersRow `json:"rows"`
	// Periods are the totals per period, when both Grain and By are set.
	Periods []OrdersRow `json:"periods,omitempty"`
	// Total covers the whole range.
	Total OrdersRow `json:"total"`
	// Lines is the revenue by product line per period (whole range when
	// Grain is ""), over the business's revenue_sources.
	Lines []LineRevenue `json:"lines"`
	// RevenueSources are the sources Lines counts.
	RevenueSources []string `json:"revenue_sources"`
}

// RunOrders computes the orders analysis. Errors: *bowtie.Error with
// EINVALID for a bad request or money in a currency without an fx rate.
func RunOrders(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req OrdersRequest) (*Orders, error) {
	if err := checkGrain(req.Grain); err != nil {
		return nil, err
	}
	if req.By != "product_line" {
		if _, err := customerBreakdown(biz, req.By, "o.customer_id"); err != nil {
			return nil, bowtie.Errorf(bowtie.EINVALID, "%s (or product_line)", bowtie.ErrorMessage(err))
		}
	}
	fromD, toD, start, end, err := periodBounds(biz, req.From, req.To)
	if err != nil {
		return nil, err
	}
	out := &Orders{Currency: biz.Currency, TimeZone: biz.TimeZone, From: fromD.Format(time.DateOnly), To: toD.Format(time.DateOnly),
		Grain: req.Grain, By: req.By, Rows: []OrdersRow{}, Lines: []LineRevenue{}, RevenueSources: biz.RevenueSources}
	if out.Rows, err = ordersRows(ctx, db, d, biz, req.Grain, req.By, fromD, start, end); err != nil {
		return nil, err
	}
	if req.Grain != "" && req.By != "" {
		if out.Periods, err = ordersRows(ctx, db, d, biz, req.Grain, "", fromD, start, end); err != nil {
			return nil, err
		}
	}
	tot, err := ordersRows(ctx, db, d, biz, "", "", fromD, start, end)
	if err != nil {
		return nil, err
	}
	if len(tot) == 1 {
		out.Total = tot[0]
	}
	out.Total.Period = ""
	if req.Grain == "" && req.By == "" {
		out.Rows = tot
	}
	if out.Lines, err = lineRevenue(ctx, db, d, biz, req.Grain, fromD, start, end); err != nil {
		return nil, err
	}
	return out, nil
}

// ordersRows runs the orders query for one grain and breakdown.
func ordersRows(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, grain, by string, fromD, start, end time.Time) ([]OrdersRow, error) {
	var ps params
	rep := ps.p("currency", biz.Currency)
	pStart, pEnd := ps.p("start", start), ps.p("end", end)
	period, err := periodExpr(d, biz, grain, "o.ts", &ps, fromD, start, end)
	if err != nil {
		return nil, err
	}
	// A customer is a repeat buyer in a period when their second paid
	// order falls in it or before it.
	secondPeriod := "CASE WHEN c.second_ts < " + pEnd + " THEN " + period + " END"
	if grain != "" {
		if secondPeriod, err = d.Bucket(grain, localTime(d, "c.second_ts", biz.Location(), start, end)); err != nil {
			return nil, err
		}
	}
	bd := breakdown{expr: "coalesce(o.product_line, '(none)')"}
	if by != "product_line" {
		if bd, err = customerBreakdown(biz, by, "o.customer_id"); err != nil {
			return nil, err
		}
	}
	q := `-- query.RunOrders
WITH ` + fxCTE(rep) + `,
` + acquisitionCTEs + `,
ranked AS (SELECT order_id, customer_id, ts, row_number() OVER (PARTITION BY customer_id ORDER BY ts, order_id) AS n
	FROM orders WHERE status = 'paid'),
cust AS (SELECT customer_id, min(ts) FILTER (WHERE n = 2) AS second_ts FROM ranked GROUP BY customer_id),
o AS (SELECT o.order_id, o.customer_id, o.ts, o.status, o.product_line, r.n,
		` + convert("o.amount", "o.currency", rep) + ` AS amount,
		CASE WHEN o.gross_margin IS NOT NULL THEN ` + convert("o.gross_margin", "o.currency", rep) + ` END AS margin
	FROM orders o LEFT JOIN ranked r ON r.order_id = o.order_id ` + d.FXJoin("o.currency", "CAST(o.ts AS DATE)") + `
	WHERE o.ts >= ` + pStart + ` AND o.ts < ` + pEnd + `)
SELECT ` + period + ` AS period, ` + bd.expr + ` AS grp,
	count(*) FILTER (WHERE o.status = 'paid'),
	coalesce(CAST(sum(o.amount) FILTER (WHERE o.status = 'paid') AS DOUBLE), 0),
	count(DISTINCT o.customer_id) FILTER (WHERE o.status = 'paid'),
	count(*) FILTER (WHERE o.n = 1),
	count(DISTINCT o.customer_id) FILTER (WHERE o.status = 'paid' AND ` + secondPeriod + ` <= ` + period + `),
	coalesce(CAST(sum(o.margin) FILTER (WHERE o.status = 'paid') AS DOUBLE), 0),
	coalesce(CAST(sum(o.amount) FILTER (WHERE o.status = 'paid' AND o.margin IS NOT NULL) AS DOUBLE), 0),
	count(*) FILTER (WHERE o.status = 'refunded'),
	coalesce(CAST(sum(o.amount) FILTER (WHERE o.status = 'refunded') AS DOUBLE), 0),
	count(*) FILTER (WHERE o.amount IS NULL)
FROM o LEFT JOIN cust c ON c.customer_id = o.customer_id` + bd.joins + `
GROUP BY 1, 2 ORDER BY 1, 4 DESC, 2`
	rs, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: orders: %w", err)
	}
	defer rs.Close()
	out := []OrdersRow{}
	var missing int64
	for rs.Next() {
		var r OrdersRow
		var p time.Time
		var g sql.NullString
		var miss int64
		if err := rs.Scan(&p, &g, &r.Orders, &r.Revenue, &r.Customers, &r.NewCustomers, &r.RepeatCustomers,
			&r.GrossMargin, &r.marginBase, &r.Refunds, &r.RefundedAmount, &miss); err != nil {
			return nil, fmt.Errorf("query: orders: %w", err)
		}
		missing += miss
		if grain != "" {
			r.Period = p.Format(time.DateOnly)
		}
		r.Group = g.String
		r.derive()
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("query: orders: %w", err)
	}
	if missing > 0 {
		return nil, missingFX(ctx, db, biz, start, end)
	}
	return out, nil
}

// derive rounds r's money and fills its ratios.
func (r *OrdersRow) derive() {
	r.Revenue, r.GrossMargin, r.RefundedAmount, r.marginBase = round4(r.Revenue), round4(r.GrossMargin), round4(r.RefundedAmount), round4(r.marginBase)
	r.AOV = div(r.Revenue, float64(r.Orders))
	r.RepeatRate = div(float64(r.RepeatCustomers), float64(r.Customers))
	r.Frequency = div(float64(r.Orders), float64(r.Customers))
	r.MarginPct = div(r.GrossMargin, r.marginBase)
	r.MarginCoverage = div(r.marginBase, r.Revenue)
}

// lineRevenue returns the revenue per period and product line over the
// business's revenue sources, with each line's share of its period.
func lineRevenue(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, grain string, fromD, start, end time.Time) ([]LineRevenue, error) {
	var ps params
	rep := ps.p("currency", biz.Currency)
	pStart, pEnd := ps.p("start", start), ps.p("end", end)
	var src []string
	if slices.Contains(biz.RevenueSources, "orders") {
		src = append(src, `SELECT 'orders', o.ts, o.product_line, o.amount, o.currency FROM orders o WHERE o.status = 'paid'`)
	}
	if slices.Contains(biz.RevenueSources, "deals") {
		cust := "person_id"
		if biz.CustomerEntity == "account" {
			cust = "account_id"
		}
		// The acquisition report's rule for deal revenue (report_sql.go).
		src = append(src, `SELECT 'deals', dl.closed_at, dl.product_line, dl.amount, dl.currency FROM deals dl
			WHERE dl.status = 'won' AND dl.closed_at IS NOT NULL AND dl.amount IS NOT NULL AND dl.`+cust+` IS NOT NULL`)
	}
	if len(src) == 0 {
		return []LineRevenue{}, nil
	}
	period, err := periodExpr(d, biz, grain, "r.ts", &ps, fromD, start, end)
	if err != nil {
		return nil, err
	}
	q := `-- query.RunOrders lines
WITH ` + fxCTE(rep) + `,
raw (src, ts, line, amount, currency) AS (` + strings.Join(src, " UNION ALL ") + `),
r AS (SELECT r.src, r.ts, coalesce(r.line, '(none)') AS line, ` + convert("r.amount", "r.currency", rep) + ` AS amount
	FROM raw r ` + d.FXJoin("r.currency", "CAST(r.ts AS DATE)") + ` WHERE r.ts >= ` + pStart + ` AND r.ts < ` + pEnd + `)
SELECT ` + period + ` AS period, r.line,
	coalesce(CAST(sum(r.amount) FILTER (WHERE r.src = 'orders') AS DOUBLE), 0),
	coalesce(CAST(sum(r.amount) FILTER (WHERE r.src = 'deals') AS DOUBLE), 0),
	count(*) FILTER (WHERE r.amount IS NULL)
FROM r GROUP BY 1, 2 ORDER BY 1, 2`
	rs, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: orders: lines: %w", err)
	}
	defer rs.Close()
	out := []LineRevenue{}
	totals := map[string]float64{}
	var missing int64
	for rs.Next() {
		var l LineRevenue
		var p time.Time
		var miss int64
		if err := rs.Scan(&p, &l.ProductLine, &l.OrdersRevenue, &l.DealsRevenue, &miss); err != nil {
			return nil, fmt.Errorf("query: orders: lines: %w", err)
		}
		missing += miss
		if grain != "" {
			l.Period = p.Format(time.DateOnly)
		}
		l.OrdersRevenue, l.DealsRevenue = round4(l.OrdersRevenue), round4(l.DealsRevenue)
		l.Revenue = round4(l.OrdersRevenue + l.DealsRevenue)
		totals[l.Period] += l.Revenue
		out = append(out, l)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("query: orders: lines: %w", err)
	}
	if missing > 0 {
		return nil, missingFX(ctx, db, biz, start, end)
	}
	for i := range out {
		out[i].Share = div(out[i].Revenue, totals[out[i].Period])
	}
	return out, nil
}

// ordersColumns are the CSV and table columns of an OrdersRow.
var ordersColumns = []struct{ key, label, kind string }{
	{"orders", "Orders", "count"}, {"revenue", "Revenue", "money"}, {"aov", "AOV", "money"},
	{"customers", "Customers", "count"}, {"new_customers", "New", "count"}, {"repeat_customers", "Repeat", "count"},
	{"repeat_rate", "Repeat rate", "percent"}, {"frequency", "Orders/cust.", "ratio"},
	{"gross_margin", "Gross margin", "money"}, {"margin_pct", "Margin %", "percent"},
	{"refunds", "Refunds", "count"}, {"refunded_amount", "Refunded", "money"},
}

func (r *OrdersRow) value(key string) *float64 {
	f := func(v float64) *float64 { return &v }
	switch key {
	case "orders":
		return f(float64(r.Orders))
	case "revenue":
		return f(r.Revenue)
	case "aov":
		return r.AOV
	case "customers":
		return f(float64(r.Customers))
	case "new_customers":
		return f(float64(r.NewCustomers))
	case "repeat_customers":
		return f(float64(r.RepeatCustomers))
	case "repeat_rate":
		return r.RepeatRate
	case "frequency":
		return r.Frequency
	case "gross_margin":
		return f(r.GrossMargin)
	case "margin_pct":
		return r.MarginPct
	case "refunds":
		return f(float64(r.Refunds))
	case "refunded_amount":
		return f(r.RefundedAmount)
	}
	return nil
}

func (o *Orders) grid(human bool) *grid {
	g := &grid{head: []string{"period", "group"}}
	if human {
		g.head = []string{"Period", "Group"}
	}
	for _, c := range ordersColumns {
		if human {
			g.head = append(g.head, c.label)
		} else {
			g.head = append(g.head, c.key)
		}
	}
	add := func(r *OrdersRow, period, group string) {
		cells := []string{period, group}
		for _, c := range ordersColumns {
			v := r.value(c.key)
			switch {
			case human:
				cells = append(cells, fmtOpt(v, c.kind))
			case v == nil:
				cells = append(cells, "")
			default:
				cells = append(cells, num(*v))
			}
		}
		g.add(cells...)
	}
	for i := range o.Rows {
		add(&o.Rows[i], o.Rows[i].Period, o.Rows[i].Group)
	}
	for i := range o.Periods {
		add(&o.Periods[i], o.Periods[i].Period, "Total")
	}
	if o.Grain != "" || o.By != "" {
		add(&o.Total, "Total", "")
	}
	return g
}

// WriteCSV writes the order rows, the period totals and the total (period
// "Total") as CSV.
func (o *Orders) WriteCSV(w io.Writer) error { return o.grid(false).writeCSV(w) }

// WriteTable writes the orders analysis and the revenue by product line as
// aligned text tables.
func (o *Orders) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Orders, %s to %s, %s (%s); refunded orders are not revenue\n\n", o.From, o.To, o.Currency, o.TimeZone)
	if err := o.grid(true).writeTable(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nRevenue by product line (%s)\n\n", strings.Join(o.RevenueSources, " + "))
	g := &grid{head: []string{"Period", "Product line", "Orders", "Deals", "Revenue", "Share"}}
	for _, l := range o.Lines {
		g.add(l.Period, l.ProductLine, formatValue(l.OrdersRevenue, true, "money"), formatValue(l.DealsRevenue, true, "money"),
			formatValue(l.Revenue, true, "money"), fmtOpt(l.Share, "percent"))
	}
	return g.writeTable(w)
}
