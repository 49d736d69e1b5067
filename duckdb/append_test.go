package duckdb

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// appendModes runs f with a function that stores rows of a table in
// Append mode through Store.Write (the parallel table-function path) and
// through a Batch (the direct appender).
func appendModes(t *testing.T, f func(t *testing.T, write func(s *Store, tab bowtie.Table, rows ...[]any) error)) {
	ctx := context.Background()
	t.Run("Write", func(t *testing.T) {
		f(t, func(s *Store, tab bowtie.Table, rows ...[]any) error {
			_, err := s.Write(ctx, tab, bowtie.Append, func(yield func([]any) error) error {
				for _, r := range rows {
					if err := yield(r); err != nil {
						return err
					}
				}
				return nil
			})
			return err
		})
	})
	t.Run("Batch", func(t *testing.T) {
		f(t, func(s *Store, tab bowtie.Table, rows ...[]any) error {
			b, err := s.Begin(ctx, bowtie.Append)
			if err != nil {
				return err
			}
			defer b.Rollback()
			for _, r := range rows {
				if err := b.Add(tab, r); err != nil {
					return err
				}
			}
			_, err = b.Commit()
			return err
		})
	})
}

// TestAppend_MoneyExact checks that money values are stored exactly: a
// DECIMAL(18,4) column holds an int64 of 1e-4 units, and a float64 must be
// rounded, not truncated, into it.
func TestAppend_MoneyExact(t *testing.T) {
	orders, _ := bowtie.TableByKind("orders")
	ts := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	amounts := []float64{12.3456, 1e9 + 0.5, 0.0001, -7.1, 0.29, 123456789.1234, 1.005}
	want := []string{"12.3456", "1000000000.5000", "0.0001", "-7.1000", "0.2900", "123456789.1234", "1.0050"}
	appendModes(t, func(t *testing.T, write func(*Store, bowtie.Table, ...[]any) error) {
		s := MustOpen(t)
		var rows [][]any
		for i, a := range amounts {
			rows = append(rows, []any{fmt.Sprintf("o%d", i), "c1", ts, a, int64(3), "EUR", nil, nil, nil})
		}
		if err := write(s, orders, rows...); err != nil {
			t.Fatal(err)
		}
		for i := range amounts {
			var amount, margin, status string
			if err := s.DB().QueryRow("SELECT amount::VARCHAR, gross_margin::VARCHAR, status FROM orders WHERE order_id = ?", fmt.Sprintf("o%d", i)).Scan(&amount, &margin, &status); err != nil {
				t.Fatal(err)
			}
			if amount != want[i] || margin != "3.0000" || status != "paid" {
				t.Errorf("amount %v stored as %s (margin %s, status %q), want %s, 3.0000, paid", amounts[i], amount, margin, status, want[i])
			}
		}
	})
}

