package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/ingest"
	duck "github.com/duckdb/duckdb-go/v2"
)

// IngestSink is the ingest.Sink of the embedded store. It owns one
// connection and a directAppender (append.go: DuckDB data chunks filled
// from Go, one cgo call per 2048 rows) on the events table. A commit is one
// transaction on that connection: BEGIN, the events are appended (the
// appender joins the open transaction) and flushed, then the people,
// accounts and identities updates run, then COMMIT. DuckDB writes the
// transaction to its WAL and syncs the WAL to disk before COMMIT returns
// (docs/ingest.md says how this was checked), so a Write that returned nil
// is durable; a failed one rolls back and leaves nothing behind.
type IngestSink struct {
	s *Store

	mu     sync.Mutex // serialises Write and Close
	conn   *sql.Conn
	events bowtie.Table
	app    *directAppender // nil after a failure, until the next Write
}

var _ ingest.Sink = (*IngestSink)(nil)

// IngestSink opens the sink on a connection of its own. Close it before
// the store.
func (s *Store) IngestSink(ctx context.Context) (*IngestSink, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("duckdb: ingest connection: %w", err)
	}
	// DuckDB checkpoints (moves the WAL into the data file) inside the
	// commit that passes checkpoint_threshold, stalling the writer. Its 16 MB
	// default means a checkpoint every ~25 000 events, each rewriting the
	// table's last, partly filled row group; 64 MB makes them rarer and
	// cheaper per event, while keeping WAL replay after a crash short.
	if _, err := conn.ExecContext(ctx, "SET checkpoint_threshold = '64MB'"); err != nil {
		conn.Close()
		return nil, err
	}
	events, _ := bowtie.TableByKind("events")
	k := &IngestSink{s: s, conn: conn, events: events}
	if err := k.openAppender(); err != nil {
		conn.Close()
		return nil, err
	}
	return k, nil
}

func (k *IngestSink) openAppender() error {
	a, err := newDirectAppender(k.conn, k.events)
	if err != nil {
		return fmt.Errorf("duckdb: ingest appender: %w", err)
	}
	k.app = a
	return nil
}

// dropAppender discards the appender after a failure, with the rows it
// still holds; the next Write opens a new one. Closing a DuckDB appender
// flushes what it buffers, so it is closed inside the open transaction
// (inTx) or one begun for the purpose, and that transaction is rolled
// back.
func (k *IngestSink) dropAppender(inTx bool) {
	ctx := context.Background()
	if !inTx {
		_, err := k.conn.ExecContext(ctx, "BEGIN TRANSACTION")
		inTx = err == nil
	}
	if k.app != nil {
		k.app.close()
		k.app = nil
	}
	if inTx {
		k.conn.ExecContext(ctx, "ROLLBACK")
	}
}

// Close releases the sink's connection.
func (k *IngestSink) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.app != nil {
		k.dropAppender(false)
	}
	return k.conn.Close()
}

// SQL of the identity updates. Empty values leave stored ones alone;
// properties are merged key by key (RFC 7396); created_at keeps the
// earliest; an identity link already stored is kept.
const (
	upsertPerson = `INSERT INTO people (person_id, email_hash, account_id, role, country, created_at, properties)
VALUES (?, ?, ?, ?, ?, ?, ?::JSON)
ON CONFLICT (person_id) DO UPDATE SET
	email_hash = coalesce(excluded.email_hash, people.email_hash),
	account_id = coalesce(excluded.account_id, people.account_id),
	role = coalesce(excluded.role, people.role),
	country = coalesce(excluded.country, people.country),
	created_at = least(people.created_at, excluded.created_at),
	properties = CASE WHEN excluded.properties IS NULL THEN people.properties
		WHEN people.properties IS NULL THEN excluded.properties
		ELSE json_merge_patch(people.properties, excluded.properties) END`
	upsertAccount = `INSERT INTO accounts (account_id, name, domain, industry, employees, region, country, tier, created_at, properties)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::JSON)
ON CONFLICT (account_id) DO UPDATE SET
	name = coalesce(excluded.name, accounts.name),
	domain = coalesce(excluded.domain, accounts.domain),
	industry = coalesce(excluded.industry, accounts.industry),
	employees = coalesce(excluded.employees, accounts.employees),
	region = coalesce(excluded.region, accounts.region),
	country = coalesce(excluded.country, accounts.country),
	tier = coalesce(excluded.tier, accounts.tier),
	created_at = least(accounts.created_at, excluded.created_at),
	properties = CASE WHEN excluded.properties IS NULL THEN accounts.properties
		WHEN accounts.properties IS NULL THEN excluded.properties
		ELSE json_merge_patch(accounts.properties, excluded.properties) END`
	insertIdentity = `INSERT INTO identities (kind, alias_id, person_id, ts, source) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`
)

