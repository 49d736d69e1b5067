package query

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// revenueColumn is one column of the revenue outputs: its JSON key, its
// kind (money, count, ratio) and its value (ok false: empty).
type revenueColumn struct {
	Key  string
	Kind string
	get  func(p *RevenuePeriod) (float64, bool)
}

func revMoney(f func(p *RevenuePeriod) float64) func(p *RevenuePeriod) (float64, bool) {
	return func(p *RevenuePeriod) (float64, bool) { return f(p), true }
}

func revCount(f func(p *RevenuePeriod) int64) func(p *RevenuePeriod) (float64, bool) {
	return func(p *RevenuePeriod) (float64, bool) { return float64(f(p)), true }
}

func revOpt(f func(p *RevenuePeriod) *float64) func(p *RevenuePeriod) (float64, bool) {
	return func(p *RevenuePeriod) (float64, bool) {
		if v := f(p); v != nil {
			return *v, true
		}
		return 0, false
	}
}

// RevenueMovementColumns are the columns of `bowtie revenue`.
var RevenueMovementColumns = []revenueColumn{
	{"opening_mrr", "money", revMoney(func(p *RevenuePeriod) float64 { return p.OpeningMRR })},
	{"new_mrr", "money", revMoney(func(p *RevenuePeriod) float64 { return p.NewMRR })},
	{"expansion_mrr", "money", revMoney(func(p *RevenuePeriod) float64 { return p.Expansion })},
	{"contraction_mrr", "money", revMoney(func(p *RevenuePeriod) float64 { return p.Contraction })},
	{"churned_mrr", "money", revMoney(func(p *RevenuePeriod) float64 { return p.Churn })},
	{"reactivation_mrr", "money", revMoney(func(p *RevenuePeriod) float64 { return p.Reactivation })},
	{"closing_mrr", "money", revMoney(func(p *RevenuePeriod) float64 { return p.ClosingMRR })},
	{"net_new_mrr", "money", revMoney(func(p *RevenuePeriod) float64 { return p.NetNewMRR })},
	{"closing_arr", "money", revMoney(func(p *RevenuePeriod) float64 { return p.ClosingARR })},
	{"opening_customers", "count", revCount(func(p *RevenuePeriod) int64 { return p.OpeningCustomers })},
	{"new_customers", "count", revCount(func(p *RevenuePeriod) int64 { return p.NewCustomers })},
	{"reactivated_customers", "count", revCount(func(p *RevenuePeriod) int64 { return p.ReactivatedCustomers })},
	{"churned_customers", "count", revCount(func(p *RevenuePeriod) int64 { return p.ChurnedCustomers })},
	{"closing_customers", "count", revCount(func(p *RevenuePeriod) int64 { return p.ClosingCustomers })},
	{"arpa", "money", revOpt(func(p *RevenuePeriod) *float64 { return p.ARPA })},
	{"quick_ratio", "ratio", revOpt(func(p *RevenuePeriod) *float64 { return p.QuickRatio })},
}

// RevenueRetentionColumns are the columns of `bowtie revenue retention`.
var RevenueRetentionColumns = []revenueColumn{
	{"opening_customers", "count", revCount(func(p *RevenuePeriod) int64 { return p.OpeningCustomers })},
	{"churned_customers", "count", revCount(func(p *RevenuePeriod) int64 { return p.ChurnedCustomers })},
	{"logo_churn", "ratio", revOpt(func(p *RevenuePeriod) *float64 { return p.LogoChurn })},
	{"logo_churn_daily_weighted", "ratio", revOpt(func(p *RevenuePeriod) *float64 { return p.LogoChurnDailyWeighted })},
	{"gross_mrr_churn", "ratio", revOpt(func(p *RevenuePeriod) *float64 { return p.GrossMRRChurn })},
	{"net_mrr_churn", "ratio", revOpt(func(p *RevenuePeriod) *float64 { return p.NetMRRChurn })},
	{"grr", "ratio", revOpt(func(p *RevenuePeriod) *float64 { return p.GRR })},
	{"nrr", "ratio", revOpt(func(p *RevenuePeriod) *float64 { return p.NRR })},
	{"grr_t12m", "ratio", revOpt(func(p *RevenuePeriod) *float64 { return p.GRRT12M })},
	{"nrr_t12m", "ratio", revOpt(func(p *RevenuePeriod) *float64 { return p.NRRT12M })},
	{"trials_started", "count", revCount(func(p *RevenuePeriod) int64 { return p.TrialsStarted })},
	{"trials_converted", "count", revCount(func(p *RevenuePeriod) int64 { return p.TrialsConverted })},
	{"trial_to_paid", "ratio", revOpt(func(p *RevenuePeriod) *float64 { return p.TrialToPaid })},
}

