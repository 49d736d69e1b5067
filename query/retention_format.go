package query

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteCSV writes the retention matrix in long form: one line per group,
// cohort ("" for all cohorts) and interval N.
func (r *Retention) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"group", "cohort", "size", "n", "eligible", "retained", "rate"})
	for _, rows := range [][]RetentionRow{r.Totals, r.Cohorts} {
		for _, row := range rows {
			for _, c := range row.Cells {
				cw.Write([]string{row.Group, row.Cohort, strconv.FormatInt(row.Size, 10), strconv.Itoa(c.N),
					strconv.FormatInt(c.Eligible, 10), strconv.FormatInt(c.Retained, 10), csvNum(c.Rate)})
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the headline and the cohort matrix for a terminal.
func (r *Retention) WriteTable(w io.Writer) error {
	start := r.CohortEvent
	if start == "" {
		start = "stage " + r.CohortStage
	}
	ret := r.ReturnEvent
	if ret == "" {
		ret = "any event"
	}
	kind := "calendar " + r.Grain + "s"
	if r.Rolling {
		kind = "rolling " + map[string]string{"day": "24-hour", "week": "7-day", "month": "30-day"}[r.Grain] + " intervals"
	}
	mode := map[string]string{"on": "on " + r.Grain + " N", "on_or_after": "on or after " + r.Grain + " N"}[r.Mode]
	fmt.Fprintf(w, "Retention: cohorts by first %s, %s to %s (%s); return: %s; %s, %s; as of %s\n\n", start, r.From, r.To, r.TimeZone, ret, mode, kind, r.AsOf)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Group\tPeople\tD1\tD7\tD30\t")
	for i, h := range r.Headline {
		g := h.Group
		if g == "" {
			g = "All"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", g, group(strconv.FormatInt(r.Totals[i].Size, 10)), pct(h.D1.Rate), pct(h.D7.Rate), pct(h.D30.Rate))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	head := []string{}
	if r.By != "" {
		head = append(head, "Group")
	}
	head = append(head, "Cohort", "People")
	for n := 1; n <= r.Periods; n++ {
		head = append(head, strconv.Itoa(n))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	rows := append(append([]RetentionRow{}, r.Cohorts...), r.Totals...)
	for _, row := range rows {
		var out []string
		if r.By != "" {
			out = append(out, row.Group)
		}
		c := row.Cohort
		if c == "" {
			c = "All"
		}
		out = append(out, c, group(strconv.FormatInt(row.Size, 10)))
		for _, cell := range row.Cells[1:] {
			if cell.Rate == nil {
				out = append(out, "")
			} else {
				out = append(out, strconv.FormatFloat(*cell.Rate*100, 'f', 0, 64)+"%")
			}
		}
		fmt.Fprintln(tw, strings.Join(out, "\t")+"\t")
	}
	return tw.Flush()
}

// WriteCSV writes the daily active people as CSV.
func (a *Activity) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"date", "dau", "wau", "mau", "stickiness"})
	for _, d := range a.Days {
		cw.Write([]string{d.Date, strconv.FormatInt(d.DAU, 10), strconv.FormatInt(d.WAU, 10), strconv.FormatInt(d.MAU, 10), csvNum(d.Stickiness)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteLifecycleCSV writes the lifecycle as CSV.
func (a *Activity) WriteLifecycleCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"period", "active", "new", "returning", "resurrecting", "dormant"})
	for _, p := range a.Lifecycle {
		cw.Write([]string{p.Period, strconv.FormatInt(p.Active, 10), strconv.FormatInt(p.New, 10), strconv.FormatInt(p.Returning, 10),
			strconv.FormatInt(p.Resurrecting, 10), strconv.FormatInt(p.Dormant, 10)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the summary, the days and the lifecycle for a
// terminal.
func (a *Activity) WriteTable(w io.Writer) error {
	ev := a.Event
	if ev == "" {
		ev = "any event"
	}
	fmt.Fprintf(w, "Active people (%s), %s to %s (%s): average DAU %.1f, average MAU %.1f, DAU/MAU %s\n\n", ev, a.From, a.To, a.TimeZone, a.AverageDAU, a.AverageMAU, pct(a.Stickiness))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Date\tDAU\tWAU\tMAU\tDAU/MAU\t")
	for _, d := range a.Days {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t\n", d.Date, d.DAU, d.WAU, d.MAU, pct(d.Stickiness))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nLifecycle by %s\n", a.Grain)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Period\tActive\tNew\tReturning\tResurrecting\tDormant\t")
	for _, p := range a.Lifecycle {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t-%d\t\n", p.Period, p.Active, p.New, p.Returning, p.Resurrecting, p.Dormant)
	}
	return tw.Flush()
}