// Write implements ingest.Sink.
func (k *IngestSink) Write(ctx context.Context, c *ingest.Commit) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.app == nil {
		if err := k.openAppender(); err != nil {
			return err
		}
	}
	if _, err := k.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("duckdb: begin: %w", err)
	}
	if err := k.write(ctx, c); err != nil {
		k.dropAppender(true)
		return err
	}
	if _, err := k.conn.ExecContext(ctx, "COMMIT"); err != nil {
		// Whether or not the failed COMMIT ended the transaction, the
		// ROLLBACK leaves none open (it fails harmlessly when there is
		// none); the appender holds no rows after its flush.
		k.dropAppender(true)
		var de *duck.Error
		if errors.As(err, &de) && de.Type == duck.ErrorTypeConstraint {
			return bowtie.Errorf(bowtie.EINVALID, "%v", err)
		}
		return fmt.Errorf("duckdb: commit: %w", err)
	}
	return nil
}

func (k *IngestSink) write(ctx context.Context, c *ingest.Commit) error {
	for _, row := range c.Events {
		if err := k.app.add(row); err != nil {
			return fmt.Errorf("duckdb: append events: %w", err)
		}
	}
	if err := k.app.flush(); err != nil {
		return fmt.Errorf("duckdb: append events: %w", err)
	}
	tx := k.conn
	for _, p := range c.People {
		if _, err := tx.ExecContext(ctx, upsertPerson, p.ID, null(p.EmailHash), null(p.AccountID), null(p.Role),
			null(p.Country), nullTime(p.FirstSeen), null(p.Properties)); err != nil {
			return fmt.Errorf("duckdb: upsert person: %w", err)
		}
	}
	for _, a := range c.Accounts {
		var emp any
		if a.Employees > 0 {
			emp = a.Employees
		}
		if _, err := tx.ExecContext(ctx, upsertAccount, a.ID, null(a.Name), null(a.Domain), null(a.Industry), emp,
			null(a.Region), null(a.Country), null(a.Tier), nullTime(a.FirstSeen), null(a.Properties)); err != nil {
			return fmt.Errorf("duckdb: upsert account: %w", err)
		}
	}
	for _, l := range c.Identities {
		if _, err := tx.ExecContext(ctx, insertIdentity, l.Kind, l.AliasID, l.PersonID, l.TS, l.Source); err != nil {
			return fmt.Errorf("duckdb: insert identity: %w", err)
		}
	}
	return nil
}

// RecentIDs implements ingest.Sink. received_at grows as rows are
// appended, so DuckDB's zone maps skip every row group older than since.
func (k *IngestSink) RecentIDs(ctx context.Context, since time.Time, limit int, yield func(string, time.Time)) error {
	rows, err := k.s.db.QueryContext(ctx, "SELECT id, received_at FROM events WHERE received_at >= ? ORDER BY received_at DESC LIMIT ?", since.UTC(), limit)
	if err != nil {
		return fmt.Errorf("duckdb: recent event ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return err
		}
		yield(id, at)
	}
	return rows.Err()
}

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}
