package query

import (
	"fmt"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// RevenueGroupings are the breakdowns of the revenue movements (--by).
var RevenueGroupings = []string{"plan", "channel", "segment", "cohort"}

// revenueGrid is the period grid of a revenue query: boundary k (0..n) is
// the instant ending period k (period k is [t[k-1], t[k])); d[k] is the
// local date of the last day before t[k], the date whose exchange rate
// converts the MRR at t[k].
type revenueGrid struct {
	t      []time.Time // UTC instants
	d      []time.Time // civil dates (UTC midnight)
	starts []time.Time // local start date of period k (k >= 1) as civil date; starts[0] unused
}

// newRevenueGrid cuts the periods of grain in loc covering the local
// dates [from, to], with extra whole periods before the first.
func newRevenueGrid(grain string, loc *time.Location, from, to time.Time, extra int) (*revenueGrid, error) {
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc)
	step := func(t time.Time, n int) time.Time {
		switch grain {
		case "week":
			return t.AddDate(0, 0, 7*n)
		case "month":
			return t.AddDate(0, n, 0)
		}
		return t.AddDate(0, 0, n)
	}
	switch grain {
	case "day":
	case "week":
		wd := (int(start.Weekday()) + 6) % 7 // Monday = 0
		start = start.AddDate(0, 0, -wd)
	case "month":
		start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, loc)
	default:
		return nil, bowtie.Errorf(bowtie.EINVALID, "revenue: grain %q: use day, week or month", grain)
	}
	start = step(start, -extra)
	end := time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, loc)
	if !end.After(start) {
		return nil, bowtie.Errorf(bowtie.EINVALID, "revenue: to %s is before from %s", to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	g := &revenueGrid{}
	for k := 0; ; k++ {
		t := step(start, k)
		prev := t.AddDate(0, 0, -1)
		g.t = append(g.t, t.UTC())
		g.d = append(g.d, time.Date(prev.Year(), prev.Month(), prev.Day(), 0, 0, 0, 0, time.UTC))
		ls := step(start, k-1)
		g.starts = append(g.starts, time.Date(ls.Year(), ls.Month(), ls.Day(), 0, 0, 0, 0, time.UTC))
		if !t.Before(end) {
			break
		}
		if k > 40000 {
			return nil, bowtie.Errorf(bowtie.EINVALID, "revenue: more than 40000 periods: use a coarser grain or a shorter range")
		}
	}
	return g, nil
}

// n is the number of periods.
func (g *revenueGrid) n() int { return len(g.t) - 1 }

// values returns the VALUES rows (k, t, d) of the boundaries. The text
// comes from integers and time formatting only (see doc.go).
func (g *revenueGrid) values() string {
	var b strings.Builder
	for k := range g.t {
		if k > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, %s, DATE '%s')", k, timestampLiteral(g.t[k]), g.d[k].Format(time.DateOnly))
	}
	return b.String()
}

// dayValues returns VALUES rows (j, t, k) of the local midnights that
// start each day of periods 1..n, k being the day's period.
func (g *revenueGrid) dayValues(loc *time.Location) string {
	var b strings.Builder
	j := 0
	for k := 1; k <= g.n(); k++ {
		for t := g.t[k-1].In(loc); t.Before(g.t[k]); {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(%d, %s, %d)", j, timestampLiteral(t), k)
			j++
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		}
	}
	return b.String()
}

// revenueMoney returns the segment MRR m (currency cur) converted to the
// reporting currency rep with fx.rate (the rates row of the boundary) in
// whole millionths: each segment's converted MRR is rounded to a
// millionth, so the sums are sums of integers, exact in a DOUBLE up to
// 2^53 millionths (9·10^9 currency units) whatever the order of
// addition, and cheaper than 128-bit sums (NULL when a rate is missing).
func revenueMoney(m, cur, rep string) string {
	return "round(" + m + " * CASE WHEN " + cur + " = " + rep + " THEN 1.0 ELSE fx.rate END * 1000000)"
}

