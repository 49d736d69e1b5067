package query

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/bowtie-analytics/bowtie"
)

// The change-based movements: instead of every customer's MRR at every
// period end (revenueMoves), each segment in the reporting currency gives
// +MRR at its start and −MRR at its end, placed in the period whose end
// is the first at or after it; a customer gets a row only in the periods
// where something of it changes, and a running sum per customer gives
// its MRR after (and, minus the change, before) the period. Segments in
// other currencies are revalued at every period end, so they keep one
// row per period end they are active at. The totals' opening and closing
// MRR are running sums over all changes (Go, revenueFastRows). The
// definitions are those of revenueMoves; the brute-force reference checks
// both. The plan breakdown needs each customer's plan at every period
// end and uses revenueMoves. The totals (no breakdown) are computed by the
// same definitions in Go (revenue_walk.go); this query serves the channel,
// segment and cohort breakdowns.

// buildRevenueFastSQL returns the query: per period k (0 = before the
// first) and group, Σ change of reporting-currency MRR, Σ foreign MRR at
// the boundary, the customers with MRR at boundary 0, the movement sums
// and counts, and the count of missing rates.
func buildRevenueFastSQL(biz *bowtie.Business, g *revenueGrid, by string) (string, []any, error) {
	var ps params
	pol := biz.Revenue
	base := revenueBase(&ps, biz, g, false)
	rep := ps.p("currency", biz.Currency)
	far := "TIMESTAMP '9999-12-31 00:00:00'"
	units := "round(m * 1000000)"
	disc := ""
	if pol.DiscountWindowDays > 0 {
		dw := ps.p("discount_days", pol.DiscountWindowDays)
		disc = " WHEN l.after > l.before AND bp.t < sp.ss + to_days(CAST(" + dw + " AS INTEGER)) THEN sp.kind"
	}
	q := `-- query.revenue (changes)
	WITH ` + base + `,
	ev AS (
		SELECT c, s AS t, ` + units + ` AS d, n, e, true AS st FROM isl WHERE cur = ` + rep + `
		UNION ALL SELECT c, e, -` + units + `, n, e, false FROM isl WHERE cur = ` + rep + ` AND e < ` + far + `
		UNION ALL SELECT c, e, 0, n, e, false FROM isl WHERE cur <> ` + rep + ` AND e < ` + far + `),
	span AS (SELECT b.k, bp.t AS lo, b.t AS hi FROM bnd b LEFT JOIN bnd bp ON bp.k = b.k - 1),
	evk AS (SELECT ev.c, b.k, sum(ev.d) AS d, max(ev.n) FILTER (WHERE ev.st AND ev.e > b.hi) AS n
		FROM ev JOIN span b ON ev.t <= b.hi AND ev.t > coalesce(b.lo, TIMESTAMP '0001-01-01 00:00:00') GROUP BY ev.c, b.k),
	fs AS (SELECT p.c, b.k, sum(` + revenueMoney("p.m", "p.cur", rep) + `) AS f, max(p.n) AS n,
			count(*) FILTER (WHERE fx.rate IS NULL) AS nofx
		FROM isl p JOIN bnd b ON b.t >= p.s AND b.t < p.e
		LEFT JOIN rates fx ON fx.cur = p.cur AND fx.k = b.k
		WHERE p.cur <> ` + rep + `
		GROUP BY p.c, b.k),
	rws AS (SELECT c, k, sum(d) AS d, sum(f) AS f, max(n) AS n, sum(nofx) AS nofx FROM (
			SELECT c, k, d, CAST(0 AS DOUBLE) AS f, n, 0 AS nofx FROM evk
			UNION ALL SELECT c, k, 0, f, n, nofx FROM fs)
		GROUP BY c, k),
	lev AS (SELECT c, k, d, coalesce(f, 0) AS f, n, nofx,
			sum(d) OVER (PARTITION BY c ORDER BY k ROWS UNBOUNDED PRECEDING) AS rl,
			lag(k) OVER (PARTITION BY c ORDER BY k) AS pk,
			lag(coalesce(f, 0)) OVER (PARTITION BY c ORDER BY k) AS pf
		FROM rws),
	lv AS (SELECT c, k, d, f, n, nofx, rl + f AS after,
			rl - d + CASE WHEN pk = k - 1 THEN pf ELSE 0 END AS before FROM lev),
	mv AS (
		SELECT l.c, l.k, l.d, l.f, l.before, l.after, l.nofx AS nf, CASE
			WHEN l.k = 0 THEN NULL
			WHEN l.before = 0 AND l.after > 0 THEN sp.kind
			WHEN l.before > 0 AND l.after = 0 THEN 'churn'` + disc + `
			WHEN l.after > l.before THEN 'expansion'
			WHEN l.after < l.before THEN 'contraction' END AS typ,
			CAST(0 AS DOUBLE) AS bv
		FROM lv l
		LEFT JOIN bnd bp ON bp.k = l.k - 1
		LEFT JOIN spell sp ON sp.c = l.c AND sp.n = l.n`
	if pol.SamePeriod == "split" {
		q += `
		UNION ALL
		SELECT sp.c, bk.k, 0, 0, 0, 0, count(*) FILTER (WHERE p.cur <> ` + rep + ` AND fx.rate IS NULL), sp.kind,
			sum(` + revenueMoney("p.m", "p.cur", rep) + `)
		FROM spell sp
		JOIN bnd bk ON sp.se <= bk.t JOIN bnd bp ON bp.k = bk.k - 1 AND sp.ss > bp.t
		JOIN isl p ON p.c = sp.c AND p.s <= sp.ss AND sp.ss < p.e
		LEFT JOIN rates fx ON fx.cur = p.cur AND fx.k = bk.k
		WHERE NOT EXISTS (SELECT 1 FROM spell y WHERE y.c = sp.c AND y.ss <= bk.t AND bk.t < y.se)
			AND NOT EXISTS (SELECT 1 FROM spell y WHERE y.c = sp.c AND y.ss <= bp.t AND bp.t < y.se)
		GROUP BY sp.c, bk.k, sp.ss, sp.kind`
	}
	q += `)`
	join, expr, err := revenueGroupSQL(&ps, biz, by)
	if err != nil {
		return "", nil, err
	}
	q += `
	SELECT mv.k, ` + expr + ` AS grp, sum(mv.d) / 1e6, sum(mv.f) / 1e6,
		count(*) FILTER (WHERE mv.k = 0 AND mv.after > 0),
		sum(CASE WHEN mv.typ = 'new' THEN mv.after - mv.before + mv.bv ELSE 0 END) / 1e6,
		sum(CASE WHEN mv.typ = 'expansion' THEN mv.after - mv.before ELSE 0 END) / 1e6,
		sum(CASE WHEN mv.typ = 'contraction' THEN mv.before - mv.after ELSE 0 END) / 1e6,
		sum(CASE WHEN mv.typ = 'churn' THEN mv.before ELSE 0 END + mv.bv) / 1e6,
		sum(CASE WHEN mv.typ = 'reactivation' THEN mv.after - mv.before + mv.bv ELSE 0 END) / 1e6,
		count(*) FILTER (WHERE mv.typ = 'new' AND mv.before = 0),
		count(*) FILTER (WHERE mv.typ = 'reactivation' AND mv.before = 0),
		count(*) FILTER (WHERE mv.typ = 'churn' OR mv.bv > 0),
		sum(mv.nf)
	FROM mv ` + join + `
	GROUP BY ALL ORDER BY 1, 2`
	return q, ps.args, nil
}

