package query

import "time"

// localTimeExpr exposes localTime to the external tests for the column ts
// over 2023-2024.
var LocalTimeExpr = localTimeExpr

func localTimeExpr(zone string) (string, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return "", err
	}
	return localTime(DuckDB{}, "ts", loc, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)), nil
}
