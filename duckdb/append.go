package duckdb

import (
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/bowtie-analytics/bowtie"
	"github.com/duckdb/duckdb-go/mapping"
	duck "github.com/duckdb/duckdb-go/v2"
)

// directAppender appends rows straight into a canonical table (Append
// mode). It fills DuckDB data chunks from Go: values are written into the
// chunk's vectors in Go memory and each full chunk of 2048 rows crosses
// into DuckDB with one call, where duckdb-go's AppendRow makes one or more
// cgo calls per value (three per string: C.CString, assign, free).
//
// Conversions are those of the staging path it replaces: money is rounded
// to the column's scale (DECIMAL(18,4) holds an int64 of 1e-4 units; a
// float64 is never truncated), column defaults and the ” of optional key
// fields are applied in Go, strings must be valid UTF-8 and JSON columns
// valid JSON.
type directAppender struct {
	filler
	app   *duck.Appender // owns the DuckDB appender; its own chunk stays empty
	raw   mapping.Appender
	chunk mapping.DataChunk
}

// filler writes rows of a table into a DuckDB data chunk from Go.
type filler struct {
	t    bowtie.Table
	cols []directColumn
	n    int // rows in the chunk
	cap  int

	// Long strings (> 12 bytes) are copied into pinned arena blocks the
	// chunk's string_t values point to; DuckDB copies them out before the
	// chunk is filled again, so the arena is reused chunk after chunk.
	blocks [][]byte
	block  int // index of the block being filled
	used   int // bytes used in blocks[block]
	pins   *pinSet
	bigs   [][]byte // strings larger than a block, dropped per chunk

	// seen caches strings already validated (UTF-8, JSON), slotted by data
	// pointer: generated rows repeat a few constant strings, and comparing
	// a string with itself is a pointer comparison.
	seen [1024]seenString
}

type seenString struct {
	s    string
	json bool
}

type colKind int

const (
	kindVarchar colKind = iota
	kindJSON
	kindBool
	kindInt32
	kindInt64
	kindDouble
	kindDecimal64
	kindDecimal32
	kindDate
	kindTimestamp
)

type directColumn struct {
	name  string
	kind  colKind
	scale float64 // decimals: 10^scale
	def   any     // the value stored for NULL (nil: NULL)
	data  unsafe.Pointer
	valid unsafe.Pointer // []uint64 validity bits
}

const arenaBlock = 256 << 10

