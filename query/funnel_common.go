package query

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// FunnelStep is one step of a stage or event funnel.
//
// Count is the number of units (people, accounts or deals) counted at the
// step. StepConversion is Count ÷ the previous step's Count and
// OverallConversion Count ÷ the first step's Count (nil on the first step
// and when the denominator is zero). DropOff is the previous step's Count
// minus Count (0 on the first step; negative is possible only in the
// period-based stage funnel, whose steps count different people).
type FunnelStep struct {
	Name              string   `json:"name"`
	Count             int64    `json:"count"`
	StepConversion    *float64 `json:"step_conversion"`
	OverallConversion *float64 `json:"overall_conversion"`
	DropOff           int64    `json:"drop_off"`
	// TimeFromPrevious and TimeFromFirst are the times, in days, from the
	// previous step and from the first step to this one, over the units
	// counted at this step (empty on the first step).
	TimeFromPrevious Quantiles `json:"time_from_previous"`
	TimeFromFirst    Quantiles `json:"time_from_first"`
}

// Quantiles summarises a distribution of durations in days: N values,
// their median, 75th and 90th percentiles (linear interpolation between
// the closest ranks, as DuckDB's quantile_cont and numpy's default) and
// mean. The figures are nil when N is 0.
type Quantiles struct {
	N      int64    `json:"n"`
	Median *float64 `json:"median"`
	P75    *float64 `json:"p75"`
	P90    *float64 `json:"p90"`
	Mean   *float64 `json:"mean"`
	// Distribution counts the values per DurationEdges bucket.
	Distribution []DurationBucket `json:"distribution"`
}

// DurationBucket counts the durations d with FromDays ≤ d < ToDays (ToDays
// nil: no upper bound).
type DurationBucket struct {
	FromDays float64  `json:"from_days"`
	ToDays   *float64 `json:"to_days"`
	Count    int64    `json:"count"`
}

// DurationEdges are the lower bounds, in days, of the distribution buckets
// of time-to-convert figures.
var DurationEdges = []float64{0, 1, 3, 7, 14, 30, 60, 90, 180, 365}

// FunnelGroup is a funnel for one breakdown value (Key; "" for all).
type FunnelGroup struct {
	Key   string       `json:"key"`
	Steps []FunnelStep `json:"steps"`
}

// deriveSteps fills the conversions and drop-offs of steps from counts.
func deriveSteps(steps []FunnelStep) {
	for i := range steps {
		if i == 0 {
			continue
		}
		s := &steps[i]
		s.StepConversion = div(float64(s.Count), float64(steps[i-1].Count))
		s.OverallConversion = div(float64(s.Count), float64(steps[0].Count))
		s.DropOff = steps[i-1].Count - s.Count
	}
}

// nullF returns a pointer to v's value, or nil when it is NULL.
func nullF(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	x := v.Float64
	return &x
}

// quantileSQL returns the five aggregate expressions behind Quantiles
// (count, median, p75, p90, mean) of the expression x over rows where cond.
// The bucket counts follow, one per DurationEdges bucket.
func quantileSQL(x, cond string) []string {
	out := []string{
		fmt.Sprintf("count(%s) FILTER (WHERE %s)", x, cond),
		fmt.Sprintf("quantile_cont(%s, 0.5) FILTER (WHERE %s)", x, cond),
		fmt.Sprintf("quantile_cont(%s, 0.75) FILTER (WHERE %s)", x, cond),
		fmt.Sprintf("quantile_cont(%s, 0.9) FILTER (WHERE %s)", x, cond),
		// The mean adds exact decimals: a sum of doubles depends on the
		// order in which the engine's threads add them up.
		fmt.Sprintf("CAST(avg(CAST(%s AS DECIMAL(38,12))) FILTER (WHERE %s) AS DOUBLE)", x, cond),
	}
	// One histogram of bucket numbers (many FILTERed counts are far slower).
	b := "CASE"
	for i := len(DurationEdges) - 1; i > 0; i-- {
		b += fmt.Sprintf(" WHEN %s >= %g THEN %d", x, DurationEdges[i], i)
	}
	b += " ELSE 0 END"
	return append(out, fmt.Sprintf("CAST(histogram(%s) FILTER (WHERE %s AND %s IS NOT NULL) AS VARCHAR)", b, cond, x))
}

