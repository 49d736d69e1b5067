package duckdb

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/ingest"
	"github.com/bowtie-analytics/bowtie/segment"
)

// mustIngester returns an ingester writing to s through an IngestSink,
// closed when the test ends.
func mustIngester(t *testing.T, s *Store, now func() time.Time) *ingest.Ingester {
	t.Helper()
	ctx := context.Background()
	sink, err := s.IngestSink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	biz, _ := bowtie.Preset("b2b")
	in, err := ingest.New(ctx, ingest.Config{Business: biz, Sink: sink, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close(context.Background())
		sink.Close()
	})
	return in
}

func submit(t *testing.T, in *ingest.Ingester, typ, body string, recv time.Time) {
	t.Helper()
	r := segment.Decode(typ, []byte(body))
	if len(r.Problems) > 0 {
		t.Fatalf("decode: %v", r.Problems)
	}
	if err := in.Submit(context.Background(), "web", r.Messages, recv, len(body), "198.51.100.23"); err != nil {
		t.Fatal(err)
	}
}

func TestIngestSink_Write(t *testing.T) {
	s := MustOpen(t)
	recv := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	in := mustIngester(t, s, func() time.Time { return recv })
	submit(t, in, "batch", `{"batch":[
		{"type":"page","messageId":"p1","anonymousId":"anon-1","name":"Pricing","timestamp":"2025-03-01T12:00:30Z","sentAt":"2025-03-01T12:01:00Z",
		 "context":{"page":{"url":"https://ex.test/pricing?utm_source=linkedin&utm_medium=paid-social&utm_campaign=q1&li_fat_id=LF1","referrer":"https://www.linkedin.com/"},"ip":"203.0.113.77","userAgent":"Mozilla/5.0"}},
		{"type":"identify","messageId":"i1","anonymousId":"anon-1","userId":"u-1","traits":{"email":" Ann@Example.com ","title":"Engineer","plan":"pro"}},
		{"type":"group","messageId":"g1","userId":"u-1","groupId":"acme","traits":{"name":"Acme GmbH","industry":"Machinery","employees":"250","website":"https://www.acme.test"}},
		{"type":"track","messageId":"t1","userId":"u-1","event":"Demo Requested","properties":{"revenue":"99.5","currency":"eur"}},
		{"type":"alias","messageId":"a1","userId":"u-1","previousId":"crm-77"},
		{"type":"identify","messageId":"i2","userId":"u-1","traits":{"plan":"enterprise","seats":5}}
	]}`, recv)
	// A retry of the same batch and a repeated id within a batch are absorbed.
	submit(t, in, "batch", `{"batch":[{"type":"track","messageId":"t1","userId":"u-1","event":"Demo Requested"},
		{"type":"track","messageId":"t2","userId":"u-1","event":"X"},{"type":"track","messageId":"t2","userId":"u-1","event":"X"}]}`, recv)

	db := s.DB()
	var n int
	db.QueryRow("SELECT count(*) FROM events").Scan(&n)
	if n != 7 {
		t.Errorf("%d events, want 7", n)
	}
	var ts, rcv time.Time
	var src, med, camp, click, clickType, channel, props string
	if err := db.QueryRow(`SELECT ts, received_at, utm_source, utm_medium, utm_campaign, click_id_type, click_id, channel, properties::VARCHAR
		FROM events WHERE id = 'p1'`).Scan(&ts, &rcv, &src, &med, &camp, &clickType, &click, &channel, &props); err != nil {
		t.Fatal(err)
	}
	if want := recv.Add(-30 * time.Second); !ts.Equal(want) || !rcv.Equal(recv) {
		t.Errorf("ts %v received %v, want %v and %v", ts, rcv, want, recv)
	}
	if src != "linkedin" || med != "paid-social" || camp != "q1" || clickType != "li_fat_id" || click != "LF1" || channel != "Paid Social" {
		t.Errorf("page: %s %s %s %s %s %s", src, med, camp, clickType, click, channel)
	}
	if props != `{"_ip":"203.0.113.0","_source":"web","_user_agent":"Mozilla/5.0"}` {
		t.Errorf("properties %s", props)
	}
	var emailHash, role, account, pprops string
	if err := db.QueryRow("SELECT email_hash, role, account_id, properties::VARCHAR FROM people WHERE person_id = 'u-1'").Scan(&emailHash, &role, &account, &pprops); err != nil {
		t.Fatal(err)
	}
	if emailHash != ingest.HashEmail("ann@example.com") || role != "Engineer" || account != "acme" || pprops != `{"plan":"enterprise","seats":5,"title":"Engineer"}` {
		t.Errorf("person: %s %s %s %s", emailHash, role, account, pprops)
	}
	var name, industry, domain string
	var employees int
	if err := db.QueryRow("SELECT name, industry, domain, employees FROM accounts WHERE account_id = 'acme'").Scan(&name, &industry, &domain, &employees); err != nil {
		t.Fatal(err)
	}
	if name != "Acme GmbH" || industry != "Machinery" || domain != "acme.test" || employees != 250 {
		t.Errorf("account: %s %s %s %d", name, industry, domain, employees)
	}
	var revenue float64
	var cur string
	db.QueryRow("SELECT revenue, currency FROM events WHERE id = 't1'").Scan(&revenue, &cur)
	if revenue != 99.5 || cur != "EUR" {
		t.Errorf("revenue %v %s", revenue, cur)
	}
	rows, _ := db.Query("SELECT kind || ':' || alias_id || '->' || person_id FROM identities ORDER BY 1")
	var links []string
	for rows.Next() {
		var l string
		rows.Scan(&l)
		links = append(links, l)
	}
	rows.Close()
	if len(links) != 2 || links[0] != "alias:crm-77->u-1" || links[1] != "anonymous:anon-1->u-1" {
		t.Errorf("identities %v", links)
	}
	var emails int
	db.QueryRow("SELECT count(*) FROM events WHERE properties::VARCHAR ILIKE '%example.com%'").Scan(&emails)
	if emails != 0 {
		t.Errorf("%d events keep the e-mail address", emails)
	}
}

