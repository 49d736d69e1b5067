package query

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// dimLabel returns the value of dimension dim in r.
func (r *ReportRow) dimValue(dim string) string {
	switch dim {
	case "channel":
		return r.Channel
	case "source":
		return r.Source
	case "campaign":
		return r.Campaign
	}
	return r.Period
}

// WriteCSV writes the report as CSV: one header line, the rows and a final
// "Total" row. Numbers are plain (no grouping, '.' decimals, ratios as
// fractions); empty ratios are empty cells.
func (rep *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := append([]string{}, rep.By...)
	for _, c := range ReportColumns {
		head = append(head, c.Key)
	}
	cw.Write(head)
	line := func(r *ReportRow, total bool) []string {
		var out []string
		for i, dim := range rep.By {
			if total {
				if i == 0 {
					out = append(out, "Total")
				} else {
					out = append(out, "")
				}
				continue
			}
			out = append(out, r.dimValue(dim))
		}
		for _, c := range ReportColumns {
			v, ok := r.Value(c.Key)
			switch {
			case !ok:
				out = append(out, "")
			case c.Kind == "count":
				out = append(out, strconv.FormatInt(int64(v), 10))
			default:
				out = append(out, strconv.FormatFloat(v, 'f', -1, 64))
			}
		}
		return out
	}
	for i := range rep.Rows {
		cw.Write(line(&rep.Rows[i], false))
	}
	if len(rep.By) > 0 {
		cw.Write(line(&rep.Total, true))
	} else {
		cw.Write(line(&rep.Total, false))
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the report as an aligned text table for a terminal.
func (rep *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Acquisition & ROI, %s to %s, %s (%s)\n\n", rep.From, rep.To, rep.Currency, rep.TimeZone)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var head []string
	for _, d := range rep.By {
		head = append(head, strings.ToUpper(d[:1])+d[1:])
	}
	for _, c := range ReportColumns {
		head = append(head, c.Label)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	line := func(r *ReportRow, label string) {
		var out []string
		for i, d := range rep.By {
			switch {
			case label != "" && i == 0:
				out = append(out, label)
			case label != "":
				out = append(out, "")
			default:
				out = append(out, r.dimValue(d))
			}
		}
		for _, c := range ReportColumns {
			v, ok := r.Value(c.Key)
			out = append(out, formatValue(v, ok, c.Kind))
		}
		fmt.Fprintln(tw, strings.Join(out, "\t")+"\t")
	}
	for i := range rep.Rows {
		line(&rep.Rows[i], "")
	}
	if len(rep.By) > 0 {
		line(&rep.Total, "Total")
	} else {
		line(&rep.Total, "")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.Previous != nil {
		fmt.Fprintf(w, "\nPrevious period %s to %s: cost %s, leads %d, new customers %d, revenue %s\n",
			rep.PreviousFrom, rep.PreviousTo, formatValue(rep.Previous.Cost, true, "money"),
			rep.Previous.Leads, rep.Previous.NewCustomers, formatValue(rep.Previous.Revenue, true, "money"))
	}
	return nil
}

// formatValue renders a figure for humans: counts and money with thousands
// separators, percents with one decimal, ratios with two; empty ratios as
// "—".
func formatValue(v float64, ok bool, kind string) string {
	if !ok {
		return "—"
	}
	switch kind {
	case "count":
		return group(strconv.FormatInt(int64(v), 10))
	case "money":
		s := strconv.FormatFloat(math.Abs(v), 'f', 2, 64)
		i := strings.IndexByte(s, '.')
		out := group(s[:i]) + s[i:]
		if v < 0 {
			out = "-" + out
		}
		return out
	case "percent":
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// group inserts thousands separators into a string of digits.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatCount formats n with thousands separators: 1,234,567.
func FormatCount(n int64) string { return group(strconv.FormatInt(n, 10)) }
