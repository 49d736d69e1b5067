package query

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// missingFX builds the error for money that cannot be converted: it names
// each currency and the earliest date that has no rate on or before it.
func missingFX(ctx context.Context, db *sql.DB, biz *bowtie.Business, from, to time.Time) error {
	q := `-- query.missingFX
	WITH fx AS (SELECT currency AS cur, min(date) AS first FROM fx_rates WHERE base = $1 GROUP BY 1
	            UNION ALL SELECT base, min(date) FROM fx_rates WHERE currency = $1 GROUP BY 1),
	money (cur, d) AS (
		SELECT currency, date FROM spend WHERE date BETWEEN $2 AND $3
		UNION ALL SELECT currency, CAST(ts AS DATE) FROM orders
		UNION ALL SELECT currency, CAST(closed_at AS DATE) FROM deals WHERE status = 'won' AND closed_at IS NOT NULL)
	SELECT m.cur, min(m.d) FROM money m
	WHERE m.cur <> $1 AND NOT EXISTS (SELECT 1 FROM fx WHERE fx.cur = m.cur AND fx.first <= m.d)
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
