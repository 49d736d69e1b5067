package query

import (
	"context"
	"database/sql"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// This file exports the few helpers that the analysis families in
// sub-packages of query (query/attribution) share with the analyses here,
// so that money, stages and dates follow one definition everywhere.

// FXCTE returns the common table expression fx (cur, date, rate) into the
// reporting currency given by the placeholder rep (see fxCTE).
func FXCTE(rep string) string { return fxCTE(rep) }

// ConvertSQL returns amount (currency expression cur) in the reporting
// currency rep as an exact DECIMAL(38,10), NULL when no rate is known;
// the query must join fx with Dialect.FXJoin (see convert).
func ConvertSQL(amount, cur, rep string) string { return convert(amount, cur, rep) }

// MissingFX builds the error for money that cannot be converted to biz's
// currency over the local dates [from, to] (see missingFX).
func MissingFX(ctx context.Context, db *sql.DB, biz *bowtie.Business, from, to time.Time) error {
	return missingFX(ctx, db, biz, from, to)
}

// StagesFrom returns the configured stages from name to the end of the
// list: under the "skipped stages count as passed" policy, reaching any of
// them means name was reached (nil when name is not a stage).
func StagesFrom(stages []string, name string) []string { return stagesFrom(stages, name) }

// CheckText refuses a user string that no query can carry (NUL bytes,
// invalid UTF-8), naming the field what (see checkText).
func CheckText(what, s string) error { return checkText(what, s) }
