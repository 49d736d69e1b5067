package duckdb

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/bowtie-analytics/bowtie"
	"github.com/duckdb/duckdb-go/mapping"
	duck "github.com/duckdb/duckdb-go/v2"
)

// Store.Write in Append mode does not push rows through an appender: it
// runs the RowSource on a goroutine that hands batches of rows over, and
// one INSERT INTO t SELECT * FROM bowtie_append_source(feed) per
// appendChunk rows lets DuckDB pull them. The table function is parallel:
// every DuckDB thread fills its own chunks from the batches (in Go, as
// directAppender does) and inserts and compresses its own row groups, so
// the store's work runs on all cores while the RowSource produces.
//
// Rows may be stored in a different order than the RowSource gave them.

// sourceFunc is the name of the table function feeding Append writes.
const sourceFunc = "bowtie_append_source"

const (
	feedBatchRows = 2048
	feedBatches   = 16
)

// feed is one Append write in progress: batches of rows from the
// RowSource goroutine to the table function's threads.
type feed struct {
	t     bowtie.Table
	width int
	full  chan *rowBatch
	free  chan *rowBatch
	stop  chan struct{}
	halt  sync.Once
	done  chan struct{} // closed when the RowSource has returned
	perr  error         // the RowSource's error, read after done

	quota atomic.Int64 // rows the running INSERT may still take
	eof   atomic.Bool  // full is closed and drained
	rows  atomic.Int64 // rows handed to DuckDB

	mu   sync.Mutex
	ferr error // the first error filling a chunk

	pins pinSet // the arenas of the threads' fillers, unpinned at the end
}

type rowBatch struct {
	vals []any
	n    int
}

var errFeedStopped = errors.New("duckdb: append stopped")

func (f *feed) stopProducer() { f.halt.Do(func() { close(f.stop) }) }

// produce runs rows, copying every row into a batch.
func (f *feed) produce(rows bowtie.RowSource) {
	defer close(f.done)
	defer close(f.full)
	w := f.width
	var cur *rowBatch
	next := func() bool {
		select {
		case cur = <-f.free:
			return true
		case <-f.stop:
			return false
		}
	}
	send := func() bool {
		select {
		case f.full <- cur:
			cur = nil
			return true
		case <-f.stop:
			return false
		}
	}
	if !next() {
		f.perr = errFeedStopped
		return
	}
	f.perr = func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("duckdb: row source for %s: %v", f.t.Name, r)
			}
		}()
		return rows(func(row []any) error {
			if len(row) != w {
				return fmt.Errorf("duckdb: %s row has %d values, want %d", f.t.Name, len(row), w)
			}
			copy(cur.vals[cur.n*w:(cur.n+1)*w], row)
			cur.n++
			if cur.n == feedBatchRows {
				if !send() || !next() {
					return errFeedStopped
				}
			}
			return nil
		})
	}()
	if f.perr == nil && cur != nil && cur.n > 0 {
		if !send() {
			f.perr = errFeedStopped
		}
	}
}

// take returns the next batch for the running INSERT, or nil when it has
// taken its quota or the RowSource has ended.
func (f *feed) take() *rowBatch {
	if f.quota.Load() <= 0 || f.eof.Load() {
		return nil
	}
	b, ok := <-f.full
	if !ok {
		f.eof.Store(true)
		return nil
	}
	f.quota.Add(-int64(b.n))
	return b
}

func (f *feed) fail(err error) {
	f.mu.Lock()
	if f.ferr == nil {
		f.ferr = err
	}
	f.mu.Unlock()
	f.stopProducer()
}

// feeds registers the feeds of a Store by id for the table function.
type feeds struct {
	once sync.Once
	err  error
	mu   sync.Mutex
	byID map[int64]*feed
}

// source is the bound table function: one feed.
type source struct {
	f *feed
}