// newDirectAppender opens an appender on t's table on conn.
func newDirectAppender(conn *sql.Conn, t bowtie.Table) (*directAppender, error) {
	d := &directAppender{filler: filler{t: t, pins: &pinSet{}}}
	err := conn.Raw(func(dc any) error {
		a, err := duck.NewAppender(dc.(driver.Conn), "", "", t.Name)
		if err != nil {
			return err
		}
		d.app = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("duckdb: appender for %s: %w", t.Name, err)
	}
	if err := d.init(); err != nil {
		d.app.Close()
		return nil, err
	}
	return d, nil
}

// rawAppender returns the C appender inside a duckdb-go Appender. duckdb-go
// (v2.5.4) does not export it; the field is found by name and type so that
// a driver change fails here, loudly, instead of corrupting memory.
func rawAppender(a *duck.Appender) (mapping.Appender, error) {
	f := reflect.ValueOf(a).Elem().FieldByName("appender")
	if !f.IsValid() || f.Type() != reflect.TypeOf(mapping.Appender{}) {
		return mapping.Appender{}, fmt.Errorf("duckdb: this duckdb-go version has no Appender.appender field of type mapping.Appender")
	}
	return *(*mapping.Appender)(unsafe.Pointer(f.UnsafeAddr())), nil
}

func (d *directAppender) init() error {
	raw, err := rawAppender(d.app)
	if err != nil {
		return err
	}
	d.raw = raw
	ncol := int(mapping.AppenderColumnCount(raw))
	if ncol != len(d.t.Fields) {
		return fmt.Errorf("duckdb: %s has %d columns, the schema lists %d fields", d.t.Name, ncol, len(d.t.Fields))
	}
	types := make([]mapping.LogicalType, ncol)
	defer func() {
		for i := range types {
			if types[i].Ptr != nil {
				mapping.DestroyLogicalType(&types[i])
			}
		}
	}()
	d.cols = make([]directColumn, ncol)
	for i, f := range d.t.Fields {
		lt := mapping.AppenderColumnType(raw, mapping.IdxT(i))
		types[i] = lt
		c := &d.cols[i]
		c.name = f.Name
		switch id := mapping.GetTypeId(lt); {
		case id == mapping.TypeVarchar && mapping.LogicalTypeGetAlias(lt) == "JSON":
			c.kind = kindJSON
		case id == mapping.TypeVarchar:
			c.kind = kindVarchar
		case id == mapping.TypeBoolean:
			c.kind = kindBool
		case id == mapping.TypeInteger:
			c.kind = kindInt32
		case id == mapping.TypeBigInt:
			c.kind = kindInt64
		case id == mapping.TypeDouble:
			c.kind = kindDouble
		case id == mapping.TypeDate:
			c.kind = kindDate
		case id == mapping.TypeTimestamp:
			c.kind = kindTimestamp
		case id == mapping.TypeDecimal:
			c.scale = math.Pow10(int(mapping.DecimalScale(lt)))
			switch mapping.DecimalInternalType(lt) {
			case mapping.TypeBigInt:
				c.kind = kindDecimal64
			case mapping.TypeInteger:
				c.kind = kindDecimal32
			default:
				return fmt.Errorf("duckdb: %s.%s: unsupported decimal width for the appender", d.t.Name, f.Name)
			}
		default:
			return fmt.Errorf("duckdb: %s.%s: unsupported column type %d for the appender", d.t.Name, f.Name, id)
		}
		if c.def, err = fieldDefault(d.t, f); err != nil {
			return err
		}
	}
	d.chunk = mapping.CreateDataChunk(types)
	d.cap = int(mapping.VectorSize())
	d.point(d.chunk)
	return nil
}

// point directs the columns at chunk's vectors.
func (f *filler) point(chunk mapping.DataChunk) {
	mapping.DataChunkSetSize(chunk, mapping.IdxT(f.cap))
	for i := range f.cols {
		v := mapping.DataChunkGetVector(chunk, mapping.IdxT(i))
		mapping.VectorEnsureValidityWritable(v)
		f.cols[i].data = mapping.VectorGetData(v)
		f.cols[i].valid = mapping.VectorGetValidity(v)
	}
}

// fieldDefault returns the value stored for a NULL in f: its Default, ”
// for an optional key field, else nil.
func fieldDefault(t bowtie.Table, f bowtie.Field) (any, error) {
	switch {
	case f.Key && !f.Required:
		return "", nil
	case f.Default != "":
		v, err := parseDefault(f.Default)
		if err != nil {
			return nil, fmt.Errorf("duckdb: %s.%s: %w", t.Name, f.Name, err)
		}
		return v, nil
	}
	return nil, nil
}

// parseDefault turns a column's SQL DEFAULT literal into the Go value the
// appender stores: 'text', true/false, or a number.
func parseDefault(lit string) (any, error) {
	switch {
	case len(lit) >= 2 && lit[0] == '\'' && lit[len(lit)-1] == '\'':
		return strings.ReplaceAll(lit[1:len(lit)-1], "''", "'"), nil
	case strings.EqualFold(lit, "true"):
		return true, nil
	case strings.EqualFold(lit, "false"):
		return false, nil
	}
	if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(lit, 64); err == nil {
		return f, nil
	}
	return nil, fmt.Errorf("default %q is not a literal the appender understands", lit)
}

// add appends one row (values in field order, as bowtie.RowSource says).
func (d *directAppender) add(row []any) error {
	if err := d.fill(row); err != nil {
		return err
	}
	if d.n == d.cap {
		return d.sendChunk()
	}
	return nil
}

// fill writes row into the chunk at row d.n.
func (d *filler) fill(row []any) error {
	if len(row) != len(d.cols) {
		return fmt.Errorf("duckdb: %s row has %d values, want %d", d.t.Name, len(row), len(d.cols))
	}
	r := d.n
	word, bit := r>>6, uint64(1)<<(uint(r)&63)
	for i := range d.cols {
		c := &d.cols[i]
		v := row[i]
		if v == nil {
			v = c.def
		}
		mask := (*uint64)(unsafe.Add(c.valid, word*8))
		if v == nil {
			*mask &^= bit
			continue
		}
		*mask |= bit
		if err := d.set(c, r, v); err != nil {
			return fmt.Errorf("duckdb: %s.%s: %w", d.t.Name, c.name, err)
		}
	}
	d.n++
	return nil
}

func (d *filler) set(c *directColumn, r int, v any) error {
	switch c.kind {
	case kindVarchar, kindJSON:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			s = string(x)
		case json.RawMessage:
			s = string(x)
		default:
			return typeError(v, "text")
		}
		if err := d.check(s, c.kind == kindJSON); err != nil {
			return err
		}
		d.setString(c, r, s)
	case kindTimestamp:
		t, ok := v.(time.Time)
		if !ok {
			return typeError(v, "a time.Time")
		}
		*(*int64)(unsafe.Add(c.data, r*8)) = t.UnixMicro()
	case kindDate:
		t, ok := v.(time.Time)
		if !ok {
			return typeError(v, "a time.Time")
		}
		s := t.Unix()
		days := s / 86400
		if s%86400 < 0 {
			days--
		}
		*(*int32)(unsafe.Add(c.data, r*4)) = int32(days)
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return typeError(v, "a boolean")
		}
		*(*bool)(unsafe.Add(c.data, r)) = b
	case kindInt64, kindInt32:
		n, ok := toInt(v)
		if !ok {
			return typeError(v, "an integer")
		}
		if c.kind == kindInt64 {
			*(*int64)(unsafe.Add(c.data, r*8)) = n
		} else {
			if n < math.MinInt32 || n > math.MaxInt32 {
				return fmt.Errorf("%d is out of range for INTEGER", n)
			}
			*(*int32)(unsafe.Add(c.data, r*4)) = int32(n)
		}
	case kindDouble:
		f, ok := toFloat(v)
		if !ok {
			return typeError(v, "a number")
		}
		*(*float64)(unsafe.Add(c.data, r*8)) = f
	case kindDecimal64, kindDecimal32:
		u, err := scaled(v, c.scale)
		if err != nil {
			return err
		}
		if c.kind == kindDecimal64 {
			*(*int64)(unsafe.Add(c.data, r*8)) = u
		} else {
			if u < math.MinInt32 || u > math.MaxInt32 {
				return fmt.Errorf("%v is out of range for the column", v)
			}
			*(*int32)(unsafe.Add(c.data, r*4)) = int32(u)
		}
	}
	return nil
}

