package query

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// LTVGroupings are the breakdowns of the lifetime-value and unit-economics
// analyses: one row per acquisition channel, utm campaign or acquisition
// cohort (the month a customer first paid).
var LTVGroupings = []string{"channel", "campaign", "cohort"}

// checkLTVBy validates a breakdown; "" is allowed (everything together).
func checkLTVBy(by string) error {
	if by != "" && !slices.Contains(LTVGroupings, by) {
		return bowtie.Errorf(bowtie.EINVALID, "by: %q is not channel, campaign or cohort", by)
	}
	return nil
}

// ltvBaseCTEs returns the common table expressions every LTV and payback
// query starts from, with their parameters in ps:
//
//   - fx: the exchange rates (fxCTE);
//   - acq (id, channel, campaign): the acquisition channel and campaign of
//     every person or account, exactly as the acquisition report assigns
//     them (docs/metrics.md, "Channel of a customer");
//   - rev (customer_id, ts, amount, gp, gm_known): revenue facts of the
//     business's revenue_sources before asOf (paid orders at their time,
//     won deals at their close), converted to the reporting currency;
//     gp is the gross profit: orders.gross_margin where known, else
//     amount × ltv.default_margin (gm_known false);
//   - cust (customer_id, acq_ts, cohort, channel, campaign): every
//     customer, acquired at their first revenue with a positive (or
//     unconvertible) amount, as the report's "new customers"; cohort is
//     the local month of acq_ts.
func ltvBaseCTEs(d Dialect, biz *bowtie.Business, ps *params, asOf time.Time, span [2]time.Time) []string {
	rep := ps.p("currency", biz.Currency)
	pAsOf := ps.p("as_of", asOf.UTC())
	margin := ps.p("default_margin", biz.LTV.DefaultMargin)
	acqCustomer, dealCustomer := "people", "person_id"
	idCol := "person_id"
	if biz.CustomerEntity == "account" {
		acqCustomer, dealCustomer, idCol = "accounts", "account_id", "account_id"
	}
	acq := fmt.Sprintf(`SELECT c.%[1]s AS id,
		coalesce(c.channel, f.channel, 'Unassigned') AS channel,
		coalesce(c.utm_campaign, f.utm_campaign, '(not set)') AS campaign
	FROM %[2]s c LEFT JOIN (
		SELECT %[1]s, arg_min(channel, ts) AS channel, arg_min(utm_campaign, ts) AS utm_campaign
		FROM events
		WHERE channel IS NOT NULL AND %[1]s IN (SELECT %[1]s FROM %[2]s WHERE channel IS NULL)
		GROUP BY %[1]s) f ON f.%[1]s = c.%[1]s`, idCol, acqCustomer)

	var rev []string
	if slices.Contains(biz.RevenueSources, "orders") {
		rev = append(rev, `SELECT o.customer_id, o.ts, o.amount, o.gross_margin, o.currency FROM orders o WHERE o.status = 'paid' AND o.ts < `+pAsOf)
	}
	if slices.Contains(biz.RevenueSources, "deals") {
		rev = append(rev, fmt.Sprintf(`SELECT dl.%[1]s, dl.closed_at, dl.amount, NULL, dl.currency FROM deals dl
			WHERE dl.status = 'won' AND dl.closed_at IS NOT NULL AND dl.amount IS NOT NULL AND dl.%[1]s IS NOT NULL AND dl.closed_at < %[2]s`, dealCustomer, pAsOf))
	}
	if len(rev) == 0 {
		rev = append(rev, "SELECT NULL::VARCHAR, NULL::TIMESTAMP, NULL::DECIMAL(18,4), NULL::DECIMAL(18,4), NULL::VARCHAR WHERE false")
	}
	cohort, _ := d.Bucket("month", localTime(d, "min(ts)", biz.Location(), span[0], span[1]))
	return []string{
		fxCTE(rep),
		"acq AS (" + acq + ")",
		"rev_raw (customer_id, ts, amount, gm, currency) AS (" + strings.Join(rev, " UNION ALL ") + ")",
		"rev AS (SELECT r.customer_id, r.ts, CAST(" + convert("r.amount", "r.currency", rep) + " AS DOUBLE) AS amount, " +
			"CAST(CASE WHEN r.gm IS NOT NULL THEN " + convert("r.gm", "r.currency", rep) + " ELSE " +
			convert("r.amount", "r.currency", rep) + " * " + margin + " END AS DOUBLE) AS gp, r.gm IS NOT NULL AS gm_known FROM rev_raw r " +
			d.FXJoin("r.currency", "CAST(r.ts AS DATE)") + ")",
		"first_rev AS (SELECT customer_id, min(ts) AS acq_ts, " + cohort + " AS cohort FROM rev WHERE amount IS NULL OR amount > 0 GROUP BY customer_id)",
		"cust AS (SELECT fr.customer_id, fr.acq_ts, fr.cohort, coalesce(a.channel, 'Unassigned') AS channel, " +
			"coalesce(a.campaign, '(not set)') AS campaign FROM first_rev fr LEFT JOIN acq a ON a.id = fr.customer_id)",
	}
}

