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

// Batch stages rows for any number of tables and stores them together: in
// Upsert mode, Commit moves every table's rows in one transaction, so either
// all of them are stored or none. A Batch is used by one goroutine and ends
// with exactly one Commit or Rollback (a Rollback after Commit is a no-op, so
// `defer b.Rollback()` is safe).
type Batch interface {
	// Add stages one row of table t, values in t's field order (see
	// RowSource for the value types). Errors: a row of the wrong length, a
	// value the table's column cannot hold, a Batch that has ended.
	Add(t Table, row []any) error
	// Commit stores the staged rows and returns how many rows were staged
	// per table name. Errors: *Error with EINVALID when a row breaks a
	// constraint (nothing is stored), or the store's own failure.
	Commit() (map[string]int64, error)
	// Rollback drops the staged rows; the store is left as it was (in
	// Append mode, chunks already moved stay).
	Rollback() error
}

// Store is a canonical store. Implementations: duckdb.Store.
type Store interface {
	// Write stores the rows of table t. It returns the number of rows
	// written. Errors: the RowSource's own error (nothing is written in
	// Upsert mode), *Error with ECONFLICT when the store is held elsewhere.
	Write(ctx context.Context, t Table, mode WriteMode, rows RowSource) (int64, error)
	// Begin starts a Batch that writes several tables at once (an import
	// whose file fills more than one table). Append mode may move rows in
	// chunks before Commit, as Write does.
	Begin(ctx context.Context, mode WriteMode) (Batch, error)
	// DB is the handle the query layer reads through.
	DB() *sql.DB
	// Close releases the store.
	Close() error
}
