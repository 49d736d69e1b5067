// Package rawscan reads DuckDB query results chunk by chunk through
// DuckDB's C API, without database/sql's per-value conversion. It exists
// for analyses that move millions of rows into Go (the event funnel's
// per-person pass): reading a BIGINT column costs nothing per value here,
// against a cgo call and an interface conversion per value through
// database/sql.
//
// duckdb-go (v2.5.4) does not export a connection's C handle; Scan finds
// it by field name and type, so a driver change fails loudly in
// TestScan_DriverInternals instead of misbehaving.
package rawscan

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"time"
	"unsafe"

	"github.com/duckdb/duckdb-go/mapping"
	duck "github.com/duckdb/duckdb-go/v2"
)

// Chunk is one result chunk. Its views are valid only during the callback
// that receives it.
type Chunk struct {
	chunk mapping.DataChunk
	n     int
	types []mapping.Type
}

// Len is the number of rows in the chunk.
func (c *Chunk) Len() int { return c.n }

func (c *Chunk) vector(col int, want ...mapping.Type) (mapping.Vector, error) {
	if col < 0 || col >= len(c.types) {
		return mapping.Vector{}, fmt.Errorf("rawscan: no column %d", col)
	}
	for _, t := range want {
		if c.types[col] == t {
			return mapping.DataChunkGetVector(c.chunk, mapping.IdxT(col)), nil
		}
	}
	return mapping.Vector{}, fmt.Errorf("rawscan: column %d has type id %d", col, c.types[col])
}

// Int64 returns column col (BIGINT, UBIGINT read as int64, or TIMESTAMP as
// microseconds since the epoch) as a slice over DuckDB's vector, and its
// validity (nil when every value is valid).
func (c *Chunk) Int64(col int) ([]int64, Validity, error) {
	v, err := c.vector(col, mapping.TypeBigInt, mapping.TypeUBigInt, mapping.TypeTimestamp)
	if err != nil {
		return nil, Validity{}, err
	}
	data := unsafe.Slice((*int64)(mapping.VectorGetData(v)), c.n)
	return data, Validity{mask: mapping.VectorGetValidity(v)}, nil
}

// Float64 returns column col (DOUBLE) as a slice over DuckDB's vector,
// and its validity (nil when every value is valid).
func (c *Chunk) Float64(col int) ([]float64, Validity, error) {
	v, err := c.vector(col, mapping.TypeDouble)
	if err != nil {
		return nil, Validity{}, err
	}
	data := unsafe.Slice((*float64)(mapping.VectorGetData(v)), c.n)
	return data, Validity{mask: mapping.VectorGetValidity(v)}, nil
}

// Int32 returns column col (INTEGER, or DATE as days since 1970-01-01) as
// a slice over DuckDB's vector, and its validity.
func (c *Chunk) Int32(col int) ([]int32, Validity, error) {
	v, err := c.vector(col, mapping.TypeInteger, mapping.TypeDate)
	if err != nil {
		return nil, Validity{}, err
	}
	data := unsafe.Slice((*int32)(mapping.VectorGetData(v)), c.n)
	return data, Validity{mask: mapping.VectorGetValidity(v)}, nil
}

// Strings returns a reader of column col (VARCHAR).
func (c *Chunk) Strings(col int) (Strings, error) {
	v, err := c.vector(col, mapping.TypeVarchar)
	if err != nil {
		return Strings{}, err
	}
	return Strings{data: mapping.VectorGetData(v), Validity: Validity{mask: mapping.VectorGetValidity(v)}}, nil
}

// Validity tells which rows of a vector are not NULL.
type Validity struct{ mask unsafe.Pointer }

// Valid reports whether row i is not NULL.
func (v Validity) Valid(i int) bool {
	if v.mask == nil {
		return true
	}
	w := *(*uint64)(unsafe.Add(v.mask, (i/64)*8))
	return w&(1<<(i%64)) != 0
}

// Strings reads a VARCHAR vector.
type Strings struct {
	data unsafe.Pointer
	Validity
}

