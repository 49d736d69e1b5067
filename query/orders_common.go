package query

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// This file holds what the orders, renewals and referrals analyses share:
// the customer breakdown, the period checks and a small grid writer for
// tables and CSV.

// customerBreakdown resolves a breakdown of customers (the business's
// customer entity) identified by the SQL expression key: "" gives no
// group (NULL), else channel, source, campaign (the acquisition touch,
// acquisitionCTEs must be defined) or person.COLUMN / account.COLUMN as
// for the funnels (BreakdownColumns).
func customerBreakdown(biz *bowtie.Business, by, key string) (breakdown, error) {
	if by == "" {
		return breakdown{expr: "NULL"}, nil
	}
	return resolveBreakdown(biz.CustomerEntity, by, key)
}

// periodBounds checks from and to (calendar dates) and returns them with
// the UTC instants [start, end) that bound them in the business's zone.
func periodBounds(biz *bowtie.Business, from, to time.Time) (fromD, toD, start, end time.Time, err error) {
	fromD, toD = civil(from), civil(to)
	if fromD.IsZero() || toD.IsZero() {
		return fromD, toD, start, end, bowtie.Errorf(bowtie.EINVALID, "from and to are required")
	}
	if toD.Before(fromD) {
		return fromD, toD, start, end, bowtie.Errorf(bowtie.EINVALID, "from %s is after to %s", fromD.Format(time.DateOnly), toD.Format(time.DateOnly))
	}
	loc := biz.Location()
	start = time.Date(fromD.Year(), fromD.Month(), fromD.Day(), 0, 0, 0, 0, loc).UTC()
	end = time.Date(toD.Year(), toD.Month(), toD.Day()+1, 0, 0, 0, 0, loc).UTC()
	return fromD, toD, start, end, nil
}

// checkGrain accepts "" (the whole period) or a time grain.
func checkGrain(g string) error {
	if g == "" || isTimeDim(g) {
		return nil
	}
	return bowtie.Errorf(bowtie.EINVALID, "grain: %q is not day, week, month, quarter or year", g)
}

// periodExpr returns the expression of the period a UTC timestamp column
// ts falls in: its local grain bucket, or the constant first date fromD
// (a parameter of ps, registered only then: an unused placeholder is an
// error) when grain is "".
func periodExpr(d Dialect, biz *bowtie.Business, grain, ts string, ps *params, fromD, start, end time.Time) (string, error) {
	if grain == "" {
		return "CAST(" + ps.p("from_date", fromD) + " AS DATE)", nil
	}
	return d.Bucket(grain, localTime(d, ts, biz.Location(), start, end))
}

// cell formats an optional figure for CSV: empty when undefined.
func cell(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// num formats a figure for CSV.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// count formats a count for CSV.
func count(n int64) string { return strconv.FormatInt(n, 10) }

// grid is a table of text cells with a header, written as CSV or as an
// aligned terminal table.
type grid struct {
	head []string
	rows [][]string
}

func (g *grid) add(cells ...string) { g.rows = append(g.rows, cells) }

func (g *grid) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(g.head)
	for _, r := range g.rows {
		cw.Write(r)
	}
	cw.Flush()
	return cw.Error()
}

func (g *grid) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(g.head, "\t")+"\t")
	for _, r := range g.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	return tw.Flush()
}

// fmtOpt renders an optional figure of kind (see formatValue) for a table.
func fmtOpt(p *float64, kind string) string {
	if p == nil {
		return formatValue(0, false, kind)
	}
	return formatValue(*p, true, kind)
}
