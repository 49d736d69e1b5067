package query

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// fxCTE returns the common table expression fx (cur, date, rate) holding
// exactly one rate per currency and date into the reporting currency,
// whose placeholder is rep: what 1 unit of cur is worth in rep from date
// on. Every analysis that converts money joins this CTE (through
// Dialect.FXJoin) and nothing else, so they all agree on the rate.
//
// The rule (docs/metrics.md, "Currency"; docs/schema.md, fx_rates): on
// a date with a direct quote cur→rep, that quote is the rate; on a date
// with only the reverse quote rep→cur, its inverse is. An amount then
// takes the rate of the newest date on or before its own, so a later
// inverse quote does replace an older direct one. The fx_rates key
// (date, currency, base) allows at most one row of each kind per date, so
// fx has one row per (cur, date) and the as-of join cannot choose between
// two rates, whatever order the engine reads the rows in. The SQL is
// portable; the engine-specific as-of join is Dialect.FXJoin.
func fxCTE(rep string) string {
	return "fx AS (SELECT currency AS cur, date, rate FROM fx_rates WHERE base = " + rep +
		" UNION ALL SELECT i.base, i.date, 1.0 / i.rate FROM fx_rates i WHERE i.currency = " + rep +
		" AND NOT EXISTS (SELECT 1 FROM fx_rates dr WHERE dr.currency = i.base AND dr.base = " + rep +
		" AND dr.date = i.date))"
}

// convert returns amount in the reporting currency (placeholder rep):
// unchanged when cur is already rep, else multiplied by the rate fx
// joined for it (NULL when no rate is known, which the analyses turn into
// an error). The result is a DECIMAL(38,10), so that sums of converted
// money are exact and do not depend on the order in which the engine's
// threads add them up.
func convert(amount, cur, rep string) string {
	return fmt.Sprintf("CAST(CASE WHEN %s = %s THEN CAST(%s AS DOUBLE) ELSE CAST(%s AS DOUBLE) * fx.rate END AS DECIMAL(38,10))", cur, rep, amount, amount)
}

// missingFX builds the error for money that cannot be converted: it names
// each currency and the earliest date that has no rate on or before it.
func missingFX(ctx context.Context, db *sql.DB, biz *bowtie.Business, from, to time.Time) error {
	q := `-- query.missingFX
	WITH ` + fxCTE("$1") + `,
	first AS (SELECT cur, min(date) AS first FROM fx GROUP BY cur),
	money (cur, d) AS (
		SELECT currency, date FROM spend WHERE date BETWEEN $2 AND $3
		UNION ALL SELECT currency, CAST(ts AS DATE) FROM orders
		UNION ALL SELECT currency, CAST(closed_at AS DATE) FROM deals WHERE status = 'won' AND closed_at IS NOT NULL)
	SELECT m.cur, min(m.d) FROM money m
	WHERE m.cur <> $1 AND NOT EXISTS (SELECT 1 FROM first f WHERE f.cur = m.cur AND f.first <= m.d)
	GROUP BY m.cur ORDER BY m.cur`
	rows, err := db.QueryContext(ctx, q, biz.Currency, from, to)
	if err != nil {
		return fmt.Errorf("query: missing fx: %w", err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var cur string
		var d time.Time
		if err := rows.Scan(&cur, &d); err != nil {
			return err
		}
		parts = append(parts, fmt.Sprintf("%s→%s on %s", cur, biz.Currency, d.Format(time.DateOnly)))
	}
	return bowtie.Errorf(bowtie.EINVALID,
		"no exchange rate for %s (or earlier): import rates with `bowtie import fx` or set currency in bowtie.yaml",
		strings.Join(parts, ", "))
}
