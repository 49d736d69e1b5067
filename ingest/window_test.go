package ingest_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/duckdb"
	"github.com/bowtie-analytics/bowtie/ingest"
	"github.com/bowtie-analytics/bowtie/segment"
)

// storeState is what a test compares before and after a refused request:
// every stored row of the tables ingestion writes.
func storeState(t *testing.T, s *duckdb.Store) string {
	t.Helper()
	var out strings.Builder
	for _, q := range []string{
		`SELECT coalesce(string_agg(CAST(e AS VARCHAR), '|' ORDER BY CAST(e AS VARCHAR)), '') FROM events e`,
		`SELECT coalesce(string_agg(CAST(p AS VARCHAR), '|' ORDER BY CAST(p AS VARCHAR)), '') FROM people p`,
		`SELECT coalesce(string_agg(CAST(a AS VARCHAR), '|' ORDER BY CAST(a AS VARCHAR)), '') FROM accounts a`,
		`SELECT coalesce(string_agg(CAST(i AS VARCHAR), '|' ORDER BY CAST(i AS VARCHAR)), '') FROM identities i`,
	} {
		var v string
		if err := s.DB().QueryRow(q).Scan(&v); err != nil {
			t.Fatal(err)
		}
		out.WriteString(v + "\n")
	}
	return out.String()
}

// TestSubmit_RefusedLeavesStore sends, through the decoder and the
// ingester into a real DuckDB store, requests the collection API must
// refuse: each is refused with the message and field named, and the store
// is left exactly as it was.
func TestSubmit_RefusedLeavesStore(t *testing.T) {
	ctx := context.Background()
	s, err := duckdb.Open(filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sink, err := s.IngestSink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	recv := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	biz, _ := bowtie.Preset("b2c")
	in, err := ingest.New(ctx, ingest.Config{Business: biz, Sink: sink, Now: func() time.Time { return recv },
		Sources: []bowtie.Source{{Name: "web", WriteKey: "key-12345"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close(ctx)

	good := `{"type":"track","messageId":"ok","userId":"u","event":"Order Completed","timestamp":"2025-06-01T11:00:00Z","properties":{"revenue":"12.5","currency":"eur"}}`
	r := segment.DecodeAt("batch", []byte(`{"batch":[`+good+`]}`), recv)
	if len(r.Problems) > 0 {
		t.Fatal(r.Problems)
	}
	if err := in.Submit(ctx, "web", r.Messages, recv, 100, ""); err != nil {
		t.Fatal(err)
	}
	before := storeState(t, s)
	if !strings.Contains(before, "12.5") || !strings.Contains(before, "EUR") {
		t.Fatalf("good message stored as %s", before)
	}

	for _, tt := range []struct{ name, msg, field string }{
		{"year 9999", `{"type":"track","messageId":"a","userId":"u","event":"e","timestamp":"9999-12-31T23:59:59Z"}`, "timestamp"},
		{"sentAt 1970", `{"type":"track","messageId":"b","userId":"u","event":"e","timestamp":"2025-06-01T11:59:00Z","sentAt":"1970-01-01T00:00:00Z"}`, "sentAt"},
		{"before 2000", `{"type":"page","messageId":"c","anonymousId":"a","originalTimestamp":"1990-01-01T00:00:00Z"}`, "originalTimestamp"},
		{"revenue 1e400", `{"type":"track","messageId":"d","userId":"u","event":"Order Completed","properties":{"revenue":1e400}}`, "properties.revenue"},
		{"invalid UTF-8", "{\"type\":\"track\",\"messageId\":\"e\",\"userId\":\"u\",\"event\":\"e\",\"properties\":{\"x\":\"\xff\"}}", "properties.x"},
		{"lone surrogate", `{"type":"identify","messageId":"f","userId":"u2","traits":{"name":"\ud800"}}`, "traits.name"},
		{"NUL", `{"type":"track","messageId":"g","userId":"u","event":"a\u0000b"}`, "event"},
		{"createdAt 9999", `{"type":"group","messageId":"h","userId":"u","groupId":"g","traits":{"createdAt":"9999-12-31T00:00:00Z"}}`, "traits.createdAt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A good message first: the request is refused whole.
			body := `{"batch":[{"type":"track","messageId":"ok2","userId":"u","event":"e"},` + tt.msg + `]}`
			r := segment.DecodeAt("batch", []byte(body), recv)
			if len(r.Problems) != 1 || r.Problems[0].Index != 1 || r.Problems[0].Field != tt.field {
				t.Errorf("problems %v, want one on message 1 field %s", r.Problems, tt.field)
			}
			if len(r.Problems) == 0 {
				// What the server would do with an accepted request.
				if err := in.Submit(ctx, "web", r.Messages, recv, len(body), ""); err != nil {
					t.Logf("Submit: %v", err)
				}
			}
			if after := storeState(t, s); after != before {
				t.Errorf("the store changed:\n%s\nthen\n%s", before, after)
			}
		})
	}

	// Submit itself refuses an event time outside the window, whoever
	// decoded the messages.
	for _, m := range []segment.Message{
		{Type: segment.Track, MessageID: "x1", UserID: "u", Event: "e", Timestamp: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{Type: segment.Track, MessageID: "x2", UserID: "u", Event: "e", Timestamp: recv, SentAt: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		err := in.Submit(ctx, "web", []segment.Message{{Type: segment.Track, MessageID: "ok3", UserID: "u", Event: "e"}, m}, recv, 10, "")
		if bowtie.ErrorCode(err) != bowtie.EINVALID || !strings.Contains(err.Error(), "message 1") {
			t.Errorf("Submit %+v = %v, want invalid naming message 1", m, err)
		}
	}
	if after := storeState(t, s); after != before {
		t.Errorf("the store changed:\n%s\nthen\n%s", before, after)
	}
	var maxTS time.Time
	s.DB().QueryRow(`SELECT max(ts) FROM events`).Scan(&maxTS)
	if !maxTS.Equal(time.Date(2025, 6, 1, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("max(ts) = %v", maxTS)
	}
}
