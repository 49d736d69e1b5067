package query

import "fmt"

// Dialect is what differs between SQL engines for the analyses.
type Dialect interface {
	// Name identifies the dialect ("duckdb").
	Name() string
	// Bucket returns an expression truncating the timestamp expression ts
	// (already shifted to local wall time) to the start of grain (day,
	// week, month, quarter, year), as a DATE.
	Bucket(grain, ts string) (string, error)
	// AddSeconds returns the timestamp expression ts moved by the integer
	// expression secs seconds.
	AddSeconds(ts, secs string) string
	// LocalDate returns ts converted to a DATE in time zone tz.
	LocalDate(ts, tz string) string
	// FXJoin returns a join clause that makes fx.rate the rate of the
	// newest row of the fx CTE (cur, date, rate) for currency expression
	// cur dated on or before date; fx.rate is NULL when there is none.
	FXJoin(cur, date string) string
}

// DuckDB is the dialect of the embedded store.
type DuckDB struct{}

// Name implements Dialect.
func (DuckDB) Name() string { return "duckdb" }

// LocalDate implements Dialect. Timestamps are stored as UTC without zone;
// timezone(tz, ts AT TIME ZONE 'UTC') gives the wall-clock time in tz.
func (DuckDB) LocalDate(ts, tz string) string {
	return fmt.Sprintf("CAST(timezone(%s, timezone('UTC', %s)) AS DATE)", tz, ts)
}

// Bucket implements Dialect. Weeks start on Monday (ISO).
func (DuckDB) Bucket(grain, ts string) (string, error) {
	switch grain {
	case "day", "week", "month", "quarter", "year":
		return fmt.Sprintf("CAST(date_trunc('%s', %s) AS DATE)", grain, ts), nil
	}
	return "", fmt.Errorf("query: unknown time grain %q", grain)
}

// AddSeconds implements Dialect.
func (DuckDB) AddSeconds(ts, secs string) string {
	return fmt.Sprintf("(%s + to_seconds(%s))", ts, secs)
}

// FXJoin implements Dialect with an ASOF join.
func (DuckDB) FXJoin(cur, date string) string {
	return fmt.Sprintf("ASOF LEFT JOIN fx ON fx.cur = %s AND %s >= fx.date", cur, date)
}
