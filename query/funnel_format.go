package query

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// funnelCSVHeader is the header of every funnel CSV.
var funnelCSVHeader = []string{"group", "step", "name", "count", "step_conversion", "overall_conversion", "drop_off",
	"median_days_from_previous", "p75_days_from_previous", "p90_days_from_previous",
	"median_days_from_first", "p75_days_from_first", "p90_days_from_first"}

func csvNum(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// writeFunnelCSV writes the total (group "Total") and the groups, one line
// per step.
func writeFunnelCSV(w io.Writer, total FunnelGroup, groups []FunnelGroup) error {
	cw := csv.NewWriter(w)
	cw.Write(funnelCSVHeader)
	line := func(key string, g FunnelGroup) {
		for i, s := range g.Steps {
			cw.Write([]string{key, strconv.Itoa(i + 1), s.Name, strconv.FormatInt(s.Count, 10), csvNum(s.StepConversion), csvNum(s.OverallConversion),
				strconv.FormatInt(s.DropOff, 10), csvNum(s.TimeFromPrevious.Median), csvNum(s.TimeFromPrevious.P75), csvNum(s.TimeFromPrevious.P90),
				csvNum(s.TimeFromFirst.Median), csvNum(s.TimeFromFirst.P75), csvNum(s.TimeFromFirst.P90)})
		}
	}
	line("Total", total)
	for _, g := range groups {
		line(g.Key, g)
	}
	cw.Flush()
	return cw.Error()
}

func days(p *float64) string {
	if p == nil {
		return "—"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64)
}

func pct(p *float64) string {
	if p == nil {
		return "—"
	}
	return formatValue(*p, true, "percent")
}

// writeFunnelTable writes one aligned block per group, the total first.
func writeFunnelTable(w io.Writer, title string, total FunnelGroup, groups []FunnelGroup) error {
	fmt.Fprintf(w, "%s\n", title)
	block := func(label string, g FunnelGroup) error {
		fmt.Fprintf(w, "\n%s\n", label)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "Step\tCount\tStep conv.\tOverall\tDrop-off\tDays from prev. (median / p75 / p90)\tDays from first (median)\t")
		for i, s := range g.Steps {
			prev, first := "", ""
			if i > 0 {
				prev = days(s.TimeFromPrevious.Median) + " / " + days(s.TimeFromPrevious.P75) + " / " + days(s.TimeFromPrevious.P90)
				first = days(s.TimeFromFirst.Median)
			}
			fmt.Fprintf(tw, "%d. %s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", i+1, s.Name, group(strconv.FormatInt(s.Count, 10)),
				pct(s.StepConversion), pct(s.OverallConversion), group(strconv.FormatInt(s.DropOff, 10)), prev, first)
		}
		return tw.Flush()
	}
	if err := block("All", total); err != nil {
		return err
	}
	for _, g := range groups {
		if err := block(g.Key, g); err != nil {
			return err
		}
	}
	return nil
}

// WriteCSV writes the stage funnel as CSV (see docs/cli.md).
func (f *StageFunnel) WriteCSV(w io.Writer) error { return writeFunnelCSV(w, f.Total, f.Groups) }

// WriteTable writes the stage funnel for a terminal.
func (f *StageFunnel) WriteTable(w io.Writer) error {
	skip := "skipped stages count as passed"
	if f.Strict {
		skip = "strict: every stage needs its own row"
	}
	within := ""
	if f.WithinDays > 0 {
		within = fmt.Sprintf(", within %d days", f.WithinDays)
	}
	by := ""
	if f.By != "" {
		by = ", by " + f.By
	}
	return writeFunnelTable(w, fmt.Sprintf("Stage funnel (%s, %s-based%s; %s), %s to %s (%s)%s", f.Entity, f.Mode, within, skip, f.From, f.To, f.TimeZone, by),
		f.Total, f.Groups)
}

// WriteCSV writes the event funnel as CSV (see docs/cli.md).
func (f *EventFunnel) WriteCSV(w io.Writer) error { return writeFunnelCSV(w, f.Total, f.Groups) }

