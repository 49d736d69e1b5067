package query

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// reportMetrics are the additive columns each side of the report query
// yields, in output order. Ratios are derived from them in Go.
var reportMetrics = []string{"impressions", "clicks", "cost", "visitors", "leads", "mqls", "sqls", "new_customers", "revenue", "missing_fx"}

// reportSide is one fact source of the report: where its rows come from and
// how each dimension and metric is computed from them.
type reportSide struct {
	from    string            // FROM clause including joins and WHERE
	dim     map[string]string // dimension -> expression (time dims: the timestamp or date to bucket)
	metrics map[string]string // metric -> aggregate expression
}

// isTimeDim reports whether d is a time grain.
func isTimeDim(d string) bool {
	switch d {
	case "day", "week", "month", "quarter", "year":
		return true
	}
	return false
}

// ParseDimensions parses a comma-separated dimension list such as
// "channel,month". At most one time grain is allowed; names are checked
// against ReportDimensions.
func ParseDimensions(s string) ([]string, error) {
	var out []string
	grains := 0
	for _, d := range strings.Split(s, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if !slices.Contains(ReportDimensions, d) {
			return nil, bowtie.Errorf(bowtie.EINVALID, "by: unknown dimension %q (use %s)", d, strings.Join(ReportDimensions, ", "))
		}
		if slices.Contains(out, d) {
			return nil, bowtie.Errorf(bowtie.EINVALID, "by: %q given twice", d)
		}
		if isTimeDim(d) {
			grains++
		}
		out = append(out, d)
	}
	if grains > 1 {
		return nil, bowtie.Errorf(bowtie.EINVALID, "by: give at most one time grain (day, week, month, quarter or year)")
	}
	return out, nil
}

// stagesFrom returns the configured stages from name to the end of the list:
// under the "skipped stages count as passed" policy, reaching any of them
// means name was reached.
func stagesFrom(stages []string, name string) []string {
	i := slices.Index(stages, name)
	if i < 0 {
		return nil
	}
	return stages[i:]
}