func typeError(v any, want string) error {
	return fmt.Errorf("%T value %v: want %s", v, v, want)
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float32:
		return float64(x), true
	case int32:
		return float64(x), true
	}
	return 0, false
}

// scaled returns v in units of 1/scale, rounded half away from zero (a
// float64 like 12.3456 is 123455.99999999999 units before rounding), as a
// cast from DOUBLE to DECIMAL rounds.
func scaled(v any, scale float64) (int64, error) {
	switch x := v.(type) {
	case int64:
		return checkedScale(float64(x), scale, v)
	case int:
		return checkedScale(float64(x), scale, v)
	case float64:
		return checkedScale(x, scale, v)
	}
	return 0, typeError(v, "a number")
}

func checkedScale(x, scale float64, v any) (int64, error) {
	u := math.Round(x * scale)
	if math.IsNaN(u) || math.Abs(u) >= 1e18 {
		return 0, fmt.Errorf("%v is out of range for DECIMAL(18,4)", v)
	}
	return int64(u), nil
}

// check validates s (UTF-8, and JSON for JSON columns) unless the same
// string was validated recently.
func (d *filler) check(s string, isJSON bool) error {
	if len(s) == 0 {
		if isJSON {
			return fmt.Errorf("empty text is not JSON")
		}
		return nil
	}
	p := unsafe.Pointer(unsafe.StringData(s))
	e := &d.seen[(uintptr(p)>>3^uintptr(len(s)))&uintptr(len(d.seen)-1)]
	if (e.json || !isJSON) && e.s == s {
		return nil
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("text is not valid UTF-8: %q", s)
	}
	if isJSON && !json.Valid([]byte(s)) {
		return fmt.Errorf("malformed JSON: %.80s", s)
	}
	*e = seenString{s: s, json: isJSON}
	return nil
}

