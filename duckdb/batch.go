package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bowtie-analytics/bowtie"
	duck "github.com/duckdb/duckdb-go/v2"
)

// batch is a bowtie.Batch, all on one connection.
//
// Upsert mode: one staging table and one appender per canonical table.
// Commit moves every table's staged rows in a single transaction; Rollback
// (or a failed Commit) drops the staging tables.
//
// Append mode: one directAppender per canonical table appends straight into
// it inside an open transaction, committed every appendChunk rows (all
// tables together) and at Commit; Rollback rolls back the rows since the
// last chunk commit.
//
// A batch is not safe for concurrent use.
type batch struct {
	s    *Store
	ctx  context.Context
	mode bowtie.WriteMode
	conn *sql.Conn
	// staged holds the tables rows were added to, by table name.
	staged map[string]*staging
	done   bool
	// Append mode: inTx is set while a transaction is open, pending counts
	// the rows added in it.
	inTx    bool
	pending int64
}

// staging is one table's staging area.
type staging struct {
	t    bowtie.Table
	name string
	rows int64 // rows added in total
	// direct appends to the staging table (Upsert) or straight into the
	// canonical table (Append).
	direct *directAppender
}

var _ bowtie.Batch = (*batch)(nil)

// Begin implements bowtie.Store.
func (s *Store) Begin(ctx context.Context, mode bowtie.WriteMode) (bowtie.Batch, error) {
	return s.begin(ctx, mode)
}

func (s *Store) begin(ctx context.Context, mode bowtie.WriteMode) (*batch, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("duckdb: connection for a batch: %w", err)
	}
	return &batch{s: s, ctx: ctx, mode: mode, conn: conn, staged: map[string]*staging{}}, nil
}

// errBatchDone is returned by Add and Commit after the batch has ended.
var errBatchDone = errors.New("duckdb: the batch has already been committed or rolled back")

// Add implements bowtie.Batch.
func (b *batch) Add(t bowtie.Table, row []any) error {
	if b.done {
		return errBatchDone
	}
	if b.mode == bowtie.Append {
		return b.addDirect(t, row)
	}
	st := b.staged[t.Name]
	if st == nil {
		var err error
		if st, err = b.stage(t); err != nil {
			return err
		}
	}
	if err := st.direct.add(row); err != nil {
		return err
	}
	st.rows++
	return nil
}

// addDirect appends row to t's table in Append mode.
func (b *batch) addDirect(t bowtie.Table, row []any) error {
	st := b.staged[t.Name]
	if st == nil {
		d, err := newDirectAppender(b.conn, t)
		if err != nil {
			return err
		}
		st = &staging{t: t, direct: d}
		b.staged[t.Name] = st
	}
	if !b.inTx {
		if _, err := b.conn.ExecContext(b.ctx, "BEGIN TRANSACTION"); err != nil {
			return fmt.Errorf("duckdb: begin: %w", err)
		}
		b.inTx = true
	}
	if err := st.direct.add(row); err != nil {
		return err
	}
	st.rows++
	b.pending++
	if b.pending >= appendChunk {
		return b.commitDirect()
	}
	return nil
}

// commitDirect flushes every table's appender and commits the open
// transaction (Append mode). On failure the transaction is rolled back.
func (b *batch) commitDirect() error {
	if !b.inTx {
		return nil
	}
	for _, st := range b.ordered() {
		if err := st.direct.flush(); err != nil {
			b.rollbackDirect()
			return err
		}
	}
	b.inTx, b.pending = false, 0
	if _, err := b.conn.ExecContext(b.ctx, "COMMIT"); err != nil {
		var de *duck.Error
		if errors.As(err, &de) && de.Type == duck.ErrorTypeConstraint {
			return bowtie.Errorf(bowtie.EINVALID, "%v", err)
		}
		return fmt.Errorf("duckdb: commit: %w", err)
	}
	return nil
}

