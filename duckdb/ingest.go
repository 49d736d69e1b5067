package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/ingest"
	duck "github.com/duckdb/duckdb-go/v2"
)

// IngestSink is the ingest.TxSink of the embedded store. It owns two
// connections, each with a directAppender (append.go: DuckDB data chunks
// filled from Go, one cgo call per 2048 rows) on the events table, so that
// one transaction can append while the other commits. A transaction is
// BEGIN, the events appended (the appender joins the open transaction),
// the people, accounts and identities updates, the appender flushed, then
// COMMIT. DuckDB writes the transaction to its WAL and syncs the WAL to
// disk before COMMIT returns (docs/ingest.md says how this was checked), so
// a Commit (or Write) that returned nil is durable; a failed one rolls back
// and leaves nothing behind.
type IngestSink struct {
	s     *Store
	conns []*ingestConn
	free  chan *ingestConn // connections with no transaction open
}

// ingestConn is a connection of an IngestSink; whoever took it from free
// owns it until it is put back.
type ingestConn struct {
	conn   *sql.Conn
	events bowtie.Table
	app    *directAppender // nil after a failure, until the next Begin
}

var _ ingest.TxSink = (*IngestSink)(nil)

// IngestSink opens the sink on connections of its own. Close it before
// the store.
func (s *Store) IngestSink(ctx context.Context) (*IngestSink, error) {
	k := &IngestSink{s: s, free: make(chan *ingestConn, 2)}
	events, _ := bowtie.TableByKind("events")
	for range 2 {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			k.Close()
			return nil, fmt.Errorf("duckdb: ingest connection: %w", err)
		}
		c := &ingestConn{conn: conn, events: events}
		k.conns = append(k.conns, c)
		k.free <- c
		// DuckDB checkpoints (moves the WAL into the data file) inside the
		// commit that passes checkpoint_threshold, stalling that commit. Its
		// 16 MB default means a checkpoint every ~25 000 events, each
		// rewriting the table's last, partly filled row group; 64 MB makes
		// them rarer and cheaper per event, while keeping WAL replay after
		// a crash short. (The setting is global; set on each connection
		// for clarity.)
		if _, err := conn.ExecContext(ctx, "SET checkpoint_threshold = '64MB'"); err != nil {
			k.Close()
			return nil, err
		}
		if err := c.openAppender(); err != nil {
			k.Close()
			return nil, err
		}
	}
	return k, nil
}

func (c *ingestConn) openAppender() error {
	a, err := newDirectAppender(c.conn, c.events)
	if err != nil {
		return fmt.Errorf("duckdb: ingest appender: %w", err)
	}
	c.app = a
	return nil
}

// dropAppender discards the appender after a failure, with the rows it
// still holds; the next Begin opens a new one. Closing a DuckDB appender
// flushes what it buffers, so it is closed inside the open transaction
// (inTx) or one begun for the purpose, and that transaction is rolled
// back.
func (c *ingestConn) dropAppender(inTx bool) {
	ctx := context.Background()
	if !inTx {
		_, err := c.conn.ExecContext(ctx, "BEGIN TRANSACTION")
		inTx = err == nil
	}
	if c.app != nil {
		c.app.close()
		c.app = nil
	}
	if inTx {
		c.conn.ExecContext(ctx, "ROLLBACK")
	}
}

// Close releases the sink's connections. It waits for open transactions
// to end.
func (k *IngestSink) Close() error {
	var errs []error
	for range k.conns {
		c := <-k.free
		if c.app != nil {
			c.dropAppender(false)
		}
		errs = append(errs, c.conn.Close())
	}
	k.conns = nil
	return errors.Join(errs...)
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

// Begin implements ingest.TxSink.
func (k *IngestSink) Begin(ctx context.Context) (ingest.Tx, error) {
	var c *ingestConn
	select {
	case c = <-k.free:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if c.app == nil {
		if err := c.openAppender(); err != nil {
			k.free <- c
			return nil, err
		}
	}
	if _, err := c.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		k.free <- c
		return nil, fmt.Errorf("duckdb: begin: %w", err)
	}
	return &ingestTx{k: k, c: c}, nil
}

// Write implements ingest.Sink: c in a transaction of its own.
func (k *IngestSink) Write(ctx context.Context, c *ingest.Commit) error {
	tx, err := k.Begin(ctx)
	if err != nil {
		return err
	}
	if err := tx.Write(ctx, c); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit(ctx)
}

// ingestTx is an ingest.Tx on one connection of an IngestSink; c is nil
// once it has ended.
type ingestTx struct {
	k         *IngestSink
	c         *ingestConn
	unflushed int // events appended since the last flush
}

// flushEvery is the number of events after which Write flushes the
// appender into the transaction (DuckDB's local storage), so that the
// ingester's writer does it while the previous transaction commits rather
// than in Commit. It is a whole number of chunks, so the chunks sent stay
// full.
const flushEvery = 2 * 2048

// Write implements ingest.Tx.
func (t *ingestTx) Write(ctx context.Context, c *ingest.Commit) error {
	if t.c == nil {
		return errors.New("duckdb: write after the transaction ended")
	}
	if err := t.c.write(ctx, c); err != nil {
		return err
	}
	if t.unflushed += len(c.Events); t.unflushed >= flushEvery {
		t.unflushed = 0
		if err := t.c.app.flush(); err != nil {
			return fmt.Errorf("duckdb: append events: %w", err)
		}
	}
	return nil
}

// Commit implements ingest.Tx.
func (t *ingestTx) Commit(ctx context.Context) error {
	c := t.c
	if c == nil {
		return errors.New("duckdb: commit after the transaction ended")
	}
	if err := c.app.flush(); err != nil {
		t.Rollback()
		return fmt.Errorf("duckdb: append events: %w", err)
	}
	if _, err := c.conn.ExecContext(ctx, "COMMIT"); err != nil {
		// Whether or not the failed COMMIT ended the transaction, the
		// ROLLBACK leaves none open (it fails harmlessly when there is
		// none); the appender holds no rows after its flush.
		t.Rollback()
		var de *duck.Error
		if errors.As(err, &de) && de.Type == duck.ErrorTypeConstraint {
			return bowtie.Errorf(bowtie.EINVALID, "%v", err)
		}
		return fmt.Errorf("duckdb: commit: %w", err)
	}
	t.c = nil
	t.k.free <- c
	return nil
}

// Rollback implements ingest.Tx. The appender is dropped with the rows it
// holds and reopened by the next Begin.
func (t *ingestTx) Rollback() {
	if t.c == nil {
		return
	}
	t.c.dropAppender(true)
	t.k.free <- t.c
	t.c = nil
}

func (k *ingestConn) write(ctx context.Context, c *ingest.Commit) error {
	for _, row := range c.Events {
		if err := k.app.add(row); err != nil {
			return fmt.Errorf("duckdb: append events: %w", err)
		}
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
