package query

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// DataRange returns the first and last local dates that hold spend or
// events, counting only dates up to today (the date of now in the business
// time zone), and ok=false when the store has none. Rows dated after today
// (planned spend in an import, events stored before the collection API
// bounded event times) never make the last date, nor the default periods
// derived from it, run past today.
func DataRange(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, now time.Time) (first, last time.Time, ok bool, err error) {
	today := civil(now.In(biz.Location()))
	// Events are stored in UTC: those before the start of tomorrow in the
	// business time zone are on or before today there.
	end := time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, biz.Location()).UTC()
	q := fmt.Sprintf(`-- query.DataRange
	SELECT min(d), max(d) FROM (
		SELECT min(date) AS d FROM spend WHERE date <= CAST($3 AS DATE)
		UNION ALL SELECT max(date) FROM spend WHERE date <= CAST($3 AS DATE)
		UNION ALL SELECT %s FROM (
			SELECT min(ts) AS ts FROM events WHERE ts < CAST($2 AS TIMESTAMP)
			UNION ALL SELECT max(ts) FROM events WHERE ts < CAST($2 AS TIMESTAMP)) e)`,
		d.LocalDate("e.ts", "$1"))
	var lo, hi sql.NullTime
	err = db.QueryRowContext(ctx, q, biz.TimeZone, end.Format("2006-01-02 15:04:05"), today.Format(time.DateOnly)).Scan(&lo, &hi)
	if err != nil {
		return first, last, false, fmt.Errorf("query: data range: %w", err)
	}
	if !lo.Valid {
		return first, last, false, nil
	}
	return civil(lo.Time), civil(hi.Time), true, nil
}

// LastDataDate returns the last local date up to today with spend or
// events (DataRange), or today in the business time zone when there is
// none. now gives today.
func LastDataDate(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, now time.Time) (time.Time, error) {
	_, last, ok, err := DataRange(ctx, db, d, biz, now)
	if err != nil || ok {
		return last, err
	}
	return civil(now.In(biz.Location())), nil
}
