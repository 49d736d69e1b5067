package segment

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// iso formats t as SDKs send it.
func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// TestDecode_TimeWindow checks that a message whose event time, after the
// skew correction, lies more than MaxFutureSkew after the request arrived
// or before MinEventTime is refused, naming the field; and that normal
// clients (clock skew, offline queues, a device clock reset to 1970) are
// accepted with Segment's correction.
func TestDecode_TimeWindow(t *testing.T) {
	now := time.Now().UTC()
	msg := func(fields string) string { return `{"userId":"u","event":"e"` + fields + `}` }
	for _, tt := range []struct {
		name, body string
		field      string // "" when accepted
		want       time.Time
	}{
		{name: "ErrYear9999", body: msg(`,"timestamp":"9999-12-31T23:59:59Z"`), field: "timestamp"},
		{name: "ErrOriginalTimestamp9999", body: msg(`,"originalTimestamp":"9999-12-31T23:59:59Z"`), field: "originalTimestamp"},
		// sentAt in 1970 with a timestamp of today would move ts to 2076.
		{name: "ErrSentAt1970", body: msg(`,"timestamp":"` + iso(now) + `","sentAt":"1970-01-01T00:00:00Z"`), field: "sentAt"},
		{name: "ErrTomorrowPlus", body: msg(`,"timestamp":"` + iso(now.Add(25*time.Hour)) + `"`), field: "timestamp"},
		{name: "ErrBefore2000", body: msg(`,"timestamp":"1999-12-31T23:59:59Z"`), field: "timestamp"},
		{name: "ErrCorrectedBefore2000", body: msg(`,"timestamp":"1971-01-01T00:00:00Z","sentAt":"` + iso(now) + `"`), field: "timestamp"},
		{name: "OK/slightly ahead", body: msg(`,"timestamp":"` + iso(now.Add(23*time.Hour)) + `"`), want: now.Add(23 * time.Hour)},
		{name: "OK/year 2000", body: msg(`,"timestamp":"2000-01-01T00:00:00Z"`), want: MinEventTime},
		// A device whose clock was reset to 1970: Segment's correction
		// puts the event 5 minutes before the request arrived.
		{name: "OK/clock reset", body: msg(`,"timestamp":"1970-01-01T00:05:00Z","sentAt":"1970-01-01T00:10:00Z"`), want: now.Add(-5 * time.Minute)},
		// An offline queue: sent 30 days after it happened.
		{name: "OK/offline", body: msg(`,"timestamp":"` + iso(now.Add(-30*24*time.Hour)) + `","sentAt":"` + iso(now) + `"`), want: now.Add(-30 * 24 * time.Hour)},
		// receivedAt is the server's: a client's is ignored.
		{name: "OK/client receivedAt", body: msg(`,"receivedAt":"9999-12-31T23:59:59Z"`), want: now},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, typ := range []string{"track", "batch"} {
				body := tt.body
				if typ == "batch" {
					body = `{"batch":[{"type":"track","userId":"u","event":"ok"},` + strings.Replace(body, `{`, `{"type":"track",`, 1) + `]}`
				}
				r := Decode(typ, []byte(body))
				if tt.field == "" {
					if len(r.Problems) > 0 {
						t.Fatalf("%s: %v", typ, r.Problems)
					}
					m := r.Messages[len(r.Messages)-1]
					if got := m.EventTime(now); got.Sub(tt.want).Abs() > 2*time.Second {
						t.Errorf("%s: EventTime %v, want %v", typ, got, tt.want)
					}
					continue
				}
				want := 0
				if typ == "batch" {
					want = 1
				}
				if len(r.Problems) != 1 || r.Problems[0].Index != want || r.Problems[0].Field != tt.field || r.Problems[0].TooLarge {
					t.Fatalf("%s: problems %v, want one on message %d field %s", typ, r.Problems, want, tt.field)
				}
				if len(r.Messages) != want {
					t.Errorf("%s: %d messages accepted", typ, len(r.Messages))
				}
				t.Logf("%s", r.Problems[0])
			}
		})
	}
	// The batch's sentAt applies to messages without their own.
	r := Decode("batch", []byte(`{"sentAt":"1970-01-01T00:00:00Z","batch":[{"type":"track","userId":"u","event":"e","timestamp":"`+iso(now)+`"}]}`))
	if len(r.Problems) != 1 || r.Problems[0].Field != "sentAt" {
		t.Errorf("batch sentAt 1970: %v", r.Problems)
	}
}