// Bytes returns row i's bytes (nil for NULL). They point into DuckDB's
// memory: copy them to keep them past the callback.
func (s Strings) Bytes(i int) []byte {
	if !s.Valid(i) {
		return nil
	}
	// duckdb_string_t: a uint32 length, then either the string inline (up to
	// 12 bytes) or a 4-byte prefix and a pointer.
	p := unsafe.Add(s.data, i*16)
	n := *(*uint32)(p)
	if n == 0 {
		return []byte{}
	}
	if n <= 12 {
		return unsafe.Slice((*byte)(unsafe.Add(p, 4)), n)
	}
	ptr := *(*unsafe.Pointer)(unsafe.Add(p, 8))
	return unsafe.Slice((*byte)(ptr), n)
}

// Scan runs the query q with positional arguments ($1, $2, ...: string,
// int64, int, float64, bool or time.Time) on a connection of db, which
// must be a DuckDB database, and calls fn for every chunk of the result in
// order. Cancelling ctx interrupts the query.
func Scan(ctx context.Context, db *sql.DB, q string, args []any, fn func(*Chunk) error) error {
	return withConn(ctx, db, func(raw mapping.Connection) error { return scan(ctx, raw, q, args, fn) })
}

// withConn calls fn with the C handle of a connection of db.
func withConn(ctx context.Context, db *sql.DB, fn func(mapping.Connection) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return onConn(conn, fn)
}

// onConn calls fn with the C handle of conn.
func onConn(conn *sql.Conn, fn func(mapping.Connection) error) error {
	return conn.Raw(func(dc any) error {
		raw, err := connHandle(dc)
		if err != nil {
			return err
		}
		return fn(raw)
	})
}

// ScanParallel runs q like Scan, then hands the result's chunks to
// workers goroutines: start is called once with slots, a bound on the
// result's rows (its number of chunks times DuckDB's vector size), then
// fn(worker, chunk, first) for every chunk, the k-th chunk (from 0) with
// first = k × vector size: the chunk owns slots [first, first+Len), and
// the slots after Len up to the next chunk's stay unused. One goroutine
// fetches the chunks in order; the workers convert them concurrently, so
// fn must only write state of its own worker or its chunk's slots.
func ScanParallel(ctx context.Context, db *sql.DB, q string, args []any, workers int, start func(slots int) error, fn func(worker int, c *Chunk, first int) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return ScanParallelConn(ctx, conn, q, args, workers, start, fn)
}

// ScanParallelConn is ScanParallel on the connection conn (of a DuckDB
// database), for callers that must hold their connection before others
// (a query that waits for another one's result must not hold the pool's
// last connection while the other waits for it).
func ScanParallelConn(ctx context.Context, conn *sql.Conn, q string, args []any, workers int, start func(slots int) error, fn func(worker int, c *Chunk, first int) error) error {
	return onConn(conn, func(raw mapping.Connection) error {
		return run(ctx, raw, q, args, func(res *mapping.Result, types []mapping.Type) error {
			size := int(mapping.VectorSize())
			if err := start(int(mapping.ResultChunkCount(*res)) * size); err != nil {
				return err
			}
			type job struct {
				ch    mapping.DataChunk
				first int
			}
			jobs := make(chan job, 2*workers)
			errs := make(chan error, workers)
			for w := 0; w < workers; w++ {
				go func() {
					var err error
					for j := range jobs {
						if err == nil {
							err = fn(w, &Chunk{chunk: j.ch, n: int(mapping.DataChunkGetSize(j.ch)), types: types}, j.first)
						}
						mapping.DestroyDataChunk(&j.ch)
					}
					errs <- err
				}()
			}
			first := 0
			for ctx.Err() == nil {
				ch := mapping.FetchChunk(*res)
				if ch.Ptr == nil {
					break
				}
				n := int(mapping.DataChunkGetSize(ch))
				if n == 0 {
					mapping.DestroyDataChunk(&ch)
					break
				}
				if n > size {
					mapping.DestroyDataChunk(&ch)
					close(jobs)
					for w := 0; w < workers; w++ {
						<-errs
					}
					return fmt.Errorf("rawscan: a chunk of %d rows, over the vector size %d", n, size)
				}
				jobs <- job{ch, first}
				first += size
			}
			close(jobs)
			var errList []error
			for w := 0; w < workers; w++ {
				errList = append(errList, <-errs)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			return errors.Join(errList...)
		})
	})
}

// connHandle returns the C connection inside a duckdb-go connection.
func connHandle(dc any) (mapping.Connection, error) {
	c, ok := dc.(*duck.Conn)
	if !ok {
		return mapping.Connection{}, fmt.Errorf("rawscan: %T is not a DuckDB connection", dc)
	}
	f := reflect.ValueOf(c).Elem().FieldByName("conn")
	if !f.IsValid() || f.Type() != reflect.TypeOf(mapping.Connection{}) {
		return mapping.Connection{}, errors.New("rawscan: this duckdb-go version has no Conn.conn field of type mapping.Connection")
	}
	return *(*mapping.Connection)(unsafe.Pointer(f.UnsafeAddr())), nil
}

func scan(ctx context.Context, conn mapping.Connection, q string, args []any, fn func(*Chunk) error) error {
	return run(ctx, conn, q, args, func(res *mapping.Result, types []mapping.Type) error {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			ch := mapping.FetchChunk(*res)
			if ch.Ptr == nil {
				return nil
			}
			n := int(mapping.DataChunkGetSize(ch))
			var err error
			if n > 0 {
				err = fn(&Chunk{chunk: ch, n: n, types: types})
			}
			mapping.DestroyDataChunk(&ch)
			if err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
		}
	})
}