// revenueBase returns the CTEs every revenue query shares: fx, bnd (the
// boundaries), seg (counted segments: customer c, plan, currency cur,
// start s, end e, unconverted MRR m), pos (the segments with m > 0 and
// e > s), snap (c, k, mrr, plan: each customer's converted MRR at every
// boundary where it is positive, and its largest plan) and spell (c, ss,
// se, prev, kind: each customer's paid spells, maximal stretches of
// positive MRR, the end of the one before and whether it starts as new
// or reactivation).
func revenueBase(ps *params, biz *bowtie.Business, g *revenueGrid, withPlan bool) string {
	pol := biz.Revenue
	rep := ps.p("currency", biz.Currency)
	far := "TIMESTAMP '9999-12-31 00:00:00'"
	end := "coalesce(valid_to, " + far + ")"
	if pol.MRRStop == "cancel_request" {
		end = "CASE WHEN canceled_at IS NOT NULL AND canceled_at < " + end + " THEN canceled_at ELSE " + end + " END"
	}
	norm := `(CAST(amount AS DOUBLE) / greatest(coalesce(interval_count, 1), 1) * CASE billing_interval
		WHEN 'year' THEN 1.0 / 12 WHEN 'week' THEN 52.0 / 12 WHEN 'day' THEN 365.25 / 12 ELSE 1.0 END)`
	m := "CASE WHEN status = 'active' THEN coalesce(CAST(mrr AS DOUBLE), " + norm + ")"
	if pol.TrialsInMRR {
		m += " WHEN status = 'trialing' THEN " + norm
	}
	if pol.PausesInMRR {
		m += " WHEN status = 'paused' THEN " + norm
	}
	m += " ELSE 0 END"
	kind := "'reactivation'"
	if pol.ReactivationWindowDays > 0 {
		win := ps.p("react_days", pol.ReactivationWindowDays)
		kind = "CASE WHEN ss <= prev + to_days(CAST(" + win + " AS INTEGER)) THEN 'reactivation' ELSE 'new' END"
	}
	plan := "CAST(NULL AS VARCHAR)"
	if withPlan {
		plan = "max({'m': " + revenueMoney("p.m", "p.cur", rep) + ", 'p': p.plan}).p"
	}
	return `fx AS NOT MATERIALIZED (` + strings.TrimPrefix(fxCTE(rep), "fx AS (") + `,
	bnd (k, t, d) AS (VALUES ` + g.values() + `),
	seg AS (SELECT customer_id AS c, plan, coalesce(currency, ` + rep + `) AS cur, valid_from AS s, ` + end + ` AS e, ` + m + ` AS m FROM subscriptions),
	pos AS (SELECT * FROM seg WHERE m > 0 AND e > s),
	ord AS (SELECT *, max(e) OVER (PARTITION BY c ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS pe FROM pos),
	isl AS (SELECT *, sum(CASE WHEN pe IS NULL OR s > pe THEN 1 ELSE 0 END) OVER (PARTITION BY c ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS n FROM ord),
	spell0 AS (SELECT c, n, min(s) AS ss, max(e) AS se FROM isl GROUP BY c, n),
	spell1 AS (SELECT c, n, ss, se, lag(se) OVER (PARTITION BY c ORDER BY ss) AS prev FROM spell0),
	spell AS (SELECT c, n, ss, se, prev, CASE WHEN prev IS NULL THEN 'new' ELSE ` + kind + ` END AS kind FROM spell1),
	curs AS (SELECT DISTINCT cur FROM pos WHERE cur <> ` + rep + `),
	rates AS (SELECT x.cur, x.k, fx.rate FROM (SELECT curs.cur, bnd.k, bnd.d FROM curs, bnd) x
		` + DuckDB{}.FXJoin("x.cur", "x.d") + `),
	snap AS (
		SELECT p.c, b.k, sum(` + revenueMoney("p.m", "p.cur", rep) + `) AS mrr,
			` + plan + ` AS plan,
			count(*) FILTER (WHERE p.cur <> ` + rep + ` AND fx.rate IS NULL) AS nofx,
			min(p.n) AS n
		FROM isl p
		JOIN bnd b ON b.t >= p.s AND b.t < p.e
		LEFT JOIN rates fx ON fx.cur = p.cur AND fx.k = b.k
		GROUP BY p.c, b.k)`
}

