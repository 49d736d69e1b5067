// Package query holds the analyses. Each analysis builds its SQL through a
// Dialect, so the same analysis runs on DuckDB and (later) ClickHouse, and
// passes user values only as parameters.
package query

import "fmt"

// Dialect is what differs between SQL engines for the analyses.
type Dialect interface {
	// Name identifies the dialect ("duckdb").
	Name() string
	// Bucket returns an expression truncating the UTC timestamp expression
	// ts to the start of grain (day, week, month, quarter, year) in the
	// time zone named by the parameter placeholder tz, as a DATE.
	Bucket(grain, ts, tz string) (string, error)
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
func (d DuckDB) Bucket(grain, ts, tz string) (string, error) {
	switch grain {
	case "day", "week", "month", "quarter", "year":
		return fmt.Sprintf("CAST(date_trunc('%s', %s) AS DATE)", grain, d.LocalDate(ts, tz)), nil
	}
	return "", fmt.Errorf("query: unknown time grain %q", grain)
}

// FXJoin implements Dialect with an ASOF join.
func (DuckDB) FXJoin(cur, date string) string {
	return fmt.Sprintf("ASOF LEFT JOIN fx ON fx.cur = %s AND %s >= fx.date", cur, date)
}
