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

// SetFastFunnel turns the event funnel's per-person pass on or off and
// returns how many funnels it has answered so far.
func SetFastFunnel(on bool) int64 {
	fastFunnelOff.Store(!on)
	return fastFunnelRuns.Load()
}

// StringLiteral exposes the package's one string-literal builder.
var StringLiteral = stringLiteral

// Ident exposes the package's allow-list check for identifiers.
var Ident = ident