// rollbackDirect drops the rows of the open transaction (Append mode).
func (b *batch) rollbackDirect() {
	if !b.inTx {
		return
	}
	b.inTx, b.pending = false, 0
	b.conn.ExecContext(context.Background(), "ROLLBACK")
}

// stage creates t's staging table with the loose column types rows are
// appended as, before they are cast into the canonical table.
func (b *batch) stage(t bowtie.Table) (*staging, error) {
	name := fmt.Sprintf("_stage_%s_%d", t.Name, b.s.seq.Add(1))
	var cols []string
	for _, f := range t.Fields {
		cols = append(cols, quoteIdent(f.Name)+" "+stagingType(f.Type))
	}
	if _, err := b.conn.ExecContext(b.ctx, "CREATE TABLE "+quoteIdent(name)+" ("+strings.Join(cols, ", ")+")"); err != nil {
		return nil, fmt.Errorf("duckdb: create staging for %s: %w", t.Name, err)
	}
	// The staging table has t's fields with loose types; the chunk filler
	// reads the column types from the table itself.
	d, err := newDirectAppender(b.conn, bowtie.Table{Name: name, Kind: t.Kind, Fields: t.Fields})
	if err != nil {
		return nil, err
	}
	st := &staging{t: t, name: name, direct: d}
	b.staged[t.Name] = st
	return st, nil
}

// ordered returns the staging areas in bowtie.Tables order, then any other
// table by name, so that commits are deterministic.
func (b *batch) ordered() []*staging {
	rank := map[string]int{}
	for i, t := range bowtie.Tables {
		rank[t.Name] = i + 1
	}
	out := make([]*staging, 0, len(b.staged))
	for _, st := range b.staged {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rank[out[i].t.Name], rank[out[j].t.Name]
		if ri == 0 {
			ri = len(rank) + 1
		}
		if rj == 0 {
			rj = len(rank) + 1
		}
		if ri != rj {
			return ri < rj
		}
		return out[i].t.Name < out[j].t.Name
	})
	return out
}

// Commit implements bowtie.Batch.
func (b *batch) Commit() (map[string]int64, error) {
	if b.done {
		return nil, errBatchDone
	}
	defer b.end()
	counts := map[string]int64{}
	if b.mode == bowtie.Append {
		if err := b.commitDirect(); err != nil {
			return nil, err
		}
		for _, st := range b.staged {
			counts[st.t.Name] = st.rows
		}
		return counts, nil
	}
	var moves []stagedMove
	for _, st := range b.ordered() {
		if err := st.direct.flush(); err != nil {
			return nil, err
		}
		st.direct.close()
		counts[st.t.Name] = st.rows
		moves = append(moves, stagedMove{st.t, st.name})
	}
	if err := b.s.move(b.ctx, b.conn, b.mode, moves); err != nil {
		return nil, err
	}
	return counts, nil
}

// Rollback implements bowtie.Batch.
func (b *batch) Rollback() error {
	if b.done {
		return nil
	}
	b.end()
	return nil
}

// end closes the appenders, drops the staging tables (Upsert mode) or rolls
// back the uncommitted rows (Append mode) and releases the connection. It
// runs with a fresh context so that a cancelled import still cleans up;
// staging tables left by a crash are dropped by the next Open.
func (b *batch) end() {
	b.done = true
	if b.mode == bowtie.Append {
		// Closing an appender flushes what DuckDB still buffers (after a
		// failed flush, the rows that failed): do it inside a transaction
		// that is rolled back, so that nothing uncommitted is stored.
		if !b.inTx && len(b.staged) > 0 {
			if _, err := b.conn.ExecContext(context.Background(), "BEGIN TRANSACTION"); err == nil {
				b.inTx = true
			}
		}
		for _, st := range b.staged {
			st.direct.close()
		}
		b.rollbackDirect()
		b.conn.Close()
		return
	}
	for _, st := range b.staged {
		st.direct.close()
		b.conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+quoteIdent(st.name))
	}
	b.conn.Close()
}