// run prepares, binds and executes q, then calls consume with the
// materialised result and its column types.
// prepare prepares q and binds args ($1, $2, ...).
func prepare(conn mapping.Connection, q string, args []any) (mapping.PreparedStatement, error) {
	var st mapping.PreparedStatement
	if mapping.Prepare(conn, q, &st) == mapping.StateError {
		err := fmt.Errorf("rawscan: %s", mapping.PrepareError(st))
		mapping.DestroyPrepare(&st)
		return st, err
	}
	for i, a := range args {
		idx := mapping.IdxT(i + 1)
		var state mapping.State
		switch v := a.(type) {
		case string:
			state = mapping.BindVarchar(st, idx, v)
		case int64:
			state = mapping.BindInt64(st, idx, v)
		case int:
			state = mapping.BindInt64(st, idx, int64(v))
		case float64:
			state = mapping.BindDouble(st, idx, v)
		case bool:
			state = mapping.BindBoolean(st, idx, v)
		case time.Time:
			state = mapping.BindTimestamp(st, idx, mapping.NewTimestamp(v.UnixMicro()))
		default:
			mapping.DestroyPrepare(&st)
			return st, fmt.Errorf("rawscan: argument %d: unsupported type %T", i+1, a)
		}
		if state == mapping.StateError {
			err := fmt.Errorf("rawscan: binding argument %d: %s", i+1, mapping.PrepareError(st))
			mapping.DestroyPrepare(&st)
			return st, err
		}
	}
	return st, nil
}

// interruptOnDone interrupts conn's query when ctx is done, until the
// returned function is called.
func interruptOnDone(ctx context.Context, conn mapping.Connection) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			mapping.Interrupt(conn)
		case <-done:
		}
	}()
	return func() { close(done) }
}

func run(ctx context.Context, conn mapping.Connection, q string, args []any, consume func(res *mapping.Result, types []mapping.Type) error) error {
	st, err := prepare(conn, q, args)
	if err != nil {
		return err
	}
	defer mapping.DestroyPrepare(&st)
	stop := interruptOnDone(ctx, conn)
	defer stop()
	var res mapping.Result
	defer mapping.DestroyResult(&res)
	if mapping.ExecutePrepared(st, &res) == mapping.StateError {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fmt.Errorf("rawscan: %s", mapping.ResultError(&res))
	}
	types := make([]mapping.Type, int(mapping.ColumnCount(&res)))
	for i := range types {
		types[i] = mapping.ColumnType(&res, mapping.IdxT(i))
	}
	return consume(&res, types)
}
