// Package query holds the analyses. Each analysis builds its SQL through a
// Dialect, so the same analysis runs on DuckDB and (later) ClickHouse.
//
// # Values in SQL
//
// The package follows one rule, audited in sqlbuild.go, the only file
// that turns values into SQL text:
//
//   - Values are parameters ($1, $2, ...), collected by params. This is the
//     default for every user-influenced value.
//   - Where the engine must see a constant instead (DuckDB pushes constant
//     filters into the table scan, which parameters defeat: the retention
//     query and the event funnel's per-person pass), strings go through
//     stringLiteral and times through timestampLiteral, and nothing else
//     builds a quoted literal. stringLiteral doubles single quotes and
//     refuses NUL bytes and invalid UTF-8 (EINVALID naming the field);
//     checkText gives the same refusal to values that travel as
//     parameters, so both paths of an analysis accept the same input.
//   - Identifiers (columns, tables, time grains, dimensions) come only
//     from allow-lists in this package (BreakdownColumns through ident,
//     ReportDimensions, the grain switches), never from input as given.
//   - Numbers that are not user values (bit positions, period counts
//     already range-checked, offsets computed in Go) are formatted from Go
//     integers.
package query