// setString writes s as the duckdb_string_t of row r: 4 bytes of length,
// then the string inlined (up to 12 bytes, zero-padded) or a 4-byte prefix
// and a pointer to a copy in the pinned arena.
func (d *filler) setString(c *directColumn, r int, s string) {
	p := unsafe.Add(c.data, r*16)
	n := len(s)
	*(*uint32)(p) = uint32(n)
	b := (*[12]byte)(unsafe.Add(p, 4))
	if n <= 12 {
		copy(b[:], s)
		clear(b[n:])
		return
	}
	copy(b[:4], s)
	buf := d.alloc(n)
	copy(buf, s)
	// Stored as a uintptr: a pointer store would run the GC write barrier,
	// which reads the old value in this C memory as a pointer and may
	// find a stale one into freed Go memory ("found bad pointer in Go
	// heap"). The arena is pinned, so the GC need not see this pointer.
	*(*uintptr)(unsafe.Add(p, 8)) = uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
}

// alloc returns n bytes of pinned memory valid until the chunk is appended.
func (d *filler) alloc(n int) []byte {
	if n > arenaBlock/4 {
		b := make([]byte, n)
		d.pins.pin(unsafe.SliceData(b))
		d.bigs = append(d.bigs, b)
		return b
	}
	for {
		if d.block < len(d.blocks) {
			if blk := d.blocks[d.block]; d.used+n <= len(blk) {
				out := blk[d.used : d.used+n : d.used+n]
				d.used += n
				return out
			}
			d.block++
			d.used = 0
			continue
		}
		b := make([]byte, arenaBlock)
		d.pins.pin(unsafe.SliceData(b))
		d.blocks = append(d.blocks, b)
	}
}

// sendChunk hands the filled rows to DuckDB and starts an empty chunk.
func (d *directAppender) sendChunk() error {
	if d.n == 0 {
		return nil
	}
	mapping.DataChunkSetSize(d.chunk, mapping.IdxT(d.n))
	state := mapping.AppendDataChunk(d.raw, d.chunk)
	d.reset()
	mapping.DataChunkReset(d.chunk)
	d.point(d.chunk)
	if state == mapping.StateError {
		return d.error()
	}
	return nil
}

// reset empties the chunk and the arena once DuckDB has copied the rows.
func (f *filler) reset() {
	f.n = 0
	f.block, f.used = 0, 0
	clear(f.bigs)
	f.bigs = f.bigs[:0]
}

// pinSet pins the arena blocks of one or more fillers (DuckDB threads of
// one Append write share one) until unpin.
type pinSet struct {
	mu sync.Mutex
	p  runtime.Pinner
}

func (s *pinSet) pin(p *byte) {
	s.mu.Lock()
	s.p.Pin(p)
	s.mu.Unlock()
}

func (s *pinSet) unpin() {
	s.mu.Lock()
	s.p.Unpin()
	s.mu.Unlock()
}

// flush appends the pending rows and flushes the appender into the
// connection's transaction.
func (d *directAppender) flush() error {
	if err := d.sendChunk(); err != nil {
		return err
	}
	if mapping.AppenderFlush(d.raw) == mapping.StateError {
		return d.error()
	}
	return nil
}

// error returns the appender's error: *bowtie.Error with EINVALID for a
// constraint violation, as the staging path reports it.
func (d *directAppender) error() error {
	ed := mapping.AppenderErrorData(d.raw)
	defer mapping.DestroyErrorData(&ed)
	msg := mapping.ErrorDataMessage(ed)
	if mapping.ErrorDataErrorType(ed) == mapping.ErrorTypeConstraint {
		return bowtie.Errorf(bowtie.EINVALID, "%s: %s", d.t.Name, msg)
	}
	return fmt.Errorf("duckdb: append to %s: %s", d.t.Name, msg)
}

// close drops pending rows that were not flushed, and releases the
// appender. Call flush first to keep them.
func (d *directAppender) close() {
	if d.app == nil {
		return
	}
	d.n = 0
	// The duckdb-go Appender's Close flushes what DuckDB buffered (rows
	// of sendChunk not flushed yet): callers roll the transaction back
	// when they do not want them.
	d.app.Close()
	d.app = nil
	mapping.DestroyDataChunk(&d.chunk)
	d.pins.unpin()
	d.blocks, d.bigs = nil, nil
}