// TestIngestSink_DedupeAfterRestart checks that the ids stored before a
// restart are loaded and absorb retries.
func TestIngestSink_DedupeAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "i.duckdb")
	recv := time.Now().UTC()
	body := `{"batch":[{"type":"track","messageId":"m1","userId":"u","event":"e"}]}`
	for i := 0; i < 2; i++ {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sink, err := s.IngestSink(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		biz, _ := bowtie.Preset("b2c")
		in, err := ingest.New(context.Background(), ingest.Config{Business: biz, Sink: sink})
		if err != nil {
			t.Fatal(err)
		}
		submit(t, in, "batch", body, recv)
		in.Close(context.Background())
		sink.Close()
		var n int
		s.DB().QueryRow("SELECT count(*) FROM events").Scan(&n)
		s.Close()
		if n != 1 {
			t.Fatalf("run %d: %d events, want 1", i, n)
		}
	}
}

// TestIngestSink_WriteAtomic checks that a commit that fails half-way
// stores nothing (the appended events roll back with it) and that the sink
// works again afterwards.
func TestIngestSink_WriteAtomic(t *testing.T) {
	s := MustOpen(t)
	sink, err := s.IngestSink(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	ts := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	row := func(id string) []any {
		return []any{id, ts, ts, "track", "e", nil, "u", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, 12.5, "EUR", `{"a":1}`}
	}
	bad := &ingest.Commit{Events: [][]any{row("e1"), row("e2")},
		Accounts: []*ingest.AccountUpdate{{ID: "a", Employees: 1 << 40}}} // over INTEGER
	if err := sink.Write(context.Background(), bad); err == nil {
		t.Fatal("the commit with an impossible head count succeeded")
	}
	var n int
	s.DB().QueryRow("SELECT count(*) FROM events").Scan(&n)
	if n != 0 {
		t.Fatalf("%d events stored by a failed commit", n)
	}
	// A bad event after more than a chunk of good ones (2048 rows): the
	// rows already handed to DuckDB roll back too.
	badRow := &ingest.Commit{}
	for i := range 3000 {
		badRow.Events = append(badRow.Events, row(fmt.Sprintf("b%d", i)))
	}
	badRow.Events[2500][20] = `{"a":` // not JSON
	if err := sink.Write(context.Background(), badRow); err == nil {
		t.Fatal("the commit with malformed properties succeeded")
	}
	s.DB().QueryRow("SELECT count(*) FROM events").Scan(&n)
	if n != 0 {
		t.Fatalf("%d events stored by a failed commit", n)
	}
	if err := sink.Write(context.Background(), &ingest.Commit{Events: [][]any{row("e3")}}); err != nil {
		t.Fatal(err)
	}
	var id string
	var revenue float64
	var props string
	if err := s.DB().QueryRow("SELECT id, revenue, properties::VARCHAR FROM events").Scan(&id, &revenue, &props); err != nil {
		t.Fatal(err)
	}
	if id != "e3" || revenue != 12.5 || props != `{"a":1}` {
		t.Errorf("stored %s %v %s", id, revenue, props)
	}
}

// TestIngestSink_Pipeline sends event-only and identifying batches from
// many goroutines at once, so that groups are appended while others
// commit and identity updates wait for a clean group: every Submit must
// succeed and every message be stored once, with its person.
func TestIngestSink_Pipeline(t *testing.T) {
	s := MustOpen(t)
	in := mustIngester(t, s, nil)
	const clients, rounds = 16, 20
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				var body string
				if (c+r)%3 == 0 {
					body = fmt.Sprintf(`{"batch":[{"type":"identify","messageId":"i-%d-%d","anonymousId":"a-%d","userId":"u-%d","traits":{"plan":"p%d"}},
						{"type":"track","messageId":"t-%d-%d","anonymousId":"a-%d","userId":"u-%d","event":"e"}]}`, c, r, c, c, r, c, r, c, c)
				} else {
					body = fmt.Sprintf(`{"batch":[{"type":"page","messageId":"p-%d-%d","anonymousId":"a-%d"},{"type":"page","messageId":"q-%d-%d","anonymousId":"a-%d"}]}`, c, r, c, c, r, c)
				}
				res := segment.Decode("batch", []byte(body))
				if err := in.Submit(context.Background(), "web", res.Messages, time.Now(), len(body), ""); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var events, ids, people, links int
	s.DB().QueryRow("SELECT count(*), count(DISTINCT id) FROM events").Scan(&events, &ids)
	s.DB().QueryRow("SELECT count(*) FROM people").Scan(&people)
	s.DB().QueryRow("SELECT count(*) FROM identities WHERE kind = 'anonymous'").Scan(&links)
	if events != clients*rounds*2 || ids != events {
		t.Errorf("%d events, %d ids, want %d", events, ids, clients*rounds*2)
	}
	if people != clients || links != clients {
		t.Errorf("%d people, %d anonymous links, want %d", people, links, clients)
	}
}