// ltvGroupExpr returns the expression of the breakdown by over the cust
// alias c (” when by is empty).
func ltvGroupExpr(by, c string) string {
	switch by {
	case "channel":
		return c + ".channel"
	case "campaign":
		return c + ".campaign"
	case "cohort":
		return "strftime(" + c + ".cohort, '%Y-%m')"
	}
	return "''"
}

// checkRevenueFX returns the missing-rate error when rev holds money that
// cannot be converted.
func checkRevenueFX(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, asOf time.Time) error {
	n, err := unconvertibleRevenue(ctx, db, d, biz, asOf)
	if err != nil {
		return err
	}
	if n > 0 {
		return missingFX(ctx, db, biz, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), asOf)
	}
	return nil
}

// unconvertibleRevenue counts the revenue facts of rev whose amount or
// gross profit is NULL. By rev's definition that is the facts with no
// amount, or in a currency other than the reporting one with no rate on
// or before their date, so only those facts are joined with the rates
// (in the reporting currency, the usual case, the engine drops them at
// the scan instead of joining every fact).
func unconvertibleRevenue(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, asOf time.Time) (int64, error) {
	span := [2]time.Time{asOf, asOf.Add(time.Second)} // the local month is not read
	var ps params
	ctes := ltvBaseCTEs(d, biz, &ps, asOf, span)
	rep := ps.p("currency", biz.Currency)
	q := "-- query.checkRevenueFX\nWITH " + strings.Join(ctes, ",\n") +
		"\nSELECT count(*) FROM (SELECT * FROM rev_raw WHERE amount IS NULL OR currency IS DISTINCT FROM " + rep + ") r " +
		d.FXJoin("r.currency", "CAST(r.ts AS DATE)") + " WHERE r.amount IS NULL OR fx.rate IS NULL"
	var n int64
	if err := db.QueryRowContext(ctx, q, ps.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("query: ltv: %w", err)
	}
	return n, nil
}

// dataSpan returns the range of instants the LTV queries convert to local
// time (localTime is exact within it): from the first order, won deal or
// subscription start to asOf, widened by a day each side. Keeping it tight
// keeps the time-zone expression short.
func dataSpan(ctx context.Context, db *sql.DB, asOf time.Time) ([2]time.Time, error) {
	q := `-- query.dataSpan
	SELECT min(t) FROM (SELECT min(ts) AS t FROM orders UNION ALL SELECT min(closed_at) FROM deals UNION ALL SELECT min(valid_from) FROM subscriptions)`
	var first sql.NullTime
	if err := db.QueryRowContext(ctx, q).Scan(&first); err != nil {
		return [2]time.Time{}, fmt.Errorf("query: ltv: %w", err)
	}
	span := [2]time.Time{asOf.AddDate(0, 0, -1), asOf.AddDate(0, 0, 1)}
	if first.Valid && first.Time.Before(span[0]) {
		span[0] = first.Time.AddDate(0, 0, -1)
	}
	return span, nil
}

// monthIndex returns the number of whole calendar months from a to b
// (both first days of a month).
func monthIndex(a, b time.Time) int {
	return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
}

// monthStart returns the first day of t's month (UTC midnight, civil).
func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// asOfInstant returns the end of the observation: the start of the local
// day after today (exclusive), so today's revenue counts.
func asOfInstant(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
}

// monthlyRate converts an annual discount rate to a monthly one.
func monthlyRate(annual float64) float64 { return math.Pow(1+annual, 1.0/12) - 1 }

// fdiv returns a/b, or nil when b is zero or the ratio is not a finite
// number (a model that cannot evaluate its forecast).
func fdiv(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	return fnum(a / b)
}

// fnum returns v, or nil when it is not a finite number.
func fnum(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// joinCTEs joins common table expressions for a WITH clause.
func joinCTEs(ctes []string) string { return strings.Join(ctes, ",\n") }
