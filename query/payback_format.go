package query

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// ltvMethods returns the LTV methods present in p, in LTVModels order.
func (p *Payback) ltvMethods() []string {
	var out []string
	for _, m := range LTVModels {
		if _, ok := p.Total.LTV[m]; ok {
			out = append(out, m)
		}
	}
	return out
}

// WriteTable writes the unit economics per group, then the cohort ROAS
// curves (revenue to date ÷ spend) at months 0, 1, 2, 3, 6, 12, 24 and 36.
func (p *Payback) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Unit economics by %s, customers acquired %s to %s\n", p.By, p.From, p.To)
	writeAssumptions(w, p.Assumptions)
	methods := p.ltvMethods()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"Group", "Spend", "New customers", "CAC", "GP/customer/month", "Payback (months)", "Cohort payback month"}
	for _, m := range methods {
		head = append(head, "LTV "+m, "LTV:CAC "+m)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	rows := append(append([]PaybackRow{}, p.Rows...), p.Total)
	for _, r := range rows {
		cp := "–"
		if r.CohortPaybackMonth != nil {
			cp = strconv.Itoa(*r.CohortPaybackMonth)
		}
		out := []string{r.Group, fmt.Sprintf("%.2f", r.Spend), strconv.FormatInt(r.NewCustomers, 10), fmtNum(r.CAC, 2),
			fmtNum(r.MonthlyGP, 2), fmtNum(r.PaybackMonths, 1), cp}
		for _, m := range methods {
			out = append(out, fmtNum(r.LTV[m], 2), fmtNum(r.LTVToCAC[m], 2))
		}
		fmt.Fprintln(tw, strings.Join(out, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nCohort ROAS (revenue to date ÷ spend of the acquisition months) by month since acquisition")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	marks := []int{0, 1, 2, 3, 6, 12, 24, 36}
	head = []string{"Group"}
	for _, m := range marks {
		head = append(head, "M"+strconv.Itoa(m))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, r := range rows {
		out := []string{r.Group}
		for _, m := range marks {
			if m < len(r.Curve) && r.Curve[m].ROAS != nil {
				out = append(out, fmt.Sprintf("%.2f", *r.Curve[m].ROAS))
			} else {
				out = append(out, "–")
			}
		}
		fmt.Fprintln(tw, strings.Join(out, "\t")+"\t")
	}
	return tw.Flush()
}

// WriteCSV writes one line per group (the total last): the unit economics
// and LTV by method. The ROAS curves are in the JSON form.
func (p *Payback) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	methods := p.ltvMethods()
	sort.Strings(methods)
	head := []string{"group", "spend", "new_customers", "cac", "monthly_gross_profit_per_customer", "payback_months", "cohort_payback_month"}
	for _, m := range methods {
		head = append(head, "ltv_"+m, "ltv_to_cac_"+m)
	}
	cw.Write(head)
	for _, r := range append(append([]PaybackRow{}, p.Rows...), p.Total) {
		cp := ""
		if r.CohortPaybackMonth != nil {
			cp = strconv.Itoa(*r.CohortPaybackMonth)
		}
		out := []string{r.Group, strconv.FormatFloat(r.Spend, 'f', -1, 64), strconv.FormatInt(r.NewCustomers, 10), csvNum(r.CAC),
			csvNum(r.MonthlyGP), csvNum(r.PaybackMonths), cp}
		for _, m := range methods {
			out = append(out, csvNum(r.LTV[m]), csvNum(r.LTVToCAC[m]))
		}
		cw.Write(out)
	}
	cw.Flush()
	return cw.Error()
}