// TestAppend_Values round-trips every column type, NULLs, defaults and
// strings of every length (inlined, pointed to, longer than an arena block).
func TestAppend_Values(t *testing.T) {
	events, _ := bowtie.TableByKind("events")
	spend, _ := bowtie.TableByKind("spend")
	subs, _ := bowtie.TableByKind("subscriptions")
	ts := time.Date(2024, 3, 1, 10, 0, 0, 123456000, time.UTC)
	long := strings.Repeat("ü€x", 40_000) // 240 kB
	appendModes(t, func(t *testing.T, write func(*Store, bowtie.Table, ...[]any) error) {
		s := MustOpen(t)
		var rows [][]any
		for i := 0; i < 5000; i++ {
			r := make([]any, len(events.Fields))
			r[0], r[1], r[3] = fmt.Sprintf("event-with-a-long-id-%d", i), ts.Add(time.Duration(i)*time.Second), "track"
			if i%3 == 0 {
				r[4] = "short"
				r[16] = fmt.Sprintf("https://example.com/page/%d?q=%s", i, strings.Repeat("z", i%50))
				r[18], r[19] = float64(i)+0.25, "EUR"
				r[20] = fmt.Sprintf(`{"i":%d,"s":"%s"}`, i, strings.Repeat("é", i%20))
			}
			if i == 4999 {
				r[15] = long
			}
			rows = append(rows, r)
		}
		if err := write(s, events, rows...); err != nil {
			t.Fatal(err)
		}
		var n, named, nulls int
		var rev, sumLen float64
		var maxTS time.Time
		if err := s.DB().QueryRow(`SELECT count(*), count(name), count(*) FILTER (WHERE url IS NULL AND revenue IS NULL AND properties IS NULL),
			sum(revenue)::DOUBLE, sum(length(id) + coalesce(length(url), 0) + coalesce(length(properties::VARCHAR), 0))::DOUBLE, max(ts) FROM events`).Scan(&n, &named, &nulls, &rev, &sumLen, &maxTS); err != nil {
			t.Fatal(err)
		}
		var wantRev, wantLen float64
		for i, r := range rows {
			wantLen += float64(len([]rune(r[0].(string))))
			if i%3 == 0 {
				wantRev += float64(i) + 0.25
				wantLen += float64(len([]rune(r[16].(string))) + len([]rune(r[20].(string))))
			}
		}
		if n != 5000 || named != 1667 || nulls != 3333 || rev != wantRev || sumLen != wantLen || !maxTS.Equal(ts.Add(4999*time.Second)) {
			t.Errorf("got %d rows, %d named, %d null, revenue %v, length %v, max ts %v; want 5000, 1667, 3333, %v, %v, %v",
				n, named, nulls, rev, sumLen, maxTS, wantRev, wantLen, ts.Add(4999*time.Second))
		}
		var ref, props string
		s.DB().QueryRow("SELECT referrer FROM events WHERE id = 'event-with-a-long-id-4999'").Scan(&ref)
		s.DB().QueryRow("SELECT properties->>'s' FROM events WHERE id = 'event-with-a-long-id-3'").Scan(&props)
		if ref != long || props != "ééé" {
			t.Errorf("long string of %d bytes read back as %d bytes; properties.s %q", len(long), len(ref), props)
		}

		// Dates, integers, booleans, doubles, defaults.
		d := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
		if err := write(s, spend, []any{d, "google", nil, nil, "ag", nil, int64(1000), 7, 12.5, "USD", 3.25, nil, nil}); err != nil {
			t.Fatal(err)
		}
		var date time.Time
		var campaign, costType string
		var imp, clicks int64
		var conv float64
		if err := s.DB().QueryRow("SELECT date, campaign, cost_type, impressions, clicks, platform_conversions FROM spend").Scan(&date, &campaign, &costType, &imp, &clicks, &conv); err != nil {
			t.Fatal(err)
		}
		if !date.Equal(d) || campaign != "" || costType != "media" || imp != 1000 || clicks != 7 || conv != 3.25 {
			t.Errorf("spend row %v %q %q %d %d %v", date, campaign, costType, imp, clicks, conv)
		}
		if err := write(s, subs, []any{"s1", ts, nil, "c1", "pro", "active", "month", nil, 10.0, nil, 10.0, "EUR", nil}); err != nil {
			t.Fatal(err)
		}
		var ic, q int
		s.DB().QueryRow("SELECT interval_count, quantity FROM subscriptions").Scan(&ic, &q)
		if ic != 1 || q != 1 {
			t.Errorf("defaults: interval_count %d quantity %d, want 1 and 1", ic, q)
		}
	})
}

