package attribution

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

func num(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

func opt(v *float64, prec int) string {
	if v == nil {
		return "–"
	}
	return num(*v, prec)
}

func pct(v *float64) string {
	if v == nil {
		return "–"
	}
	return num(*v*100, 1) + " %"
}

// label is the row's name: channel, and campaign when by campaign.
func (r *Row) label(by string) []string {
	if by != "campaign" {
		return []string{r.Channel}
	}
	c := r.Campaign
	if c == "" {
		c = "(not set)"
	}
	return []string{r.Channel, c}
}

// WriteTable writes the analysis as aligned tables: the models side by
// side (conversions, revenue, cost per conversion, ROAS), then lead
// quality, top paths, the distributions and the data-driven models'
// own figures.
func (res *Result) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Attribution of %s at %s level by %s, %s – %s (%s)\n", res.Conversion, res.Level, res.By, res.From, res.To, res.Currency)
	rep := "repeated touches of a channel collapsed"
	if res.KeepRepeats {
		rep = "repeated touches kept"
	}
	fmt.Fprintf(w, "lookback %s days; %s; time-decay half-life %s days; Markov order %d", num(res.LookbackDays, 0), rep, num(res.HalfLifeDays, 1), res.MarkovOrder)
	if res.ExcludeDirect {
		fmt.Fprint(w, "; Direct touches excluded unless alone")
	}
	if res.DealWindow != "" {
		fmt.Fprintf(w, "; deal paths end at the deal's %s date", map[string]string{"created": "creation", "closed": "close"}[res.DealWindow])
	}
	fmt.Fprintln(w)
	t := res.Totals
	fmt.Fprintf(w, "conversions %s, revenue %s, converting paths %s, non-converting paths %s, with no touch %s; cost %s; platform-reported conversions %s (%s × bowtie's)\n",
		num(t.Conversions, 0), num(t.Revenue, 2), num(t.ConvertingPaths, 0), num(t.NullPaths, 0), num(t.DirectConversions, 0),
		num(t.Cost, 2), num(t.PlatformConversions, 1), opt(t.OverClaim, 2))
	for _, n := range res.Notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	head := []string{"Channel"}
	if res.By == "campaign" {
		head = append(head, "Campaign")
	}
	matrix := func(title string, extra []string, cell func(r *Row, c *Credit) string, tail func(r *Row) []string, tailHead []string) error {
		fmt.Fprintf(w, "\n%s\n", title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		h := append(append(append([]string{}, head...), extra...), res.Models...)
		h = append(h, tailHead...)
		fmt.Fprintln(tw, strings.Join(h, "\t")+"\t")
		for i := range res.Rows {
			r := &res.Rows[i]
			line := r.label(res.By)
			if len(extra) > 0 {
				line = append(line, num(r.Cost, 2), num(r.PlatformConversions, 1))
			}
			for _, m := range res.Models {
				line = append(line, cell(r, r.Credits[m]))
			}
			if tail != nil {
				line = append(line, tail(r)...)
			}
			fmt.Fprintln(tw, strings.Join(line, "\t")+"\t")
		}
		return tw.Flush()
	}
	if err := matrix("Credited conversions", []string{"Cost", "Platform conv."},
		func(_ *Row, c *Credit) string { return num(c.Conversions, 2) },
		func(r *Row) []string {
			return []string{opt(r.OverClaim, 2), opt(r.Spread, 2), r.MaxModel + "/" + r.MinModel}
		},
		[]string{"Over-claim", "Max/min", "Models"}); err != nil {
		return err
	}
	if err := matrix("Credited revenue", nil, func(_ *Row, c *Credit) string { return num(c.Revenue, 2) }, nil, nil); err != nil {
		return err
	}
	if err := matrix("Cost per attributed conversion", nil, func(_ *Row, c *Credit) string { return opt(c.CostPerConversion, 2) }, nil, nil); err != nil {
		return err
	}
	if err := matrix("Attributed ROAS (ROMI)", nil, func(_ *Row, c *Credit) string {
		return opt(c.ROAS, 2) + " (" + pct(c.ROMI) + ")"
	}, nil, nil); err != nil {
		return err
	}
	if len(res.LeadQuality) > 0 {
		fmt.Fprintln(w, "\nLead quality by first-touch channel (leads created in the period)")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "Channel\tLeads\tMQLs\tSQLs\tWon\t→MQL\t→SQL\t→Won\t")
		for _, r := range res.LeadQuality {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n", r.Channel, r.Leads, r.MQLs, r.SQLs, r.Won, pct(r.ToMQL), pct(r.ToSQL), pct(r.ToWon))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nTop paths")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Path\tConversions\tNon-converting\tConv. rate\tRevenue\t")
	for _, p := range res.TopPaths {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", shorten(p.Path, 90), num(p.Conversions, 0), num(p.Nulls, 0), pct(p.ConversionRate), num(p.Revenue, 2))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	dist := func(title, unit string, bs []Bucket) error {
		if len(bs) == 0 {
			return nil
		}
		fmt.Fprintf(w, "\n%s\n", title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%s\tConversions\tRevenue\t\n", unit)
		for _, b := range bs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", b.Label, num(b.Conversions, 0), num(b.Revenue, 2))
		}
		return tw.Flush()
	}
	if err := dist("Path length (touches per converting path)", "Touches", res.PathLengths); err != nil {
		return err
	}
	if err := dist("Time to convert (days from first touch)", "Days", res.TimeToConvert); err != nil {
		return err
	}
	if m := res.Markov; m != nil {
		fmt.Fprintf(w, "\nMarkov chain (order %d, %d states): P(conversion) %s\n", m.Order, m.States, num(m.ConversionProb, 4))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "Channel\tRemoval effect\tShare\t")
		for _, e := range m.RemovalEffects {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", e.Channel, num(e.RemovalEffect, 4), num(e.Share*100, 1)+" %")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w, "\nMost frequent transitions")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "From\tTo\tP\tCount\t")
		for i, e := range m.Transitions {
			if i == 15 {
				break
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", e.From, e.To, num(e.P, 4), num(e.Count, 0))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if s := res.Shapley; s != nil {
		how := "exact"
		if !s.Exact {
			how = fmt.Sprintf("sampled, %d permutations", s.Samples)
		}
		fmt.Fprintf(w, "\nShapley values (%s)\n", how)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "Channel\tValue\tStd. error\t")
		for _, v := range s.Values {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", v.Channel, num(v.Value, 5), opt(v.StdErr, 5))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// WriteCSV writes the credits in long form: one line per row and model.
func (res *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"channel", "campaign", "model", "conversions", "revenue", "cost", "cost_per_conversion", "roas", "romi", "platform_conversions", "over_claim", "currency"})
	f := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'g', -1, 64)
	}
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for i := range res.Rows {
		r := &res.Rows[i]
		for _, m := range res.Models {
			c := r.Credits[m]
			cw.Write([]string{r.Channel, r.Campaign, m, g(c.Conversions), g(c.Revenue), g(r.Cost), f(c.CostPerConversion), f(c.ROAS), f(c.ROMI),
				g(r.PlatformConversions), f(r.OverClaim), res.Currency})
		}
	}
	cw.Flush()
	return cw.Error()
}

// shorten cuts a long path for a table, keeping its start and end.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n/2-1]) + " … " + string(r[len(r)-(n/2-2):])
}