func (s *source) ColumnInfos() []duck.ColumnInfo {
	out := make([]duck.ColumnInfo, len(s.f.t.Fields))
	for i, fd := range s.f.t.Fields {
		var ti duck.TypeInfo
		var err error
		switch fd.Type {
		case bowtie.Timestamp:
			ti, err = duck.NewTypeInfo(duck.TYPE_TIMESTAMP)
		case bowtie.Date:
			ti, err = duck.NewTypeInfo(duck.TYPE_DATE)
		case bowtie.Int:
			ti, err = duck.NewTypeInfo(duck.TYPE_BIGINT)
		case bowtie.Money:
			ti, err = duck.NewDecimalInfo(18, 4)
		case bowtie.Float:
			ti, err = duck.NewTypeInfo(duck.TYPE_DOUBLE)
		case bowtie.Bool:
			ti, err = duck.NewTypeInfo(duck.TYPE_BOOLEAN)
		default:
			ti, err = duck.NewTypeInfo(duck.TYPE_VARCHAR)
		}
		if err != nil {
			panic(err) // the types above are all valid
		}
		out[i] = duck.ColumnInfo{Name: fd.Name, T: ti}
	}
	return out
}

func (s *source) Cardinality() *duck.CardinalityInfo { return nil }

func (s *source) Init() duck.ParallelTableSourceInfo {
	return duck.ParallelTableSourceInfo{MaxThreads: runtime.GOMAXPROCS(0)}
}

// sourceState is one DuckDB thread's state: its filler and the batch it
// is reading.
type sourceState struct {
	filler
	cur *rowBatch
	pos int
}

func (s *source) NewLocalState() any {
	st := &sourceState{filler: filler{t: s.f.t, cap: int(mapping.VectorSize()), pins: &s.f.pins}}
	st.cols = make([]directColumn, len(s.f.t.Fields))
	for i, fd := range s.f.t.Fields {
		c := &st.cols[i]
		c.name = fd.Name
		switch fd.Type {
		case bowtie.Timestamp:
			c.kind = kindTimestamp
		case bowtie.Date:
			c.kind = kindDate
		case bowtie.Int:
			c.kind = kindInt64
		case bowtie.Money:
			c.kind, c.scale = kindDecimal64, 1e4
		case bowtie.Float:
			c.kind = kindDouble
		case bowtie.Bool:
			c.kind = kindBool
		default:
			// JSON is checked by DuckDB's cast to the JSON column.
			c.kind = kindVarchar
		}
		c.def, _ = fieldDefault(s.f.t, fd) // checked when the feed is made
	}
	return st
}

// chunkOf returns the C data chunk inside a duckdb-go DataChunk (v2.5.4
// does not export it; see rawAppender).
func chunkOf(c *duck.DataChunk) (mapping.DataChunk, error) {
	f := reflect.ValueOf(c).Elem().FieldByName("chunk")
	if !f.IsValid() || f.Type() != reflect.TypeOf(mapping.DataChunk{}) {
		return mapping.DataChunk{}, fmt.Errorf("duckdb: this duckdb-go version has no DataChunk.chunk field of type mapping.DataChunk")
	}
	return *(*mapping.DataChunk)(unsafe.Pointer(f.UnsafeAddr())), nil
}

func (s *source) FillChunk(local any, chunk duck.DataChunk) error {
	st := local.(*sourceState)
	f := s.f
	raw, err := chunkOf(&chunk)
	if err == nil && int(mapping.DataChunkGetColumnCount(raw)) != len(st.cols) {
		err = fmt.Errorf("duckdb: %s: the append source was projected", f.t.Name)
	}
	if err != nil {
		f.fail(err)
		return err
	}
	// DuckDB has consumed the previous chunk of this thread: its strings
	// were copied into the table's storage.
	st.reset()
	st.point(raw)
	w := f.width
	for st.n < st.cap {
		if st.cur == nil || st.pos == st.cur.n {
			if st.cur != nil {
				st.cur.n = 0
				f.free <- st.cur
			}
			st.cur, st.pos = f.take(), 0
			if st.cur == nil {
				if f.eof.Load() && f.perr != nil {
					// The RowSource failed: fail the INSERT so that
					// its rows are rolled back (f.perr was set before
					// full was closed).
					return f.perr
				}
				break
			}
		}
		if err := st.fill(st.cur.vals[st.pos*w : (st.pos+1)*w]); err != nil {
			f.fail(err)
			return err
		}
		st.pos++
	}
	mapping.DataChunkSetSize(raw, mapping.IdxT(st.n))
	f.rows.Add(int64(st.n))
	return nil
}

