package rawscan

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestScan_DriverInternals fails when duckdb-go no longer keeps the C
// connection where connHandle looks for it.
func TestScan_DriverInternals(t *testing.T) {
	db := openDB(t)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error { _, err := connHandle(dc); return err }); err != nil {
		t.Fatal(err)
	}
}

// TestScan reads integers, timestamps, NULLs, short (inline) and long
// strings over many chunks and compares them with database/sql.
func TestScan(t *testing.T) {
	db := openDB(t)
	q := `SELECT i::BIGINT AS i, TIMESTAMP '2024-03-01 10:00:00' + to_seconds(i) AS t,
		CASE WHEN i % 7 = 0 THEN NULL WHEN i % 2 = 0 THEN 's' || i ELSE repeat('long-', 3) || i END AS s,
		CASE WHEN i % 5 = 0 THEN NULL ELSE i * $2 END::BIGINT AS n
		FROM range($1) r(i) ORDER BY i`
	const rows = 10000
	type row struct {
		i, t int64
		s    string
		sv   bool
		n    int64
		nv   bool
	}
	var got []row
	err := Scan(context.Background(), db, q, []any{int64(rows), 3}, func(c *Chunk) error {
		is, _, err := c.Int64(0)
		if err != nil {
			return err
		}
		ts, _, err := c.Int64(1)
		if err != nil {
			return err
		}
		ss, err := c.Strings(2)
		if err != nil {
			return err
		}
		ns, nv, err := c.Int64(3)
		if err != nil {
			return err
		}
		for r := 0; r < c.Len(); r++ {
			got = append(got, row{i: is[r], t: ts[r], s: string(ss.Bytes(r)), sv: ss.Valid(r), n: ns[r], nv: nv.Valid(r)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != rows {
		t.Fatalf("%d rows, want %d", len(got), rows)
	}
	sqlRows, err := db.Query(q, int64(rows), 3)
	if err != nil {
		t.Fatal(err)
	}
	defer sqlRows.Close()
	k := 0
	for sqlRows.Next() {
		var i int64
		var tm time.Time
		var s sql.NullString
		var n sql.NullInt64
		if err := sqlRows.Scan(&i, &tm, &s, &n); err != nil {
			t.Fatal(err)
		}
		g := got[k]
		if g.i != i || g.t != tm.UnixMicro() || g.sv != s.Valid || (s.Valid && g.s != s.String) || g.nv != n.Valid || (n.Valid && g.n != n.Int64) {
			t.Fatalf("row %d: got %+v, want %d %v %v %v", k, g, i, tm, s, n)
		}
		k++
	}
	if k != rows {
		t.Fatalf("database/sql read %d rows", k)
	}
}

func TestScan_Errors(t *testing.T) {
	db := openDB(t)
	noop := func(*Chunk) error { return nil }
	if err := Scan(context.Background(), db, "SELECT * FROM no_such_table", nil, noop); err == nil || !strings.Contains(err.Error(), "no_such_table") {
		t.Errorf("missing table: %v", err)
	}
	if err := Scan(context.Background(), db, "SELECT $1", []any{struct{}{}}, noop); err == nil {
		t.Error("unsupported argument type accepted")
	}
	if err := Scan(context.Background(), db, "SELECT 'x'", nil, func(c *Chunk) error { _, _, err := c.Int64(0); return err }); err == nil {
		t.Error("a VARCHAR column read as BIGINT")
	}
	stop := errors.New("stop")
	if err := Scan(context.Background(), db, "SELECT 1", nil, func(*Chunk) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("callback error: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Scan(ctx, db, "SELECT count(*) FROM range(100000000000) a(i) WHERE i % 7 = 3", nil, noop)
	if err == nil {
		t.Fatal("a cancelled query returned no error")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancellation took %v", d)
	}
}

// TestScanParallel checks that every row arrives once, at its index, with
// the values Scan reads.
func TestScanParallel(t *testing.T) {
	db := openDB(t)
	q := "SELECT i::BIGINT, 'k' || (i % 977) FROM range($1) r(i) ORDER BY i"
	const rows = 50000
	var got []int64
	var keys []string
	seen := make([]int, 3)
	err := ScanParallel(context.Background(), db, q, []any{int64(rows)}, 3, func(slots int) error {
		if slots < rows {
			t.Errorf("%d slots for %d rows", slots, rows)
		}
		got = make([]int64, slots)
		keys = make([]string, slots)
		return nil
	}, func(w int, c *Chunk, first int) error {
		is, _, err := c.Int64(0)
		if err != nil {
			return err
		}
		ks, err := c.Strings(1)
		if err != nil {
			return err
		}
		for r := 0; r < c.Len(); r++ {
			got[first+r] = is[r] + 1 // 0 means never written
			keys[first+r] = string(ks.Bytes(r))
		}
		seen[w] += c.Len()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// In slot order the rows are the result's, in order, with unused slots
	// (0) between chunks.
	next := int64(0)
	for i, v := range got {
		if v == 0 {
			continue
		}
		if v-1 != next || keys[i] != fmt.Sprint("k", next%977) {
			t.Fatalf("slot %d: row %d %q, want row %d", i, v-1, keys[i], next)
		}
		next++
	}
	if next != rows {
		t.Fatalf("%d rows in the slots, want %d", next, rows)
	}
	if seen[0]+seen[1]+seen[2] != rows {
		t.Errorf("workers saw %v rows", seen)
	}
	stop := errors.New("stop")
	err = ScanParallel(context.Background(), db, q, []any{int64(rows)}, 2, func(int) error { return nil }, func(w int, c *Chunk, first int) error {
		if first > 0 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("worker error: %v", err)
	}
}

// Float64 and Int32 read DOUBLE, INTEGER and DATE columns as database/sql
// does, NULLs included.
func TestScan_Float64Int32(t *testing.T) {
	db := openDB(t)
	q := `SELECT CASE WHEN i % 3 = 0 THEN NULL ELSE i / 7.0 - 100 END::DOUBLE AS f,
		CASE WHEN i % 4 = 0 THEN NULL ELSE i - 500 END::INTEGER AS n,
		CASE WHEN i % 5 = 0 THEN NULL ELSE DATE '1960-02-29' + CAST(i * 3 AS INTEGER) END AS d
		FROM range(5000) r(i) ORDER BY i`
	type row struct {
		f      float64
		n, d   int32
		fv, nv bool
		dv     bool
	}
	var got []row
	err := Scan(context.Background(), db, q, nil, func(c *Chunk) error {
		fs, fv, err := c.Float64(0)
		if err != nil {
			return err
		}
		ns, nv, err := c.Int32(1)
		if err != nil {
			return err
		}
		ds, dv, err := c.Int32(2)
		if err != nil {
			return err
		}
		if _, _, err := c.Float64(1); err == nil {
			return errors.New("Float64 read an INTEGER column")
		}
		for r := 0; r < c.Len(); r++ {
			got = append(got, row{fs[r], ns[r], ds[r], fv.Valid(r), nv.Valid(r), dv.Valid(r)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	k := 0
	for ; rows.Next(); k++ {
		var f sql.NullFloat64
		var n sql.NullInt32
		var d sql.NullTime
		if err := rows.Scan(&f, &n, &d); err != nil {
			t.Fatal(err)
		}
		g := got[k]
		days := int32(d.Time.Unix() / 86400)
		if g.fv != f.Valid || g.f != f.Float64 && f.Valid || g.nv != n.Valid || g.n != n.Int32 && n.Valid || g.dv != d.Valid || g.d != days && d.Valid {
			t.Fatalf("row %d: got %+v, want %v %v %v", k, g, f, n, d)
		}
	}
	if k != len(got) || k != 5000 {
		t.Fatalf("%d rows by database/sql, %d by Scan", k, len(got))
	}
}