// parseHistogram reads DuckDB's text form of a MAP of bucket numbers to
// counts, "{0=3, 2=1}", into buckets.
func parseHistogram(s string, buckets []int64) error {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if s == "" {
		return nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		i, err1 := strconv.Atoi(k)
		n, err2 := strconv.ParseInt(v, 10, 64)
		if !ok || err1 != nil || err2 != nil || i < 0 || i >= len(buckets) {
			return fmt.Errorf("query: unexpected histogram %q", s)
		}
		buckets[i] = n
	}
	return nil
}

// quantileDest holds the scan targets of quantileSQL's columns.
type quantileDest struct {
	n                   int64
	med, p75, p90, mean sql.NullFloat64
	hist                sql.NullString
}

func (q *quantileDest) dest() []any { return []any{&q.n, &q.med, &q.p75, &q.p90, &q.mean, &q.hist} }

func (q *quantileDest) value() (Quantiles, error) {
	buckets := make([]int64, len(DurationEdges))
	if q.hist.Valid {
		if err := parseHistogram(q.hist.String, buckets); err != nil {
			return Quantiles{}, err
		}
	}
	return Quantiles{N: q.n, Median: nullF(q.med), P75: nullF(q.p75), P90: nullF(q.p90), Mean: nullF(q.mean), Distribution: durationBuckets(buckets)}, nil
}

// durationBuckets returns the DurationEdges buckets with the given counts.
func durationBuckets(counts []int64) []DurationBucket {
	out := make([]DurationBucket, len(DurationEdges))
	for i, lo := range DurationEdges {
		out[i] = DurationBucket{FromDays: lo, Count: counts[i]}
		if i+1 < len(DurationEdges) {
			hi := DurationEdges[i+1]
			out[i].ToDays = &hi
		}
	}
	return out
}

// daysBetween returns the SQL for the time from a to b in days (seconds
// precision).
func daysBetween(a, b string) string {
	return fmt.Sprintf("(date_diff('second', %s, %s) / 86400.0)", a, b)
}

// localBounds returns the UTC instants of local midnight starting from and
// ending to (inclusive dates) in loc, validating the range.
func localBounds(biz *bowtie.Business, from, to time.Time) (start, end time.Time, err error) {
	from, to = civil(from), civil(to)
	if from.IsZero() || to.IsZero() {
		return start, end, bowtie.Errorf(bowtie.EINVALID, "from and to are required")
	}
	if to.Before(from) {
		return start, end, bowtie.Errorf(bowtie.EINVALID, "from %s is after to %s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	loc := biz.Location()
	start = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc).UTC()
	end = time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, loc).UTC()
	return start, end, nil
}

// acquisitionCTEs define acq_person and acq_account: the acquisition
// channel, source and campaign of every person and account (the stored
// value, else the first event with a channel), NULL where unknown. These
// are the same definitions the acquisition report uses (docs/metrics.md).
const acquisitionCTEs = `acq_person AS (SELECT p.person_id AS id,
		coalesce(p.channel, f.channel) AS channel,
		coalesce(p.utm_source, f.utm_source) AS source,
		coalesce(p.utm_campaign, f.utm_campaign) AS campaign
	FROM people p LEFT JOIN (
		SELECT person_id, arg_min(channel, ts) AS channel, arg_min(utm_source, ts) AS utm_source, arg_min(utm_campaign, ts) AS utm_campaign
		FROM events
		WHERE channel IS NOT NULL AND person_id IN (SELECT person_id FROM people WHERE channel IS NULL)
		GROUP BY person_id) f ON f.person_id = p.person_id),
acq_account AS (SELECT a.account_id AS id,
		coalesce(a.channel, f.channel) AS channel,
		coalesce(a.utm_source, f.utm_source) AS source,
		coalesce(a.utm_campaign, f.utm_campaign) AS campaign
	FROM accounts a LEFT JOIN (
		SELECT account_id, arg_min(channel, ts) AS channel, arg_min(utm_source, ts) AS utm_source, arg_min(utm_campaign, ts) AS utm_campaign
		FROM events
		WHERE channel IS NOT NULL AND account_id IN (SELECT account_id FROM accounts WHERE channel IS NULL)
		GROUP BY account_id) f ON f.account_id = a.account_id)`

// BreakdownColumns lists the people and accounts columns a funnel or
// retention analysis can be broken down by, as "person.COLUMN" or
// "account.COLUMN"; "channel", "source" and "campaign" (the acquisition
// touch) are always allowed.
var BreakdownColumns = map[string][]string{
	"person":  {"segment", "role", "country", "lifecycle_stage", "channel", "utm_source", "utm_medium", "utm_campaign"},
	"account": {"industry", "region", "country", "tier", "is_target", "employees", "channel", "utm_source", "utm_medium", "utm_campaign"},
}