// WriteTable writes the event funnel for a terminal.
func (f *EventFunnel) WriteTable(w io.Writer) error {
	var steps []string
	for _, s := range f.Steps {
		steps = append(steps, s.Event)
	}
	by := ""
	if f.By != "" {
		by = ", by " + f.By
	}
	return writeFunnelTable(w, fmt.Sprintf("Event funnel %s (%s, %s, window %s, %d exclusions), first step %s to %s (%s)%s",
		strings.Join(steps, " → "), f.Unit, f.Mode, f.Window, len(f.Exclusions), f.From, f.To, f.TimeZone, by), f.Total, f.Groups)
}

// WriteCSV writes the sales metrics as CSV: one metric a line.
func (s *Sales) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"metric", "value"})
	for _, m := range s.metrics() {
		cw.Write([]string{m.key, csvNum(m.v)})
	}
	for _, r := range s.StageWinRates {
		cw.Write([]string{"stage_win_rate:" + r.Stage, csvNum(r.Rate)})
	}
	cw.Flush()
	return cw.Error()
}

type salesMetric struct {
	key, label, kind string
	v                *float64
}

func (s *Sales) metrics() []salesMetric {
	n := func(v int64) *float64 { f := float64(v); return &f }
	m := func(v float64) *float64 { return &v }
	return []salesMetric{
		{"won", "Won deals", "count", n(s.Won)},
		{"lost", "Lost deals", "count", n(s.Lost)},
		{"win_rate", "Win rate", "percent", s.WinRate},
		{"sales_cycle_median_days", "Sales cycle, median days", "days", s.SalesCycle.Median},
		{"sales_cycle_p75_days", "Sales cycle, p75 days", "days", s.SalesCycle.P75},
		{"sales_cycle_p90_days", "Sales cycle, p90 days", "days", s.SalesCycle.P90},
		{"sales_cycle_mean_days", "Sales cycle, mean days", "days", s.SalesCycle.Mean},
		{"average_deal_size", "Average deal size", "money", s.AverageDealSize},
		{"won_value", "Won value", "money", m(s.WonValue)},
		{"open", "Open deals", "count", n(s.Open)},
		{"open_value", "Open pipeline", "money", m(s.OpenValue)},
		{"weighted_value", "Weighted pipeline", "money", m(s.WeightedValue)},
		{"velocity_per_day", "Sales velocity per day", "money", s.Velocity},
		{"mqls", "MQLs in the period", "count", n(s.MQLFollowUp.MQLs)},
		{"mqls_touched", "MQLs with a sales touch", "count", n(s.MQLFollowUp.Touched)},
		{"mqls_touched_within_1_day", "MQLs touched within a day", "percent", s.MQLFollowUp.WithinDay},
		{"mql_to_first_touch_median_days", "MQL → first sales touch, median days", "days", s.MQLFollowUp.Time.Median},
		{"mql_to_first_touch_p90_days", "MQL → first sales touch, p90 days", "days", s.MQLFollowUp.Time.P90},
	}
}

// WriteTable writes the sales metrics for a terminal.
func (s *Sales) WriteTable(w io.Writer) error {
	p := ""
	if s.Pipeline != "" {
		p = ", pipeline " + s.Pipeline
	}
	fmt.Fprintf(w, "Sales pipeline, deals closed %s to %s, %s%s\n\n", s.From, s.To, s.Currency, p)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, m := range s.metrics() {
		v := "—"
		if m.v != nil {
			if m.kind == "days" {
				v = days(m.v)
			} else {
				v = formatValue(*m.v, true, m.kind)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\n", m.label, v)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.StageWinRates) > 0 {
		fmt.Fprintln(w, "\nWeights of open deals by stage (won ÷ closed deals that passed the stage):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "Stage\tOpen\tClosed\tWon\tWeight\t")
		for _, r := range s.StageWinRates {
			note := ""
			if r.Fallback {
				note = " (overall)"
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s%s\t\n", r.Stage, r.Open, r.Closed, r.Won, pct(r.Rate), note)
		}
		return tw.Flush()
	}
	return nil
}
