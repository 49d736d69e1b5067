package duckdb

import (
	"context"
	"io"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// counts returns the number of rows of each table.
func counts(t *testing.T, s *Store, tables ...string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, name := range tables {
		var n int
		if err := s.DB().QueryRow("SELECT count(*) FROM " + quoteIdent(name)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[name] = n
	}
	return out
}

func stagingTables(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '\\_stage\\_%' ESCAPE '\\'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBatch(t *testing.T) {
	ctx := context.Background()
	people, _ := bowtie.TableByKind("people")
	stages, _ := bowtie.TableByKind("stages")
	orders, _ := bowtie.TableByKind("orders")
	ts := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	person := func(id string) []any {
		r := make([]any, len(people.Fields))
		r[0] = id
		return r
	}
	stage := func(id, st string) []any { return []any{"person", id, st, ts, "test"} }

	t.Run("CommitWritesEveryTable", func(t *testing.T) {
		s := MustOpen(t)
		b, err := s.Begin(ctx, bowtie.Upsert)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"p1", "p2"} {
			if err := b.Add(people, person(id)); err != nil {
				t.Fatal(err)
			}
			if err := b.Add(stages, stage(id, "lead")); err != nil {
				t.Fatal(err)
			}
		}
		b.Add(stages, stage("p1", "mql"))
		n, err := b.Commit()
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int64{"people": 2, "stage_changes": 3}; !reflect.DeepEqual(n, want) {
			t.Errorf("Commit = %v, want %v", n, want)
		}
		if got, want := counts(t, s, "people", "stage_changes"), map[string]int{"people": 2, "stage_changes": 3}; !reflect.DeepEqual(got, want) {
			t.Errorf("stored %v, want %v", got, want)
		}
		if n := stagingTables(t, s); n != 0 {
			t.Errorf("%d staging tables left", n)
		}
		if err := b.Rollback(); err != nil {
			t.Errorf("Rollback after Commit: %v", err)
		}
		if err := b.Add(people, person("p3")); err == nil {
			t.Error("Add after Commit succeeded")
		}
	})

	t.Run("RollbackLeavesStoreUntouched", func(t *testing.T) {
		s := MustOpen(t)
		b, _ := s.Begin(ctx, bowtie.Upsert)
		b.Add(people, person("p1"))
		if _, err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		before := counts(t, s, "people", "stage_changes")
		b, _ = s.Begin(ctx, bowtie.Upsert)
		b.Add(people, person("p2"))
		b.Add(stages, stage("p2", "lead"))
		if err := b.Rollback(); err != nil {
			t.Fatal(err)
		}
		if after := counts(t, s, "people", "stage_changes"); !reflect.DeepEqual(before, after) {
			t.Errorf("rollback changed the store: %v -> %v", before, after)
		}
		if n := stagingTables(t, s); n != 0 {
			t.Errorf("%d staging tables left", n)
		}
	})

	t.Run("ErrConstraintStoresNothing", func(t *testing.T) {
		s := MustOpen(t)
		b, _ := s.Begin(ctx, bowtie.Upsert)
		b.Add(people, person("p1"))
		// An order without its customer breaks NOT NULL when it is moved.
		if err := b.Add(orders, []any{"o1", nil, ts, 10.0, nil, "EUR", "paid", nil, nil}); err != nil {
			t.Fatal(err)
		}
		_, err := b.Commit()
		if bowtie.ErrorCode(err) != bowtie.EINVALID {
			t.Fatalf("Commit err = %v, want EINVALID", err)
		}
		if got := counts(t, s, "people", "orders"); got["people"] != 0 || got["orders"] != 0 {
			t.Errorf("a failed commit stored %v", got)
		}
	})

	t.Run("ErrWrongRowLength", func(t *testing.T) {
		s := MustOpen(t)
		b, _ := s.Begin(ctx, bowtie.Upsert)
		defer b.Rollback()
		if err := b.Add(people, []any{"p1"}); err == nil {
			t.Fatal("a short row was accepted")
		}
	})

	t.Run("UpsertReplacesByKey", func(t *testing.T) {
		s := MustOpen(t)
		for _, role := range []string{"engineer", "manager"} {
			b, _ := s.Begin(ctx, bowtie.Upsert)
			r := person("p1")
			r[3] = role
			b.Add(people, r)
			if _, err := b.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		var role string
		s.DB().QueryRow("SELECT count(*), any_value(role) FROM people").Scan(&n, &role)
		if n != 1 || role != "manager" {
			t.Errorf("got %d people, role %q; want 1, manager", n, role)
		}
	})
}

func TestStore_ApplyChannels(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t)
	b, err := bowtie.Preset("b2c")
	if err != nil {
		t.Fatal(err)
	}
	events, _ := bowtie.TableByKind("events")
	people, _ := bowtie.TableByKind("people")
	ts := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	ev := func(id, source, medium, click, ref, channel string) []any {
		r := make([]any, len(events.Fields))
		r[0], r[1], r[3] = id, ts, "page"
		set := func(i int, v string) {
			if v != "" {
				r[i] = v
			}
		}
		set(8, source)
		set(9, medium)
		set(13, click)
		set(15, ref)
		set(17, channel)
		return r
	}
	person := func(id, source, medium, channel string) []any {
		r := make([]any, len(people.Fields))
		r[0] = id
		if source != "" {
			r[9] = source
		}
		if medium != "" {
			r[10] = medium
		}
		if channel != "" {
			r[8] = channel
		}
		return r
	}
	batch, _ := s.Begin(ctx, bowtie.Upsert)
	for _, r := range [][]any{
		ev("e1", "google", "cpc", "", "", "Unassigned"),                       // -> Paid Search
		ev("e2", "", "", "", "https://www.google.com/search?q=x", ""),         // -> Organic Search
		ev("e3", "", "", "", "https://user@partner.example/path", "Referral"), // unchanged
		ev("e4", "", "", "gclid", "https://www.google.com/", ""),              // -> Paid Search
		ev("e5", "", "", "", "", "Direct"),                                    // unchanged
		ev("e6", "newsletter", "email", "", "", "Email"),                      // unchanged
	} {
		if err := batch.Add(events, r); err != nil {
			t.Fatal(err)
		}
	}
	batch.Add(people, person("p1", "tiktok", "influencer", "Paid Social")) // -> Influencers (a b2c custom rule)
	batch.Add(people, person("p2", "", "", "Offline"))                     // no touch: kept
	if _, err := batch.Commit(); err != nil {
		t.Fatal(err)
	}
	changed, err := s.ApplyChannels(ctx, b.Channel)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"events": 3, "people": 1, "accounts": 0}; !reflect.DeepEqual(changed, want) {
		t.Errorf("changed %v, want %v", changed, want)
	}
	got := map[string]string{}
	rows, _ := s.DB().Query("SELECT id, channel FROM events UNION ALL SELECT person_id, channel FROM people")
	for rows.Next() {
		var id, ch string
		rows.Scan(&id, &ch)
		got[id] = ch
	}
	rows.Close()
	want := map[string]string{"e1": "Paid Search", "e2": "Organic Search", "e3": "Referral", "e4": "Paid Search",
		"e5": "Direct", "e6": "Email", "p1": "Influencers", "p2": "Offline"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("channels %v, want %v", got, want)
	}
	// Applying the same rules again changes nothing.
	changed, err = s.ApplyChannels(ctx, b.Channel)
	if err != nil {
		t.Fatal(err)
	}
	if changed["events"]+changed["people"]+changed["accounts"] != 0 {
		t.Errorf("second apply changed %v", changed)
	}
}

func TestStore_OpenParquet(t *testing.T) {
	s := MustOpen(t)
	p := filepath.Join(t.TempDir(), "spend.parquet")
	if _, err := s.DB().Exec(`COPY (SELECT DATE '2024-03-01' AS date, 'google' AS source, 12.5::DECIMAL(10,2) AS cost,
		NULL::VARCHAR AS campaign, TIMESTAMPTZ '2024-03-01 10:00:00+01' AS ts) TO '` + p + `' (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	rows, err := s.OpenParquet(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if got, want := rows.Columns(), []string{"date", "source", "cost", "campaign", "ts"}; !reflect.DeepEqual(got, want) {
		t.Errorf("columns %v, want %v", got, want)
	}
	if rows.Total() != 1 {
		t.Errorf("total %d, want 1", rows.Total())
	}
	row, err := rows.Next()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"2024-03-01", "google", "12.50", "", "2024-03-01 09:00:00+00"}; !reflect.DeepEqual(row, want) {
		t.Errorf("row %q, want %q", row, want)
	}
	if _, err := rows.Next(); err != io.EOF {
		t.Errorf("after the last row: %v, want io.EOF", err)
	}
	if _, err := s.OpenParquet(context.Background(), filepath.Join(t.TempDir(), "missing.parquet")); bowtie.ErrorCode(err) != bowtie.EINVALID {
		t.Errorf("missing file: %v, want EINVALID", err)
	}
}
