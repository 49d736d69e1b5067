// Package duckdb is the embedded store: the canonical schema on DuckDB,
// created and upgraded by embedded migrations, written through the appender.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/bowtie-analytics/bowtie"
	duck "github.com/duckdb/duckdb-go/v2"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is a bowtie.Store on a DuckDB file or in memory.
type Store struct {
	db   *sql.DB
	conn *duck.Connector
	path string
	seq  atomic.Int64
	// feeds are the Append writes in progress (append_source.go).
	feeds feeds
}

var _ bowtie.Store = (*Store)(nil)

// appendChunk is how many rows Append mode appends (over all tables of a
// batch) before it commits them.
var appendChunk int64 = 2_000_000

// Open opens (creating if needed) the store at path and applies pending
// migrations. An empty path or ":memory:" opens a private in-memory store.
// A file held read-write by another process yields an *bowtie.Error with
// code ECONFLICT.
func Open(path string) (*Store, error) {
	dsn := path
	if dsn == ":memory:" {
		dsn = ""
	}
	dsn += "?autoinstall_known_extensions=false&autoload_known_extensions=false"
	c, err := duck.NewConnector(dsn, func(ex driver.ExecerContext) error {
		_, err := ex.ExecContext(context.Background(), "SET TimeZone = 'UTC'", nil)
		return err
	})
	if err != nil {
		if strings.Contains(err.Error(), "lock") {
			return nil, bowtie.Errorf(bowtie.ECONFLICT,
				"the store %s is open in another process (a running `bowtie serve` or `bowtie demo`?): stop it, or ask the server's API instead", path)
		}
		return nil, fmt.Errorf("duckdb: open %s: %w", path, err)
	}
	s := &Store{db: sql.OpenDB(c), conn: c, path: path}
	if err := s.migrate(context.Background()); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.dropStaging(context.Background()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// DB returns the database handle.
func (s *Store) DB() *sql.DB { return s.db }

// Path returns the file the store was opened on ("" in memory).
func (s *Store) Path() string { return s.path }

// Close closes the store.
func (s *Store) Close() error {
	err := s.db.Close()
	if cerr := s.conn.Close(); err == nil {
		err = cerr
	}
	return err
}

// migrate applies the embedded migrations that are not yet recorded in
// schema_migrations, each in its own transaction.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)`); err != nil {
		return fmt.Errorf("duckdb: create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		var version int
		if _, err := fmt.Sscanf(base, "%d_", &version); err != nil {
			return fmt.Errorf("duckdb: migration %s: name must start with a number", base)
		}
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&n); err != nil {
			return fmt.Errorf("duckdb: read schema_migrations: %w", err)
		}
		if n > 0 {
			continue
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("duckdb: migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", version, base); err != nil {
			tx.Rollback()
			return fmt.Errorf("duckdb: record migration %s: %w", base, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("duckdb: commit migration %s: %w", base, err)
		}
	}
	return nil
}

// dropStaging removes staging tables left by a process that died mid-write.
func (s *Store) dropStaging(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_stage\\_%' ESCAPE '\\'")
	if err != nil {
		return fmt.Errorf("duckdb: list staging tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := s.db.ExecContext(ctx, "DROP TABLE "+quoteIdent(n)); err != nil {
			return fmt.Errorf("duckdb: drop %s: %w", n, err)
		}
	}
	return rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// stagingType is the column type rows are appended as before they are cast
// into the canonical table.
func stagingType(t bowtie.FieldType) string {
	switch t {
	case bowtie.Timestamp:
		return "TIMESTAMP"
	case bowtie.Date:
		return "DATE"
	case bowtie.Int:
		return "BIGINT"
	case bowtie.Money, bowtie.Float:
		return "DOUBLE"
	case bowtie.Bool:
		return "BOOLEAN"
	default:
		return "VARCHAR"
	}
}

// Write implements bowtie.Store on top of a Batch. In Upsert mode rows are
// appended to a staging table and then moved into t's table with one INSERT
// inside a transaction, after the RowSource has finished without error. In
// Append mode they are appended straight into t's table and committed every
// appendChunk rows.
func (s *Store) Write(ctx context.Context, t bowtie.Table, mode bowtie.WriteMode, rows bowtie.RowSource) (int64, error) {
	if mode == bowtie.Append {
		return s.writeAppend(ctx, t, rows)
	}
	b, err := s.begin(ctx, mode)
	if err != nil {
		return 0, err
	}
	defer b.Rollback()
	if err := rows(func(row []any) error { return b.Add(t, row) }); err != nil {
		return 0, err
	}
	n, err := b.Commit()
	if err != nil {
		return 0, err
	}
	return n[t.Name], nil
}

// moveSQL returns the statement that copies the rows staged in stage into
// t's table: INSERT OR REPLACE by natural key in Upsert mode, except for
// events, whose id is a dedupe key (the stored copy wins); a plain INSERT in
// Append mode. Optional key fields are stored as the empty string.
func moveSQL(t bowtie.Table, stage string, mode bowtie.WriteMode) string {
	var names, sel []string
	for _, f := range t.Fields {
		names = append(names, quoteIdent(f.Name))
		expr := quoteIdent(f.Name)
		switch {
		case f.Key && !f.Required:
			expr = "coalesce(" + expr + ", '')"
		case f.Default != "":
			expr = "coalesce(" + expr + ", " + f.Default + ")"
		}
		sel = append(sel, expr)
	}
	src := "SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(stage)
	switch {
	case t.Name == "events":
		// The event id is a dedupe key: the first stored copy wins.
		stmt := "INSERT INTO events (" + strings.Join(names, ", ") + ") " + src
		if mode == bowtie.Upsert {
			stmt += " s WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = s.id)"
		}
		return stmt
	case mode == bowtie.Upsert:
		return "INSERT OR REPLACE INTO " + quoteIdent(t.Name) + " (" + strings.Join(names, ", ") + ") " + src
	default:
		return "INSERT INTO " + quoteIdent(t.Name) + " (" + strings.Join(names, ", ") + ") " + src
	}
}

// moveError maps a failed move of t's rows to the error callers see: a
// constraint violation is the input's fault (EINVALID).
func moveError(t bowtie.Table, err error) error {
	var de *duck.Error
	if errors.As(err, &de) && de.Type == duck.ErrorTypeConstraint {
		return bowtie.Errorf(bowtie.EINVALID, "%s: %v", t.Name, err)
	}
	return fmt.Errorf("duckdb: write %s: %w", t.Name, err)
}

// move copies the rows staged for each table into its canonical table in
// one transaction: all tables or none.
func (s *Store) move(ctx context.Context, conn *sql.Conn, mode bowtie.WriteMode, staged []stagedMove) error {
	if len(staged) == 0 {
		return nil
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("duckdb: begin: %w", err)
	}
	for _, m := range staged {
		if _, err := tx.ExecContext(ctx, moveSQL(m.t, m.stage, mode)); err != nil {
			tx.Rollback()
			return moveError(m.t, err)
		}
		if err := checkMoved(ctx, tx, m.t, m.stage); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("duckdb: commit: %w", err)
	}
	return nil
}

// stagedMove names a staging table and the canonical table it feeds.
type stagedMove struct {
	t     bowtie.Table
	stage string
}