// registerSource registers the table function on the store (once).
func (s *Store) registerSource() error {
	s.feeds.once.Do(func() {
		s.feeds.byID = map[int64]*feed{}
		// Not ctx: a cancelled first write must not fail every later one.
		conn, err := s.db.Conn(context.Background())
		if err != nil {
			s.feeds.err = err
			return
		}
		defer conn.Close()
		s.feeds.err = duck.RegisterTableUDF(conn, sourceFunc, duck.ParallelChunkTableFunction{
			Config: duck.TableFunctionConfig{Arguments: []duck.TypeInfo{mustType(duck.TYPE_BIGINT)}},
			BindArguments: func(named map[string]any, args ...any) (duck.ParallelChunkTableSource, error) {
				id, _ := args[0].(int64)
				s.feeds.mu.Lock()
				f := s.feeds.byID[id]
				s.feeds.mu.Unlock()
				if f == nil {
					return nil, fmt.Errorf("duckdb: no append feed %d", id)
				}
				return &source{f: f}, nil
			},
		})
	})
	if s.feeds.err != nil {
		return fmt.Errorf("duckdb: register %s: %w", sourceFunc, s.feeds.err)
	}
	return nil
}

func mustType(t duck.Type) duck.TypeInfo {
	ti, err := duck.NewTypeInfo(t)
	if err != nil {
		panic(err)
	}
	return ti
}

// writeAppend is Store.Write in Append mode.
func (s *Store) writeAppend(ctx context.Context, t bowtie.Table, rows bowtie.RowSource) (int64, error) {
	for _, fd := range t.Fields {
		if _, err := fieldDefault(t, fd); err != nil {
			return 0, err
		}
	}
	if err := s.registerSource(); err != nil {
		return 0, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("duckdb: connection for %s: %w", t.Name, err)
	}
	defer conn.Close()
	// DuckDB inserts from a table function on one thread while it must
	// keep the insertion order; on this connection it need not, so every
	// thread fills, inserts and compresses (1.5–2× faster on 2 cores).
	if _, err := conn.ExecContext(ctx, "SET SESSION preserve_insertion_order = false"); err != nil {
		return 0, fmt.Errorf("duckdb: append to %s: %w", t.Name, err)
	}
	defer conn.ExecContext(context.Background(), "RESET SESSION preserve_insertion_order")

	f := &feed{t: t, width: len(t.Fields), full: make(chan *rowBatch, feedBatches),
		free: make(chan *rowBatch, feedBatches), stop: make(chan struct{}), done: make(chan struct{})}
	for range feedBatches {
		f.free <- &rowBatch{vals: make([]any, f.width*feedBatchRows)}
	}
	id := s.seq.Add(1)
	s.feeds.mu.Lock()
	s.feeds.byID[id] = f
	s.feeds.mu.Unlock()
	defer func() {
		s.feeds.mu.Lock()
		delete(s.feeds.byID, id)
		s.feeds.mu.Unlock()
	}()
	go f.produce(rows)

	var names []string
	for _, fd := range t.Fields {
		names = append(names, quoteIdent(fd.Name))
	}
	stmt := fmt.Sprintf("INSERT INTO %s (%s) SELECT * FROM %s(%d)", quoteIdent(t.Name), strings.Join(names, ", "), sourceFunc, id)
	var ierr error
	for !f.eof.Load() {
		f.quota.Store(appendChunk)
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			ierr = err
			break
		}
	}
	if ierr != nil {
		f.stopProducer()
	}
	// Drain what the producer sends until it sees stop (or ends).
	go func() {
		for b := range f.full {
			b.n = 0
		}
	}()
	<-f.done
	// The INSERTs are over: no thread reads the arenas any more.
	f.pins.unpin()
	n := f.rows.Load()
	switch {
	case f.perr != nil && !errors.Is(f.perr, errFeedStopped):
		return 0, f.perr
	case f.ferr != nil:
		return 0, f.ferr
	case ierr != nil:
		return 0, moveError(t, ierr)
	}
	return n, nil
}
