package query

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// DataRange returns the first and last local dates that hold spend or
// events, and ok=false when the store has neither.
func DataRange(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business) (first, last time.Time, ok bool, err error) {
	q := fmt.Sprintf(`-- query.DataRange
	SELECT min(d), max(d) FROM (
		SELECT min(date) AS d FROM spend UNION ALL SELECT max(date) FROM spend
		UNION ALL SELECT %s FROM (SELECT min(ts) AS ts FROM events UNION ALL SELECT max(ts) FROM events) e)`,
		d.LocalDate("e.ts", "$1"))
	var lo, hi sql.NullTime
	if err = db.QueryRowContext(ctx, q, biz.TimeZone).Scan(&lo, &hi); err != nil {
		return first, last, false, fmt.Errorf("query: data range: %w", err)
	}
	if !lo.Valid {
		return first, last, false, nil
	}
	return civil(lo.Time), civil(hi.Time), true, nil
}

// LastDataDate returns the last local date with spend or events, or today
// in the business time zone for an empty store.
func LastDataDate(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business) (time.Time, error) {
	_, last, ok, err := DataRange(ctx, db, d, biz)
	if err != nil || ok {
		return last, err
	}
	return civil(time.Now().In(biz.Location())), nil
}
