package query

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// revenueDaily fills the daily-weighted logo churn of the total periods:
// churned customers ÷ the average of the customer counts at the start
// (local midnight) of each day of the period. The counts come from the
// paid spells (a customer counts at instant t when a spell has ss <= t <
// se), as a running sum of +1 at each spell start and −1 at each end,
// each placed on the first midnight at or after it (a range join on the
// spans between midnights: DuckDB's as-of join was much slower here).
func revenueDaily(ctx context.Context, db *sql.DB, biz *bowtie.Business, g *revenueGrid, periods []RevenuePeriod) error {
	var ps params
	q := `-- query.revenue daily customers
	WITH ` + revenueBase(&ps, biz, g, false) + `,
	days (j, t, k) AS (VALUES ` + g.dayValues(biz.Location()) + `),
	ev AS (SELECT ss AS t, 1 AS dlt FROM spell UNION ALL SELECT se, -1 FROM spell),
	dspan AS (SELECT d.j, dp.t AS lo, d.t AS hi FROM days d LEFT JOIN days dp ON dp.j = d.j - 1),
	evj AS (SELECT s.j, sum(ev.dlt) AS x FROM ev JOIN dspan s ON ev.t <= s.hi AND ev.t > coalesce(s.lo, TIMESTAMP '0001-01-01 00:00:00') GROUP BY s.j),
	cnt AS (SELECT days.j, days.k, sum(coalesce(evj.x, 0)) OVER (ORDER BY days.j ROWS UNBOUNDED PRECEDING) AS n
		FROM days LEFT JOIN evj ON evj.j = days.j)
	SELECT k, avg(n) FROM cnt GROUP BY k ORDER BY k`
	rs, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return fmt.Errorf("query: revenue: daily customers: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var k int
		var avg float64
		if err := rs.Scan(&k, &avg); err != nil {
			return err
		}
		p := &periods[k-1]
		a := avg
		p.AverageDailyCustomers = &a
		p.LogoChurnDailyWeighted = ratio(float64(p.ChurnedCustomers), avg)
	}
	return rs.Err()
}

// revenueTrials fills trials started and converted: a trial is a
// subscription's first trialing segment, in the period of its start; it
// converts when the same subscription has an active segment with MRR > 0
// starting within trial_conversion_days of the trial's start.
func revenueTrials(ctx context.Context, db *sql.DB, biz *bowtie.Business, g *revenueGrid, periods []RevenuePeriod) error {
	var ps params
	days := ps.p("conv_days", biz.Revenue.TrialConversionDays)
	q := `-- query.revenue trials
	WITH bnd (k, t, d) AS (VALUES ` + g.values() + `),
	tr AS (SELECT subscription_id AS sid, min(valid_from) AS ts FROM subscriptions WHERE status = 'trialing' GROUP BY 1),
	cv AS (SELECT tr.ts, EXISTS (SELECT 1 FROM subscriptions s WHERE s.subscription_id = tr.sid AND s.status = 'active' AND s.mrr > 0
			AND s.valid_from >= tr.ts AND s.valid_from <= tr.ts + to_days(CAST(` + days + ` AS INTEGER))) AS ok FROM tr)
	SELECT b.k, count(*), count(*) FILTER (WHERE cv.ok)
	FROM cv JOIN bnd b ON cv.ts < b.t JOIN bnd bp ON bp.k = b.k - 1 AND cv.ts >= bp.t
	GROUP BY b.k`
	rs, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return fmt.Errorf("query: revenue: trials: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var k int
		var n, c int64
		if err := rs.Scan(&k, &n, &c); err != nil {
			return err
		}
		p := &periods[k-1]
		p.TrialsStarted, p.TrialsConverted = n, c
		p.TrialToPaid = ratio(float64(c), float64(n))
	}
	return rs.Err()
}

// revenueT12M fills the trailing-12-month GRR and NRR of each month: the
// customers with MRR > 0 at the end of the month twelve months earlier
// (the cohort); NRR = their MRR now ÷ their MRR then; GRR the same with
// each customer's MRR now capped at its MRR then.
func revenueT12M(ctx context.Context, db *sql.DB, biz *bowtie.Business, opts RevenueOptions, periods []RevenuePeriod) error {
	g, err := newRevenueGrid("month", biz.Location(), opts.From, opts.To, 12)
	if err != nil {
		return err
	}
	var ps params
	q := `-- query.revenue t12m
	WITH ` + revenueBase(&ps, biz, g, false) + `
	SELECT b.k, sum(a.mrr) / 1e6, sum(coalesce(x.mrr, 0)) / 1e6, sum(least(coalesce(x.mrr, 0), a.mrr)) / 1e6, sum(a.nofx) + sum(coalesce(x.nofx, 0))
	FROM snap a JOIN bnd b ON b.k = a.k + 12 LEFT JOIN snap x ON x.c = a.c AND x.k = b.k
	GROUP BY b.k ORDER BY b.k`
	rs, err := db.QueryContext(ctx, q, ps.args...)
	if err != nil {
		return fmt.Errorf("query: revenue: t12m: %w", err)
	}
	defer rs.Close()
	var nofx float64
	for rs.Next() {
		var k int
		var then, now, capped, nf sql.NullFloat64
		if err := rs.Scan(&k, &then, &now, &capped, &nf); err != nil {
			return err
		}
		nofx += nf.Float64
		i := k - 12 - 1
		if i < 0 || i >= len(periods) {
			continue
		}
		if want := g.starts[k].Format(time.DateOnly); periods[i].Period != want {
			return fmt.Errorf("query: revenue: t12m period %s does not match %s", want, periods[i].Period)
		}
		periods[i].NRRT12M = ratio(now.Float64, then.Float64)
		periods[i].GRRT12M = ratio(capped.Float64, then.Float64)
	}
	if err := rs.Err(); err != nil {
		return err
	}
	if nofx > 0 {
		return revenueMissingFX(ctx, db, biz, g)
	}
	return nil
}