// revenueFastRows runs the change-based query and assembles the periods
// (by "") or the groups, as revenueRows does.
func revenueFastRows(ctx context.Context, db *sql.DB, biz *bowtie.Business, g *revenueGrid, by string) ([]RevenuePeriod, error) {
	q, args, err := buildRevenueFastSQL(biz, g, by)
	if err != nil {
		return nil, err
	}
	rs, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query: revenue: %w", err)
	}
	defer rs.Close()
	n := g.n()
	cells := map[string][]revenueCell{}
	var nofx float64
	for rs.Next() {
		var k int
		var grp string
		var v [7]sql.NullFloat64
		var c0, nc, rc, chc int64
		var nf sql.NullFloat64
		if err := rs.Scan(&k, &grp, &v[0], &v[1], &c0, &v[2], &v[3], &v[4], &v[5], &v[6], &nc, &rc, &chc, &nf); err != nil {
			return nil, fmt.Errorf("query: revenue: %w", err)
		}
		nofx += nf.Float64
		cs := cells[grp]
		if cs == nil {
			cs = make([]revenueCell, n+1)
			cells[grp] = cs
		}
		cs[k] = revenueCell{d: v[0].Float64, f: v[1].Float64, c0: c0, mv: [5]float64{v[2].Float64, v[3].Float64, v[4].Float64, v[5].Float64, v[6].Float64},
			nc: nc, rc: rc, chc: chc}
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("query: revenue: %w", err)
	}
	if nofx > 0 {
		return nil, revenueMissingFX(ctx, db, biz, g)
	}
	return revenueAssemble(g, cells, by), nil
}