// revenueRows returns the rows to print: the groups when there are any,
// else the periods.
func (r *Revenue) rows() []RevenuePeriod {
	if r.By != "" {
		return r.Groups
	}
	return r.Periods
}

// WriteCSV writes the periods (or, with a breakdown, the groups) with
// cols (RevenueMovementColumns or RevenueRetentionColumns): numbers
// plain, ratios as fractions, empty cells for undefined ratios.
func (r *Revenue) WriteCSV(w io.Writer, cols []revenueColumn) error {
	cw := csv.NewWriter(w)
	head := []string{"period"}
	if r.By != "" {
		head = append(head, r.By)
	}
	for _, c := range cols {
		head = append(head, c.Key)
	}
	cw.Write(head)
	for _, p := range r.rows() {
		line := []string{p.Period}
		if r.By != "" {
			line = append(line, p.Group)
		}
		for _, c := range cols {
			v, ok := c.get(&p)
			switch {
			case !ok:
				line = append(line, "")
			case c.Kind == "count":
				line = append(line, strconv.FormatInt(int64(v), 10))
			default:
				line = append(line, strconv.FormatFloat(v, 'f', -1, 64))
			}
		}
		cw.Write(line)
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the same as an aligned table.
func (r *Revenue) WriteTable(w io.Writer, title string, cols []revenueColumn) error {
	fmt.Fprintf(w, "%s, %s to %s by %s, %s (%s)\n\n", title, r.From, r.To, r.Grain, r.Currency, r.TimeZone)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "period\t")
	if r.By != "" {
		fmt.Fprint(tw, r.By+"\t")
	}
	for _, c := range cols {
		fmt.Fprint(tw, c.Key+"\t")
	}
	fmt.Fprintln(tw)
	for _, p := range r.rows() {
		fmt.Fprint(tw, p.Period+"\t")
		if r.By != "" {
			fmt.Fprint(tw, p.Group+"\t")
		}
		for _, c := range cols {
			v, ok := c.get(&p)
			switch {
			case !ok:
				fmt.Fprint(tw, "–\t")
			case c.Kind == "count":
				fmt.Fprintf(tw, "%d\t", int64(v))
			case c.Kind == "ratio":
				fmt.Fprintf(tw, "%.1f%%\t", 100*v)
			default:
				fmt.Fprintf(tw, "%.2f\t", v)
			}
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// WriteCSV writes the movement log: customer, period, type, mrr_before,
// mrr_after, plan_before, plan_after.
func (l *RevenueLogResult) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"customer", "period", "type", "mrr_before", "mrr_after", "plan_before", "plan_after"})
	for _, m := range l.Moves {
		cw.Write([]string{m.Customer, m.Period, m.Type, strconv.FormatFloat(m.MRRBefore, 'f', -1, 64),
			strconv.FormatFloat(m.MRRAfter, 'f', -1, 64), m.PlanBefore, m.PlanAfter})
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the movement log as an aligned table.
func (l *RevenueLogResult) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "MRR movement log, %s to %s by %s, %s (%s)\n\n", l.From, l.To, l.Grain, l.Currency, l.TimeZone)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "customer\tperiod\ttype\tmrr_before\tmrr_after\tplan_before\tplan_after\t")
	for _, m := range l.Moves {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%.2f\t%s\t%s\t\n", m.Customer, m.Period, m.Type, m.MRRBefore, m.MRRAfter, m.PlanBefore, m.PlanAfter)
	}
	return tw.Flush()
}
