package bowtie

import (
	"context"
	"database/sql"
)

// RowSource streams rows to a store: it calls yield once per row, with the
// values in the table's field order, and stops at the first error yield
// returns. A RowSource that returns an error aborts the whole write.
//
// Values are nil (NULL), string, int64, float64, bool or time.Time (UTC).
// Money is passed as float64 with at most four decimals.
type RowSource func(yield func(row []any) error) error

// WriteMode says how a write treats rows that are already stored.
type WriteMode int

const (
	// Upsert replaces stored rows that have the same natural key (for
	// events, whose id is a dedupe key, the stored row is kept). The write
	// is one transaction: all rows or none.
	Upsert WriteMode = iota
	// Append adds rows without looking for duplicates and commits in chunks:
	// the fast path for freshly generated data such as the demo.
	Append
)

// Store is a canonical store. Implementations: duckdb.Store.
type Store interface {
	// Write stores the rows of table t. It returns the number of rows
	// written. Errors: the RowSource's own error (nothing is written in
	// Upsert mode), *Error with ECONFLICT when the store is held elsewhere.
	Write(ctx context.Context, t Table, mode WriteMode, rows RowSource) (int64, error)
	// DB is the handle the query layer reads through.
	DB() *sql.DB
	// Close releases the store.
	Close() error
}