// TestDecodeAt checks the window against the given receive time.
func TestDecodeAt(t *testing.T) {
	recv := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"userId":"u","event":"e","timestamp":"2024-05-02T11:59:59Z"}`)
	if r := DecodeAt("track", body, recv); len(r.Problems) != 0 {
		t.Errorf("23:59:59 ahead: %v", r.Problems)
	}
	if r := DecodeAt("track", body, recv.Add(-2*time.Second)); len(r.Problems) != 1 || r.Problems[0].Field != "timestamp" {
		t.Errorf("24:00:01 ahead: %v", r.Problems)
	}
	m := Message{Timestamp: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), SentAt: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)}
	if field, reason := m.CheckTime(recv); field != "sentAt" || !strings.Contains(reason, "2078") {
		t.Errorf("CheckTime = %q %q", field, reason)
	}
}

// badValues are messages with a value bowtie cannot store faithfully: each
// must be refused with the field named. They are also seeds of FuzzDecode.
var badValues = []struct{ body, field string }{
	{`{"userId":"u","event":"e","properties":{"revenue":1e400}}`, "properties.revenue"},
	{`{"userId":"u","event":"e","properties":{"revenue":-1e400,"currency":"EUR"}}`, "properties.revenue"},
	{`{"userId":"u","event":"e","properties":{"revenue":"1e400"}}`, "properties.revenue"},
	{`{"userId":"u","event":"e","properties":{"revenue":"NaN"}}`, "properties.revenue"},
	{`{"userId":"u","event":"e","properties":{"revenue":"Infinity"}}`, "properties.revenue"},
	{`{"userId":"u","event":"e","properties":{"revenue":1e15}}`, "properties.revenue"},
	{`{"userId":"u","event":"e","properties":{"revenue":"ten"}}`, "properties.revenue"},
	{`{"userId":"u","event":"e","properties":{"revenue":true}}`, "properties.revenue"},
	{`{"userId":"u","event":"e","properties":{"revenue":12,"currency":"XYZ"}}`, "properties.currency"},
	{`{"userId":"u","event":"e","properties":{"revenue":12,"currency":7}}`, "properties.currency"},
	{`{"userId":"u","event":"e","properties":{"value":1e400}}`, "properties.value"},
	{`{"userId":"u","event":"e","properties":{"items":[{"price":1},{"quantity":-2e308}]}}`, "properties.items[1].quantity"},
	{`{"userId":"u","event":"e","properties":{"x":"a\u0000b"}}`, "properties.x"},
	{`{"userId":"u","event":"e\u0000x"}`, "event"},
	{`{"userId":"u","event":"e","properties":{"\u0000":1}}`, "properties"},
	{"{\"userId\":\"u\",\"event\":\"e\",\"properties\":{\"x\":\"\xff\xfe\"}}", "properties.x"},
	{"{\"userId\":\"u\",\"event\":\"e\xff\"}", "event"},
	{"{\"userId\":\"u\",\"event\":\"e\",\"context\":{\"page\":{\"title\":\"\xc3\"}}}", "context.page.title"},
	{`{"userId":"u","event":"e","properties":{"x":"\ud800"}}`, "properties.x"},
	{`{"userId":"u","event":"e","properties":{"x":"\udc00\ud800"}}`, "properties.x"},
	{`{"userId":"u","event":"e","context":{"traits":{"n":1e309}}}`, "context.traits.n"},
	{`{"userId":"u","event":"e","context":{"userAgent":"ua\u0000"}}`, "context.userAgent"},
	{`{"type":"identify","userId":"u","traits":{"createdAt":"9999-01-01T00:00:00Z"}}`, "traits.createdAt"},
	{`{"type":"identify","userId":"u","traits":{"employees":1e400}}`, "traits.employees"},
}

// goodValues are accepted as they are.
var goodValues = []string{
	`{"userId":"u","event":"e","properties":{"revenue":99999999999999,"currency":"eur"}}`,
	`{"userId":"u","event":"e","properties":{"revenue":"12.50","currency":" usd "}}`,
	`{"userId":"u","event":"e","properties":{"revenue":null,"currency":"nope"}}`,
	`{"userId":"u","event":"e","properties":{"revenue":"","value":1e-400,"big":1e308}}`,
	`{"userId":"u","event":"e","properties":{"x":"\ud83d\ude00 é \u00e9 \"q\" \\"}}`,
	`{"userId":"u","event":"e","properties":{"currency":"XYZ"}}`,
	`{"type":"page","userId":"u","properties":{"revenue":"n/a"}}`,
	`{"type":"identify","userId":"u","traits":{"createdAt":"1998-01-01T00:00:00Z"}}`,
}

// TestDecode_Values checks that overflowing numbers, NUL characters,
// invalid UTF-8 and lone surrogates are refused with the field named, and
// that the fast and the slow decoder agree on these messages.
func TestDecode_Values(t *testing.T) {
	for _, tt := range badValues {
		typ := Track
		if strings.Contains(tt.body, `"identify"`) {
			typ = Identify
		}
		checkFast(t, []byte(tt.body))
		r := Decode(typ, []byte(tt.body))
		if len(r.Problems) != 1 || r.Problems[0].Field != tt.field || len(r.Messages) != 0 {
			t.Errorf("%q: problems %v, want one on %s", tt.body, r.Problems, tt.field)
			continue
		}
		if reason := r.Problems[0].Reason; !json.Valid([]byte(fmt.Sprintf("%q", reason))) || strings.ContainsRune(reason, 0) {
			t.Errorf("%q: reason %q", tt.body, reason)
		}
		t.Logf("%s", r.Problems[0])
	}
	for _, body := range goodValues {
		typ := Track
		for _, x := range []string{Identify, Page} {
			if strings.Contains(body, `"`+x+`"`) {
				typ = x
			}
		}
		checkFast(t, []byte(body))
		if r := Decode(typ, []byte(body)); len(r.Problems) > 0 {
			t.Errorf("%q: %v", body, r.Problems)
		}
	}
}

func TestRevenue(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		v    float64
		ok   bool
		fail bool
	}{
		{``, 0, false, false}, {`null`, 0, false, false}, {`""`, 0, false, false}, {`" "`, 0, false, false},
		{`12.5`, 12.5, true, false}, {`"12.5"`, 12.5, true, false}, {`-3`, -3, true, false}, {`" 7 "`, 7, true, false},
		{`1e14`, 1e14, true, false}, {`1e400`, 0, false, true}, {`"NaN"`, 0, false, true}, {`"-Inf"`, 0, false, true},
		{`1.5e14`, 0, false, true}, {`"x"`, 0, false, true}, {`[]`, 0, false, true}, {`false`, 0, false, true},
	} {
		v, ok, err := Revenue(json.RawMessage(tt.raw))
		if v != tt.v || ok != tt.ok || (err != nil) != tt.fail {
			t.Errorf("Revenue(%s) = %v %v %v", tt.raw, v, ok, err)
		}
	}
}