// breakdown is a resolved breakdown dimension: joins to add after the
// table aliased x (whose unit id is key) and the grouping expression.
type breakdown struct {
	joins string
	expr  string
}

// resolveBreakdown resolves by for units of kind entity (person, account or
// deal) identified by the SQL expression key. Only names from the
// allow-lists reach the SQL text.
func resolveBreakdown(entity, by, key string) (breakdown, error) {
	if by == "" {
		return breakdown{expr: "''"}, nil
	}
	switch by {
	case "channel", "source", "campaign":
		none := "'(not set)'"
		if by == "channel" {
			none = "'Unassigned'"
		}
		switch entity {
		case "person":
			return breakdown{joins: " LEFT JOIN acq_person bd ON bd.id = " + key, expr: "coalesce(bd." + by + ", " + none + ")"}, nil
		case "account":
			return breakdown{joins: " LEFT JOIN acq_account bd ON bd.id = " + key, expr: "coalesce(bd." + by + ", " + none + ")"}, nil
		case "deal":
			return breakdown{
				joins: " LEFT JOIN deals bdl ON bdl.deal_id = " + key + " LEFT JOIN acq_account bda ON bda.id = bdl.account_id LEFT JOIN acq_person bdp ON bdp.id = bdl.person_id",
				expr:  "coalesce(bda." + by + ", bdp." + by + ", " + none + ")",
			}, nil
		}
	}
	table, col, _ := strings.Cut(by, ".")
	if c, ok := ident(col, BreakdownColumns[table]); ok {
		expr := "coalesce(CAST(bc." + c + " AS VARCHAR), '(not set)')"
		switch {
		case table == entity:
			return breakdown{joins: " LEFT JOIN " + tableOf(table) + " bc ON bc." + table + "_id = " + key, expr: expr}, nil
		case table == "account" && entity == "person":
			return breakdown{joins: " LEFT JOIN people bcp ON bcp.person_id = " + key + " LEFT JOIN accounts bc ON bc.account_id = bcp.account_id", expr: expr}, nil
		case entity == "deal":
			return breakdown{joins: " LEFT JOIN deals bcd ON bcd.deal_id = " + key + " LEFT JOIN " + tableOf(table) + " bc ON bc." + table + "_id = bcd." + table + "_id", expr: expr}, nil
		}
		return breakdown{}, bowtie.Errorf(bowtie.EINVALID, "by: %s cannot break down %s units", by, entity)
	}
	return breakdown{}, bowtie.Errorf(bowtie.EINVALID, "by: unknown breakdown %q (use channel, source, campaign, person.COLUMN or account.COLUMN with COLUMN one of: person %s; account %s)",
		by, strings.Join(BreakdownColumns["person"], ", "), strings.Join(BreakdownColumns["account"], ", "))
}

func tableOf(entity string) string {
	if entity == "person" {
		return "people"
	}
	return "accounts"
}

// scanFunnelGroups reads the rows of a funnel query with a breakdown: the
// group key, then per step k its count and (k > 0) the quantiles of the
// time from step k-1 and from step 0. label names the analysis in errors.
func scanFunnelGroups(rows *sql.Rows, names []string, label string) ([]FunnelGroup, error) {
	n := len(names)
	var out []FunnelGroup
	for rows.Next() {
		g := FunnelGroup{Steps: make([]FunnelStep, n)}
		dest := []any{&g.Key}
		counts := make([]int64, n)
		qs := make([]quantileDest, 2*n)
		for k := 0; k < n; k++ {
			dest = append(dest, &counts[k])
			if k > 0 {
				dest = append(dest, qs[2*k].dest()...)
				dest = append(dest, qs[2*k+1].dest()...)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("query: %s: %w", label, err)
		}
		for k := 0; k < n; k++ {
			g.Steps[k].Name, g.Steps[k].Count = names[k], counts[k]
			if k > 0 {
				var err1, err2 error
				g.Steps[k].TimeFromPrevious, err1 = qs[2*k].value()
				g.Steps[k].TimeFromFirst, err2 = qs[2*k+1].value()
				if err := errors.Join(err1, err2); err != nil {
					return nil, err
				}
			}
		}
		deriveSteps(g.Steps)
		out = append(out, g)
	}
	return out, rows.Err()
}