// revenueMoves returns the CTEs after revenueBase that classify each
// customer's change in every period: mv (c, k, before, after, pb, pa,
// typ, bv): typ is new, reactivation, expansion, contraction, churn or
// NULL (no change); blip rows (split mode) have before = after = 0, the
// spell's starting MRR in bv and its kind in typ (their churn is implied).
func revenueMoves(ps *params, biz *bowtie.Business, g *revenueGrid) string {
	pol := biz.Revenue
	rep := ps.p("currency", biz.Currency)
	n := ps.p("nperiods", g.n())
	disc := ""
	if pol.DiscountWindowDays > 0 {
		dw := ps.p("discount_days", pol.DiscountWindowDays)
		disc = " WHEN p.after > p.before AND bp.t < sp.ss + to_days(CAST(" + dw + " AS INTEGER)) THEN sp.kind"
	}
	q := `,
	pairs AS (
		SELECT coalesce(a.c, b.c) AS c, coalesce(b.k, a.k + 1) AS k,
			coalesce(a.mrr, 0) AS before, coalesce(b.mrr, 0) AS after, a.plan AS pb, b.plan AS pa, b.n,
			coalesce(a.nofx, 0) + coalesce(b.nofx, 0) AS nf
		FROM (SELECT * FROM snap WHERE k < ` + n + `) a
		FULL JOIN (SELECT * FROM snap WHERE k > 0) b ON a.c = b.c AND a.k + 1 = b.k),
	mv AS (
		SELECT p.c, p.k, p.before, p.after, p.pb, p.pa, CASE
			WHEN p.before = 0 AND p.after > 0 THEN sp.kind
			WHEN p.before > 0 AND p.after = 0 THEN 'churn'` + disc + `
			WHEN p.after > p.before THEN 'expansion'
			WHEN p.after < p.before THEN 'contraction' END AS typ,
			CAST(0 AS DOUBLE) AS bv, p.nf
		FROM pairs p
		JOIN bnd bk ON bk.k = p.k JOIN bnd bp ON bp.k = p.k - 1
		LEFT JOIN spell sp ON sp.c = p.c AND sp.n = p.n`
	if pol.SamePeriod == "split" {
		q += `
		UNION ALL
		SELECT sp.c, bk.k, 0, 0, NULL, max({'m': ` + revenueMoney("p.m", "p.cur", rep) + `, 'p': p.plan}).p, sp.kind,
			sum(` + revenueMoney("p.m", "p.cur", rep) + `),
			count(*) FILTER (WHERE p.cur <> ` + rep + ` AND fx.rate IS NULL)
		FROM spell sp
		JOIN bnd bk ON sp.se <= bk.t JOIN bnd bp ON bp.k = bk.k - 1 AND sp.ss > bp.t
		JOIN pos p ON p.c = sp.c AND p.s <= sp.ss AND sp.ss < p.e
		LEFT JOIN rates fx ON fx.cur = p.cur AND fx.k = bk.k
		WHERE NOT EXISTS (SELECT 1 FROM snap x WHERE x.c = sp.c AND x.k IN (bk.k - 1, bk.k))
		GROUP BY sp.c, bk.k, sp.ss, sp.kind`
	}
	return q + ")"
}