// buildReportSQL returns the report query for dims over [from, to) (UTC
// instants; fromDate and toDate are the same bounds as local dates, toDate
// inclusive) and its arguments.
func buildReportSQL(d Dialect, biz *bowtie.Business, dims []string, from, to time.Time, fromDate, toDate time.Time) (string, []any, error) {
	var ps params
	rep := ps.p("currency", biz.Currency)
	pFrom, pTo := ps.p("from", from), ps.p("to", to)
	pFromD, pToD := ps.p("from_date", fromDate), ps.p("to_date", toDate)
	inRange := func(ts string) string { return fmt.Sprintf("%s >= %s AND %s < %s", ts, pFrom, ts, pTo) }

	acqPerson := `SELECT p.person_id AS id,
		coalesce(p.channel, f.channel, 'Unassigned') AS channel,
		coalesce(p.utm_source, f.utm_source, '(not set)') AS source,
		coalesce(p.utm_campaign, f.utm_campaign, '(not set)') AS campaign
	FROM people p LEFT JOIN (
		SELECT person_id, arg_min(channel, ts) AS channel, arg_min(utm_source, ts) AS utm_source, arg_min(utm_campaign, ts) AS utm_campaign
		FROM events
		WHERE channel IS NOT NULL AND person_id IN (SELECT person_id FROM people WHERE channel IS NULL)
		GROUP BY person_id) f ON f.person_id = p.person_id`
	acqAccount := `SELECT a.account_id AS id,
		coalesce(a.channel, f.channel, 'Unassigned') AS channel,
		coalesce(a.utm_source, f.utm_source, '(not set)') AS source,
		coalesce(a.utm_campaign, f.utm_campaign, '(not set)') AS campaign
	FROM accounts a LEFT JOIN (
		SELECT account_id, arg_min(channel, ts) AS channel, arg_min(utm_source, ts) AS utm_source, arg_min(utm_campaign, ts) AS utm_campaign
		FROM events
		WHERE channel IS NOT NULL AND account_id IN (SELECT account_id FROM accounts WHERE channel IS NULL)
		GROUP BY account_id) f ON f.account_id = a.account_id`
	acqCustomer, dealCustomer := "acq_person", "person_id"
	if biz.CustomerEntity == "account" {
		acqCustomer, dealCustomer = "acq_account", "account_id"
	}

	// Revenue facts: paid orders and won deals, converted to the reporting
	// currency at the rate of their UTC date.
	var rev []string
	if slices.Contains(biz.RevenueSources, "orders") {
		rev = append(rev, `SELECT o.customer_id, o.ts, o.amount, o.currency FROM orders o WHERE o.status = 'paid'`)
	}
	if slices.Contains(biz.RevenueSources, "deals") {
		rev = append(rev, fmt.Sprintf(`SELECT dl.%s, dl.closed_at, dl.amount, dl.currency FROM deals dl
			WHERE dl.status = 'won' AND dl.closed_at IS NOT NULL AND dl.amount IS NOT NULL AND dl.%s IS NOT NULL`, dealCustomer, dealCustomer))
	}
	if len(rev) == 0 {
		rev = append(rev, "SELECT NULL::VARCHAR, NULL::TIMESTAMP, NULL::DECIMAL(18,4), NULL::VARCHAR WHERE false")
	}

	ctes := []string{
		fxCTE(rep),
		"acq_person AS (" + acqPerson + ")",
		"acq_account AS (" + acqAccount + ")",
		"rev_raw (customer_id, ts, amount, currency) AS (" + strings.Join(rev, " UNION ALL ") + ")",
		"rev AS (SELECT r.customer_id, r.ts, " + convert("r.amount", "r.currency", rep) + " AS amount FROM rev_raw r " +
			d.FXJoin("r.currency", "CAST(r.ts AS DATE)") + ")",
		"first_rev AS (SELECT customer_id, min(ts) AS ts FROM rev WHERE amount IS NULL OR amount > 0 GROUP BY customer_id)",
	}

	stageSets := map[string][]string{}
	var stageAggs []string
	for _, st := range []struct{ col, name string }{{"lead", biz.ReportStages.Lead}, {"mql", biz.ReportStages.MQL}, {"sql", biz.ReportStages.SQL}} {
		if st.name == "" {
			continue
		}
		set := stagesFrom(biz.Stages, st.name)
		stageSets[st.col] = set
		stageAggs = append(stageAggs, fmt.Sprintf("min(ts) FILTER (WHERE stage IN %s) AS %s_ts", ps.list("stages_"+st.col, set), st.col))
	}
	if len(stageAggs) > 0 {
		ctes = append(ctes, "stage_first AS (SELECT entity_id, "+strings.Join(stageAggs, ", ")+
			" FROM stage_changes WHERE entity_type = 'person' GROUP BY entity_id)")
	}

	acqDims := func(alias string) map[string]string {
		return map[string]string{
			"channel":  "coalesce(" + alias + ".channel, 'Unassigned')",
			"source":   "coalesce(" + alias + ".source, '(not set)')",
			"campaign": "coalesce(" + alias + ".campaign, '(not set)')",
		}
	}
	withTime := func(m map[string]string, ts string) map[string]string {
		m["time"] = ts
		return m
	}

	sides := []reportSide{
		{
			from: "spend s " + d.FXJoin("s.currency", "s.date") + " WHERE s.date BETWEEN " + pFromD + " AND " + pToD,
			dim: map[string]string{
				"channel": "coalesce(s.channel, 'Unassigned')", "source": "s.source",
				"campaign": "coalesce(nullif(s.campaign, ''), '(not set)')", "time": "s.date",
			},
			metrics: map[string]string{
				"impressions": "sum(s.impressions)",
				"clicks":      "sum(s.clicks)",
				"cost":        "sum(CASE WHEN s.cost_type IN " + ps.list("cost_types", biz.CACCostTypes) + " THEN " + convert("s.cost", "s.currency", rep) + " ELSE 0 END)",
				"missing_fx":  "count(*) FILTER (WHERE s.cost_type IN " + ps.list("cost_types", biz.CACCostTypes) + " AND " + convert("s.cost", "s.currency", rep) + " IS NULL)",
			},
		},
		{
			from: "events e WHERE e.type IN ('page', 'screen') AND " + inRange("e.ts"),
			dim: map[string]string{
				"channel": "coalesce(e.channel, 'Unassigned')", "source": "coalesce(e.utm_source, '(not set)')",
				"campaign": "coalesce(e.utm_campaign, '(not set)')", "time": "e.ts",
			},
			metrics: map[string]string{"visitors": "count(DISTINCT coalesce(e.person_id, e.anonymous_id))"},
		},
	}
	for _, col := range []string{"lead", "mql", "sql"} {
		if stageSets[col] == nil {
			continue
		}
		ts := "sf." + col + "_ts"
		sides = append(sides, reportSide{
			from:    "stage_first sf LEFT JOIN acq_person a ON a.id = sf.entity_id WHERE " + inRange(ts),
			dim:     withTime(acqDims("a"), ts),
			metrics: map[string]string{col + "s": "count(*)"},
		})
	}
	sides = append(sides,
		reportSide{
			from:    "first_rev fr LEFT JOIN " + acqCustomer + " a ON a.id = fr.customer_id WHERE " + inRange("fr.ts"),
			dim:     withTime(acqDims("a"), "fr.ts"),
			metrics: map[string]string{"new_customers": "count(*)"},
		},
		reportSide{
			from:    "rev r LEFT JOIN " + acqCustomer + " a ON a.id = r.customer_id WHERE " + inRange("r.ts"),
			dim:     withTime(acqDims("a"), "r.ts"),
			metrics: map[string]string{"revenue": "sum(r.amount)", "missing_fx": "count(*) FILTER (WHERE r.amount IS NULL)"},
		},
	)

	var selects []string
	for i, s := range sides {
		var cols, group []string
		for _, dim := range dims {
			var expr string
			if isTimeDim(dim) {
				src := s.dim["time"]
				var err error
				if i == 0 { // spend dates are already local calendar dates
					expr, err = d.Bucket(dim, src)
				} else if expr, err = d.Bucket(dim, localTime(d, src, biz.Location(), from, to)); err != nil {
					return "", nil, err
				}
			} else {
				expr = s.dim[dim]
			}
			cols = append(cols, expr+" AS "+dim)
			group = append(group, expr)
		}
		// One pass yields the rows and the total: the empty grouping set
		// aggregates over everything, so distinct counts stay exact.
		if len(group) > 0 {
			cols = append(cols, "grouping("+group[0]+") AS total_row")
		} else {
			cols = append(cols, "1 AS total_row")
		}
		for _, m := range reportMetrics {
			if e, ok := s.metrics[m]; ok {
				cols = append(cols, "CAST("+e+" AS DOUBLE) AS "+m)
			} else {
				cols = append(cols, "CAST(0 AS DOUBLE) AS "+m)
			}
		}
		q := "SELECT " + strings.Join(cols, ", ") + " FROM " + s.from
		if len(group) > 0 {
			q += " GROUP BY GROUPING SETS ((" + strings.Join(group, ", ") + "), ())"
		}
		selects = append(selects, q)
	}

	var outer []string
	outer = append(outer, dims...)
	if len(dims) > 0 {
		outer = append(outer, "total_row")
	} else {
		outer = append(outer, "1 AS total_row")
	}
	for _, m := range reportMetrics {
		outer = append(outer, "coalesce(sum("+m+"), 0) AS "+m)
	}
	q := "-- query.RunReport\nWITH " + strings.Join(ctes, ",\n") + "\nSELECT " + strings.Join(outer, ", ") +
		" FROM (\n" + strings.Join(selects, "\nUNION ALL\n") + "\n) x"
	if len(dims) > 0 {
		q += " GROUP BY total_row, " + strings.Join(dims, ", ")
		order := []string{"total_row"}
		for _, dim := range dims {
			if isTimeDim(dim) {
				order = append(order, dim)
			}
		}
		order = append(order, "cost DESC", "revenue DESC")
		for _, dim := range dims {
			if !isTimeDim(dim) {
				order = append(order, dim)
			}
		}
		q += " ORDER BY " + strings.Join(order, ", ")
	}
	return q, ps.args, nil
}
