package query

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// fmtNum formats a figure for a table ("" when nil).
func fmtNum(v *float64, prec int) string {
	if v == nil {
		return "–"
	}
	return strconv.FormatFloat(*v, 'f', prec, 64)
}

// writeAssumptions prints the assumptions block of a table.
func writeAssumptions(w io.Writer, a LTVAssumptions) {
	fmt.Fprintf(w, "as of %s, %s; discount rate %.1f %%/year, horizon %d months\n", a.AsOf, a.Currency, a.DiscountRate*100, a.HorizonMonths)
	fmt.Fprintf(w, "margin: %s\n", a.Margin)
	for _, n := range a.Notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	fmt.Fprintln(w)
}

// WriteTable writes the matrix of cumulative gross profit per customer
// (and revenue in brackets) as an aligned table.
func (h *HistoricalLTV) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Historical LTV by %s: cumulative gross profit (revenue) per customer, by month since acquisition\n", h.By)
	writeAssumptions(w, h.Assumptions)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	width := 0
	for _, r := range h.Totals {
		width = max(width, len(r.Cells))
	}
	head := []string{"Group", "Cohort", "Customers"}
	for m := 0; m < width; m++ {
		head = append(head, "M"+strconv.Itoa(m))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	line := func(r HistoricalRow, cohort string) {
		out := []string{r.Group, cohort, strconv.FormatInt(r.Customers, 10)}
		for _, c := range r.Cells {
			out = append(out, fmt.Sprintf("%.2f (%.2f)", c.GrossProfit, c.Revenue))
		}
		fmt.Fprintln(tw, strings.Join(out, "\t")+"\t")
	}
	for _, r := range h.Rows {
		line(r, r.Cohort)
	}
	for _, r := range h.Totals {
		line(r, "all")
	}
	return tw.Flush()
}

// WriteCSV writes one line per group, cohort and month: group, cohort
// ("" for the group's average), month, customers, revenue and gross
// profit per customer (cumulative).
func (h *HistoricalLTV) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"group", "cohort", "month", "customers", "revenue_per_customer", "gross_profit_per_customer"})
	for _, rows := range [][]HistoricalRow{h.Rows, h.Totals} {
		for _, r := range rows {
			for _, c := range r.Cells {
				cw.Write([]string{r.Group, r.Cohort, strconv.Itoa(c.Month), strconv.FormatInt(c.Customers, 10),
					strconv.FormatFloat(c.Revenue, 'f', -1, 64), strconv.FormatFloat(c.GrossProfit, 'f', -1, 64)})
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the formula's inputs and result per group.
func (f *FormulaLTV) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Formula LTV = ARPA × margin ÷ monthly churn (%s churn), by %s\n", f.ChurnBasis, orAll(f.By))
	writeAssumptions(w, f.Assumptions)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Group\tCustomer-months\tChurned\tARPA\tMargin\tChurn\tLifetime (months)\tLTV\t")
	for _, r := range append(append([]FormulaRow{}, f.Rows...), f.Total) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%.1f %%\t%s\t%s\t%s\t\n", r.Group, r.CustomerMonths, r.Churned, fmtNum(r.ARPA, 2),
			r.Margin*100, fmtPct(r.Churn), fmtNum(r.Lifetime, 1), fmtNum(r.LTV, 2))
	}
	return tw.Flush()
}

// WriteCSV writes the formula's rows and total.
func (f *FormulaLTV) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"group", "customer_months", "churned", "arpa", "margin", "churn", "lifetime_months", "ltv"})
	for _, r := range append(append([]FormulaRow{}, f.Rows...), f.Total) {
		cw.Write([]string{r.Group, strconv.FormatInt(r.CustomerMonths, 10), strconv.FormatInt(r.Churned, 10), csvNum(r.ARPA),
			strconv.FormatFloat(r.Margin, 'f', -1, 64), csvNum(r.Churn), csvNum(r.Lifetime), csvNum(r.LTV)})
	}
	cw.Flush()
	return cw.Error()
}

// fmtPct formats a share as a percentage ("–" when nil).
func fmtPct(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.2f %%", *v*100)
}

func orAll(by string) string {
	if by == "" {
		return "all customers"
	}
	return by
}

// WriteTable writes the sBG fits, LTV and the fit check.
func (s *SBGLTV) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "sBG (contractual) LTV by %s, %sly billing periods\n", orAll(s.By), s.Interval)
	writeAssumptions(w, s.Assumptions)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Group\tCustomers\tCohorts\tα (SE)\tβ (SE)\tLog-lik\tMRR\tMargin\tDEL\tDisc. lifetime\tLTV\t")
	for _, g := range append([]SBGGroup{s.Pooled}, s.Rows...) {
		a, b, ll := "–", "–", "–"
		f := g.Fit
		if f != nil {
			a, b, ll = fmt.Sprintf("%.3f (%.3f)", f.Alpha, f.SE.Alpha), fmt.Sprintf("%.3f (%.3f)", f.Beta, f.SE.Beta), fmt.Sprintf("%.1f", f.LogLik)
		} else if g.PooledUsed {
			a, b = "pooled", "pooled"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%.2f\t%.1f %%\t%s\t%s\t%s\t\n", g.Group, g.Customers, g.Cohorts, a, b, ll, g.MRR,
			g.Margin*100, fmtNum(g.DEL, 2), fmtNum(g.Lifetime, 2), fmtNum(g.LTV, 2))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.Pooled.FitError != "" {
		fmt.Fprintf(w, "\nno fit: %s\n", s.Pooled.FitError)
	}
	fmt.Fprintln(w, "\nFit check (all subscribers): survival after T renewals, observed vs fitted")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "T\tObserved\tFitted\tRetention rate\t")
	for _, p := range s.Pooled.Check {
		fmt.Fprintf(tw, "%d\t%s\t%.2f %%\t%s\t\n", p.T, fmtPct(p.Observed), p.Fitted*100, fmtPct(p.Retention))
	}
	return tw.Flush()
}

