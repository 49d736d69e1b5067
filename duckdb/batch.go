package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bowtie-analytics/bowtie"
	duck "github.com/duckdb/duckdb-go/v2"
)

// batch is a bowtie.Batch: one staging table and one appender per canonical
// table, all on one connection. Commit moves every table's staged rows in a
// single transaction; Rollback (or a failed Commit) drops the staging tables.
// A batch is not safe for concurrent use.
type batch struct {
	s    *Store
	ctx  context.Context
	mode bowtie.WriteMode
	conn *sql.Conn
	// staged holds the tables rows were added to, by table name.
	staged map[string]*staging
	done   bool
}

// staging is one table's staging area.
type staging struct {
	t     bowtie.Table
	name  string
	app   *duck.Appender // nil between an Append-mode chunk move and the next row
	vals  []driver.Value
	rows  int64 // rows added in total
	chunk int64 // rows added since the last chunk move (Append mode)
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
	st := b.staged[t.Name]
	if st == nil {
		var err error
		if st, err = b.stage(t); err != nil {
			return err
		}
	}
	if len(row) != len(st.t.Fields) {
		return fmt.Errorf("duckdb: %s row has %d values, want %d", t.Name, len(row), len(st.t.Fields))
	}
	if st.app == nil {
		if err := b.openAppender(st); err != nil {
			return err
		}
	}
	for i, v := range row {
		st.vals[i] = v
	}
	if err := st.app.AppendRow(st.vals...); err != nil {
		return fmt.Errorf("duckdb: append to %s: %w", t.Name, err)
	}
	st.rows++
	st.chunk++
	if b.mode == bowtie.Append && st.chunk >= appendChunk {
		return b.moveChunk(st)
	}
	return nil
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
	st := &staging{t: t, name: name, vals: make([]driver.Value, len(t.Fields))}
	b.staged[t.Name] = st
	return st, nil
}

func (b *batch) openAppender(st *staging) error {
	err := b.conn.Raw(func(dc any) error {
		a, err := duck.NewAppenderFromConn(dc.(driver.Conn), "", st.name)
		st.app = a
		return err
	})
	if err != nil {
		return fmt.Errorf("duckdb: appender for %s: %w", st.t.Name, err)
	}
	return nil
}

// closeAppender flushes st's appender.
func (st *staging) closeAppender() error {
	if st.app == nil {
		return nil
	}
	err := st.app.Close()
	st.app = nil
	if err != nil {
		return fmt.Errorf("duckdb: append to %s: %w", st.t.Name, err)
	}
	return nil
}

// moveChunk moves st's staged rows in Append mode and empties the staging
// table; the next Add reopens the appender.
func (b *batch) moveChunk(st *staging) error {
	if err := st.closeAppender(); err != nil {
		return err
	}
	if err := b.s.move(b.ctx, b.conn, b.mode, []stagedMove{{st.t, st.name}}); err != nil {
		return err
	}
	if _, err := b.conn.ExecContext(b.ctx, "DELETE FROM "+quoteIdent(st.name)); err != nil {
		return fmt.Errorf("duckdb: empty staging for %s: %w", st.t.Name, err)
	}
	st.chunk = 0
	return nil
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
	var moves []stagedMove
	counts := map[string]int64{}
	for _, st := range b.ordered() {
		if err := st.closeAppender(); err != nil {
			return nil, err
		}
		counts[st.t.Name] = st.rows
		if b.mode == bowtie.Append && st.chunk == 0 {
			continue // everything went in earlier chunks
		}
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

// end closes the appenders, drops the staging tables and releases the
// connection. It runs with a fresh context so that a cancelled import still
// cleans up; staging tables left by a crash are dropped by the next Open.
func (b *batch) end() {
	b.done = true
	for _, st := range b.staged {
		if st.app != nil {
			st.app.Close()
			st.app = nil
		}
		b.conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+quoteIdent(st.name))
	}
	b.conn.Close()
}
