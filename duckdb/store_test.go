package duckdb

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// MustOpen opens an in-memory store and closes it when the test ends.
func MustOpen(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(":memory:")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestSchema_MatchesMetadata checks that the migrations create exactly the
// columns bowtie.Tables describes, in the same order.
func TestSchema_MatchesMetadata(t *testing.T) {
	s := MustOpen(t)
	for _, tab := range bowtie.Tables {
		rows, err := s.DB().Query("SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", tab.Name)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var c string
			rows.Scan(&c)
			got = append(got, c)
		}
		rows.Close()
		want := tab.FieldNames()
		if len(got) != len(want) {
			t.Fatalf("%s: columns %v, metadata %v", tab.Name, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: column %d is %q, metadata says %q", tab.Name, i, got[i], want[i])
			}
		}
	}
}

func TestStore_Write(t *testing.T) {
	ctx := context.Background()
	orders, _ := bowtie.TableByKind("orders")
	ts := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	row := func(id string, amount float64) []any {
		return []any{id, "c1", ts, amount, nil, "EUR", "paid", nil, nil}
	}
	src := func(rows ...[]any) bowtie.RowSource {
		return func(yield func([]any) error) error {
			for _, r := range rows {
				if err := yield(r); err != nil {
					return err
				}
			}
			return nil
		}
	}
	sum := func(s *Store) (n int, total float64) {
		if err := s.DB().QueryRow("SELECT count(*), coalesce(sum(amount), 0)::DOUBLE FROM orders").Scan(&n, &total); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Run("UpsertIsIdempotent", func(t *testing.T) {
		s := MustOpen(t)
		for i := 0; i < 2; i++ {
			if _, err := s.Write(ctx, orders, bowtie.Upsert, src(row("o1", 10.25), row("o2", 5))); err != nil {
				t.Fatal(err)
			}
		}
		if n, total := sum(s); n != 2 || total != 15.25 {
			t.Fatalf("got %d rows summing %v, want 2 and 15.25", n, total)
		}
		// A changed row replaces the stored one.
		s.Write(ctx, orders, bowtie.Upsert, src(row("o1", 20)))
		if n, total := sum(s); n != 2 || total != 25 {
			t.Fatalf("got %d rows summing %v, want 2 and 25", n, total)
		}
	})
	t.Run("ErrSourceLeavesStoreUntouched", func(t *testing.T) {
		s := MustOpen(t)
		s.Write(ctx, orders, bowtie.Upsert, src(row("o1", 1)))
		boom := errors.New("boom")
		_, err := s.Write(ctx, orders, bowtie.Upsert, func(yield func([]any) error) error {
			yield(row("o2", 2))
			yield(row("o1", 99))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		if n, total := sum(s); n != 1 || total != 1 {
			t.Fatalf("store changed: %d rows summing %v", n, total)
		}
	})
	t.Run("EventsDedupeByID", func(t *testing.T) {
		s := MustOpen(t)
		ev, _ := bowtie.TableByKind("events")
		e := make([]any, len(ev.Fields))
		e[0], e[1], e[3] = "m1", ts, "track"
		for i := 0; i < 2; i++ {
			if _, err := s.Write(ctx, ev, bowtie.Upsert, src(e)); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		s.DB().QueryRow("SELECT count(*) FROM events").Scan(&n)
		if n != 1 {
			t.Fatalf("%d events stored, want 1", n)
		}
	})
}

// TestStore_WriteDefaults checks that NULLs in columns with a default are
// stored as the default, whoever writes them.
func TestStore_WriteDefaults(t *testing.T) {
	s := MustOpen(t)
	spend, _ := bowtie.TableByKind("spend")
	row := make([]any, len(spend.Fields))
	row[0], row[1], row[8], row[9] = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "google", 10.0, "EUR"
	if _, err := s.Write(context.Background(), spend, bowtie.Append, func(yield func([]any) error) error { return yield(row) }); err != nil {
		t.Fatal(err)
	}
	var costType, campaign string
	if err := s.DB().QueryRow("SELECT cost_type, campaign FROM spend").Scan(&costType, &campaign); err != nil {
		t.Fatal(err)
	}
	if costType != "media" || campaign != "" {
		t.Fatalf("cost_type %q campaign %q, want media and empty", costType, campaign)
	}
}

// TestMigrate_EventNames checks that migration 2 clears the names of
// identify, group and alias events written before it, and keeps the
// others'.
func TestMigrate_EventNames(t *testing.T) {
	path := t.TempDir() + "/m.duckdb"
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db := s.DB()
	for _, q := range []string{
		`INSERT INTO events (id, ts, type, name) VALUES ('t', TIMESTAMP '2024-03-01', 'track', 'Signed Up'), ('p', TIMESTAMP '2024-03-01', 'page', 'Home'),
			('s', TIMESTAMP '2024-03-01', 'screen', 'Player'), ('i', TIMESTAMP '2024-03-01', 'identify', 'Signed Up'),
			('g', TIMESTAMP '2024-03-01', 'group', 'x'), ('a', TIMESTAMP '2024-03-01', 'alias', 'y')`,
		// As if the file predated migration 2.
		`DELETE FROM schema_migrations WHERE version = 2`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got string
	if err := s.DB().QueryRow(`SELECT string_agg(id || '=' || coalesce(name, '-'), ' ' ORDER BY id) FROM events`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := "a=- g=- i=- p=Home s=Player t=Signed Up"; got != want {
		t.Errorf("events after migration 2: %q, want %q", got, want)
	}
}