// WriteCSV writes one line per group: the fit and LTV.
func (s *SBGLTV) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"group", "customers", "cohorts", "alpha", "alpha_se", "beta", "beta_se", "log_lik", "pooled_fit_used", "mrr", "margin", "del", "discounted_lifetime", "ltv"})
	for _, g := range append([]SBGGroup{s.Pooled}, s.Rows...) {
		fit := []string{"", "", "", "", ""}
		if g.Fit != nil {
			f := g.Fit
			fit = []string{ff(f.Alpha), ff(f.SE.Alpha), ff(f.Beta), ff(f.SE.Beta), ff(f.LogLik)}
		}
		row := append([]string{g.Group, strconv.FormatInt(g.Customers, 10), strconv.Itoa(g.Cohorts)}, fit...)
		row = append(row, strconv.FormatBool(g.PooledUsed), ff(g.MRR), ff(g.Margin), csvNum(g.DEL), csvNum(g.Lifetime), csvNum(g.LTV))
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

func ff(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// WriteTable writes the BG/NBD fit, CLV per group and the hold-out check.
func (b *BGNBDLTV) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "BG/NBD (non-contractual) CLV by %s, time unit %s\n", orAll(b.By), b.TimeUnit)
	writeAssumptions(w, b.Assumptions)
	if f := b.Fit; f != nil {
		fmt.Fprintf(w, "fit: r %.4f (SE %.4f), α %.4f (SE %.4f), a %.4f (SE %.4f), b %.4f (SE %.4f); log-likelihood %.2f over %.0f customers; converged %v\n\n",
			f.R, f.SE.R, f.Alpha, f.SE.Alpha, f.A, f.SE.A, f.B, f.SE.B, f.LogLik, f.N, f.Converged)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Group\tCustomers\tP(alive)\tDisc. purchases\tPurchase value\tCLV\t")
	for _, r := range append(append([]BGNBDRow{}, b.Rows...), b.Total) {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", r.Group, r.Customers, fmtPct(r.PAlive), fmtNum(r.Purchases, 3), fmtNum(r.Value, 2), fmtNum(r.CLV, 2))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if b.CheckError != "" {
		fmt.Fprintf(w, "\nno calibration/hold-out check: %s\n", b.CheckError)
	}
	if c := b.Check; c != nil {
		f := c.Fit
		fmt.Fprintf(w, "\nCalibration/hold-out check: calibration to %s, hold-out to %s (%.1f %s), %d customers\n", c.CalibrationEnd, c.HoldoutEnd, c.Holdout, b.TimeUnit, c.Customers)
		fmt.Fprintf(w, "calibration fit: r %.4f (%.4f), α %.4f (%.4f), a %.4f (%.4f), b %.4f (%.4f), log-likelihood %.2f\n",
			f.R, f.SE.R, f.Alpha, f.SE.Alpha, f.A, f.SE.A, f.B, f.SE.B, f.LogLik)
		fmt.Fprintf(w, "hold-out repeat purchase days: actual %.0f, predicted %s\n", c.Actual, fmtNum(c.Predicted, 1))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "Calibration x\tCustomers\tActual mean\tPredicted mean\t")
		for _, r := range c.ByFrequency {
			x := strconv.Itoa(r.X)
			if r.Plus {
				x += "+"
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%.3f\t%s\t\n", x, r.Customers, r.Actual, fmtNum(r.Predicted, 3))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(c.Tracking) > 0 {
			fmt.Fprintln(w, "\nTracking: cumulative repeat purchase days of these customers (every 4th week and the last)")
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "Before\tActual\tExpected\t")
			for i, p := range c.Tracking {
				if i%4 == 3 || i == len(c.Tracking)-1 {
					fmt.Fprintf(tw, "%s\t%.0f\t%s\t\n", p.Week, p.Actual, fmtNum(p.Predicted, 1))
				}
			}
		}
		return tw.Flush()
	}
	return nil
}

// WriteCSV writes one line per group: customers, P(alive), discounted
// purchases, purchase value and CLV.
func (b *BGNBDLTV) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"group", "customers", "p_alive", "expected_purchases", "purchase_value", "clv"})
	for _, r := range append(append([]BGNBDRow{}, b.Rows...), b.Total) {
		cw.Write([]string{r.Group, strconv.FormatInt(r.Customers, 10), csvNum(r.PAlive), csvNum(r.Purchases), csvNum(r.Value), csvNum(r.CLV)})
	}
	cw.Flush()
	return cw.Error()
}