// revenueGroupSQL returns the join and the expression that give each
// customer c its group for by ("" for none).
func revenueGroupSQL(ps *params, biz *bowtie.Business, by string) (join, expr string, err error) {
	switch by {
	case "":
		return "", "''", nil
	case "plan":
		return "", "coalesce(mv.pa, mv.pb, '(none)')", nil
	case "channel":
		return "LEFT JOIN (" + acqChannelSQL(biz) + ") g ON g.id = mv.c", "coalesce(g.channel, 'Unassigned')", nil
	case "segment":
		if biz.CustomerEntity == "account" {
			return "LEFT JOIN accounts g ON g.account_id = mv.c", "coalesce(g.tier, '(none)')", nil
		}
		return "LEFT JOIN people g ON g.person_id = mv.c", "coalesce(g.segment, '(none)')", nil
	case "cohort":
		tz := ps.p("tz", biz.TimeZone)
		return "LEFT JOIN (SELECT c, min(ss) AS first FROM spell GROUP BY c) g ON g.c = mv.c",
			"strftime(date_trunc('month', " + DuckDB{}.LocalDate("g.first", tz) + "), '%Y-%m')", nil
	}
	return "", "", bowtie.Errorf(bowtie.EINVALID, "revenue: --by %q: use one of %s", by, strings.Join(RevenueGroupings, ", "))
}

// acqChannelSQL returns (id, channel): the acquisition channel of each
// customer, as the acquisition report resolves it (query/report_sql.go):
// the person's or account's channel, else its first event's.
func acqChannelSQL(biz *bowtie.Business) string {
	if biz.CustomerEntity == "account" {
		return `SELECT a.account_id AS id, coalesce(a.channel, f.channel, 'Unassigned') AS channel
		FROM accounts a LEFT JOIN (SELECT account_id, arg_min(channel, ts) AS channel FROM events
			WHERE channel IS NOT NULL AND account_id IN (SELECT account_id FROM accounts WHERE channel IS NULL)
			GROUP BY account_id) f ON f.account_id = a.account_id`
	}
	return `SELECT p.person_id AS id, coalesce(p.channel, f.channel, 'Unassigned') AS channel
	FROM people p LEFT JOIN (SELECT person_id, arg_min(channel, ts) AS channel FROM events
		WHERE channel IS NOT NULL AND person_id IN (SELECT person_id FROM people WHERE channel IS NULL)
		GROUP BY person_id) f ON f.person_id = p.person_id`
}

// buildRevenueSQL returns the movements query: one row per period k and
// group with the sums and counts of the movements.
func buildRevenueSQL(biz *bowtie.Business, g *revenueGrid, by string) (string, []any, error) {
	var ps params
	base := revenueBase(&ps, biz, g, by == "plan") + revenueMoves(&ps, biz, g)
	join, expr, err := revenueGroupSQL(&ps, biz, by)
	if err != nil {
		return "", nil, err
	}
	q := `-- query.revenue
	WITH ` + base + `
	SELECT mv.k, ` + expr + ` AS grp,
		sum(mv.before) / 1e6, sum(mv.after) / 1e6,
		sum(CASE WHEN mv.typ = 'new' THEN mv.after - mv.before + mv.bv ELSE 0 END) / 1e6,
		sum(CASE WHEN mv.typ = 'expansion' THEN mv.after - mv.before ELSE 0 END) / 1e6,
		sum(CASE WHEN mv.typ = 'contraction' THEN mv.before - mv.after ELSE 0 END) / 1e6,
		sum(CASE WHEN mv.typ = 'churn' THEN mv.before ELSE 0 END + mv.bv) / 1e6,
		sum(CASE WHEN mv.typ = 'reactivation' THEN mv.after - mv.before + mv.bv ELSE 0 END) / 1e6,
		count(*) FILTER (WHERE mv.before > 0), count(*) FILTER (WHERE mv.after > 0),
		count(*) FILTER (WHERE mv.typ = 'new' AND (mv.before = 0)),
		count(*) FILTER (WHERE mv.typ = 'reactivation' AND (mv.before = 0)),
		count(*) FILTER (WHERE mv.typ = 'churn' OR mv.bv > 0),
		sum(mv.nf)
	FROM mv ` + join + `
	GROUP BY ALL ORDER BY 1, 2`
	return q, ps.args, nil
}