// TestAppend_Errors checks what an Append write refuses, and that a failed
// write leaves the uncommitted rows out.
func TestAppend_Errors(t *testing.T) {
	orders, _ := bowtie.TableByKind("orders")
	events, _ := bowtie.TableByKind("events")
	ts := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	order := func(id string) []any { return []any{id, "c1", ts, 1.0, nil, "EUR", nil, nil, nil} }
	count := func(s *Store, tab string) int {
		var n int
		s.DB().QueryRow("SELECT count(*) FROM " + tab).Scan(&n)
		return n
	}
	appendModes(t, func(t *testing.T, write func(*Store, bowtie.Table, ...[]any) error) {
		s := MustOpen(t)
		bad := order("o2")
		bad[1] = nil // customer_id is NOT NULL
		if err := write(s, orders, order("o1"), bad); bowtie.ErrorCode(err) != bowtie.EINVALID {
			t.Errorf("NULL customer: err %v, want EINVALID", err)
		}
		if err := write(s, orders, order("o3"), order("o3")); bowtie.ErrorCode(err) != bowtie.EINVALID {
			t.Errorf("duplicate key: err %v, want EINVALID", err)
		}
		wrong := order("o4")
		wrong[3] = "12.5"
		if err := write(s, orders, wrong); err == nil {
			t.Error("a string amount was accepted")
		}
		if err := write(s, orders, []any{"o5"}); err == nil {
			t.Error("a short row was accepted")
		}
		ev := make([]any, len(events.Fields))
		ev[0], ev[1], ev[3], ev[20] = "e1", ts, "track", `{"a":`
		if err := write(s, events, ev); err == nil {
			t.Error("malformed JSON was accepted")
		}
		ev[20], ev[4] = nil, "bad \xff utf-8"
		if err := write(s, events, ev); err == nil {
			t.Error("invalid UTF-8 was accepted")
		}
		if n, m := count(s, "orders"), count(s, "events"); n != 0 || m != 0 {
			t.Errorf("failed writes stored %d orders and %d events", n, m)
		}
	})

	t.Run("SourceError", func(t *testing.T) {
		s := MustOpen(t)
		boom := errors.New("boom")
		_, err := s.Write(context.Background(), orders, bowtie.Append, func(yield func([]any) error) error {
			for i := 0; i < 10_000; i++ {
				if err := yield(order(fmt.Sprint("o", i))); err != nil {
					return err
				}
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		if n := count(s, "orders"); n != 0 {
			t.Errorf("%d rows of the failed chunk stored", n)
		}
	})
}

// TestAppend_Chunks writes more rows than a chunk commit holds, on a file,
// with two writes at the same time.
func TestAppend_Chunks(t *testing.T) {
	defer func(n int64) { appendChunk = n }(appendChunk)
	appendChunk = 5000
	s, err := Open(filepath.Join(t.TempDir(), "chunks.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	events, _ := bowtie.TableByKind("events")
	people, _ := bowtie.TableByKind("people")
	ts := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	const n = 23_456
	var wg sync.WaitGroup
	errs := make([]error, 2)
	counts := make([]int64, 2)
	for w, tab := range []bowtie.Table{events, people} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[w], errs[w] = s.Write(context.Background(), tab, bowtie.Append, func(yield func([]any) error) error {
				row := make([]any, len(tab.Fields))
				for i := 0; i < n; i++ {
					clear(row)
					row[0] = fmt.Sprintf("%s-%d", tab.Name, i)
					if tab.Name == "events" {
						row[1], row[3] = ts, "page"
					}
					if err := yield(row); err != nil {
						return err
					}
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for w, name := range []string{"events", "people"} {
		if errs[w] != nil {
			t.Fatal(errs[w])
		}
		var stored, distinct int64
		if name == "events" {
			s.DB().QueryRow("SELECT count(*), count(DISTINCT id) FROM events").Scan(&stored, &distinct)
		} else {
			s.DB().QueryRow("SELECT count(*), count(DISTINCT person_id) FROM people").Scan(&stored, &distinct)
		}
		if counts[w] != n || stored != n || distinct != n {
			t.Errorf("%s: Write returned %d, stored %d (%d distinct), want %d", name, counts[w], stored, distinct, n)
		}
	}
}

// TestAppend_DriverInternals fails when a duckdb-go upgrade moves the
// unexported fields the appender reaches into.
func TestAppend_DriverInternals(t *testing.T) {
	s := MustOpen(t)
	orders, _ := bowtie.TableByKind("orders")
	conn, err := s.DB().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	d, err := newDirectAppender(conn, orders)
	if err != nil {
		t.Fatal(err)
	}
	d.close()
}

// TestAppend_GCStress writes many chunks of long strings and NULLs while
// the GC runs all the time. The chunks' string pointers live in DuckDB's
// memory: storing them with a GC write barrier made the runtime read stale
// values there as Go pointers and abort ("found bad pointer in Go heap").
func TestAppend_GCStress(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(1))
	s := MustOpen(t)
	events, _ := bowtie.TableByKind("events")
	ts := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	for w := 0; w < 12; w++ {
		_, err := s.Write(context.Background(), events, bowtie.Append, func(yield func([]any) error) error {
			row := make([]any, len(events.Fields))
			for i := 0; i < 6000; i++ {
				clear(row)
				row[0], row[1], row[3] = fmt.Sprintf("a-long-event-id-%d-%d", w, i), ts, "page"
				if (i+w)%2 == 0 {
					row[16] = fmt.Sprintf("https://example.com/%d/%d/%s", w, i, strings.Repeat("p", i%40))
					row[15] = fmt.Sprintf("https://referrer.example/%d", i)
				}
				if err := yield(row); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	s.DB().QueryRow("SELECT count(*) FROM events WHERE url LIKE 'https://example.com/%'").Scan(&n)
	if n != 12*3000 {
		t.Errorf("%d urls, want %d", n, 12*3000)
	}
}

// TestAppend_ResetsSession checks that the connection an Append write used
// goes back to the pool with DuckDB's default insertion order.
func TestAppend_ResetsSession(t *testing.T) {
	s := MustOpen(t)
	s.DB().SetMaxOpenConns(1)
	orders, _ := bowtie.TableByKind("orders")
	ts := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	if _, err := s.Write(context.Background(), orders, bowtie.Append, func(yield func([]any) error) error {
		return yield([]any{"o1", "c1", ts, 1.0, nil, "EUR", nil, nil, nil})
	}); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := s.DB().QueryRow("SELECT current_setting('preserve_insertion_order')::VARCHAR").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "true" {
		t.Errorf("preserve_insertion_order is %s after an Append write", v)
	}
}
