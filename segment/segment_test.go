package segment

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	for _, tt := range []struct {
		name, typ, body string
		want            []Problem // Index, Field only
		tooLarge        bool
		n               int
	}{
		{name: "OK/track", typ: "track", body: `{"userId":"u1","event":"Signed Up","messageId":"m1"}`, n: 1},
		{name: "OK/numeric ids", typ: "identify", body: `{"userId":42,"traits":{"a":1}}`, n: 1},
		{name: "OK/batch", typ: "batch", body: `{"batch":[{"type":"page","anonymousId":"a"},{"type":"alias","userId":"u","previousId":"a"}]}`, n: 2},
		{name: "ErrMalformed", typ: "track", body: `{"userId":`, want: []Problem{{Index: 0}}},
		{name: "ErrNoUser", typ: "page", body: `{"name":"Home"}`, want: []Problem{{Index: 0, Field: "userId"}}},
		{name: "ErrNoEvent", typ: "track", body: `{"userId":"u"}`, want: []Problem{{Index: 0, Field: "event"}}},
		{name: "ErrNoGroupID", typ: "group", body: `{"userId":"u"}`, want: []Problem{{Index: 0, Field: "groupId"}}},
		{name: "ErrAlias", typ: "alias", body: `{"anonymousId":"a"}`, want: []Problem{{Index: 0, Field: "previousId"}, {Index: 0, Field: "userId"}}},
		{name: "ErrTypeMismatch", typ: "track", body: `{"type":"page","userId":"u"}`, want: []Problem{{Index: 0, Field: "type"}}},
		{name: "ErrProperties", typ: "track", body: `{"userId":"u","event":"e","properties":[1]}`, want: []Problem{{Index: 0, Field: "properties"}}},
		{name: "ErrBadTime", typ: "track", body: `{"userId":"u","event":"e","timestamp":"yesterday"}`, want: []Problem{{Index: 0}}},
		{name: "ErrBatchEnvelope", typ: "batch", body: `[{"type":"track"}]`, want: []Problem{{Index: -1}}},
		{name: "ErrBatchMissing", typ: "batch", body: `{}`, want: []Problem{{Index: -1, Field: "batch"}}},
		{name: "ErrBatchItems", typ: "batch", body: `{"batch":[{"type":"track","userId":"u","event":"e"},{"userId":"u"},{"type":"nope","userId":"u"},{"type":"track","anonymousId":"a"}]}`,
			want: []Problem{{Index: 1, Field: "type"}, {Index: 2, Field: "type"}, {Index: 3, Field: "event"}}},
		{name: "ErrMessageTooLarge", typ: "track", body: `{"userId":"u","event":"e","properties":{"x":"` + strings.Repeat("x", MaxMessageBytes) + `"}}`, want: []Problem{{Index: 0}}, tooLarge: true},
		{name: "ErrBatchItemTooLarge", typ: "batch", body: `{"batch":[{"type":"track","userId":"u","event":"e","properties":{"x":"` + strings.Repeat("x", MaxMessageBytes) + `"}}]}`, want: []Problem{{Index: 0}}, tooLarge: true},
		{name: "ErrBatchTooLarge", typ: "batch", body: `{"batch":[` + strings.Repeat(`{"type":"track","userId":"u","event":"e"},`, MaxBatchBytes/40) + `{}]}`, want: []Problem{{Index: -1}}, tooLarge: true},
		{name: "ErrUnknownCall", typ: "purchase", body: `{}`, want: []Problem{{Index: -1}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := Decode(tt.typ, []byte(tt.body))
			if len(r.Problems) != len(tt.want) {
				t.Fatalf("problems %v, want %d", r.Problems, len(tt.want))
			}
			for i, p := range r.Problems {
				if p.Index != tt.want[i].Index || p.Field != tt.want[i].Field || p.Reason == "" {
					t.Errorf("problem %d = %+v, want index %d field %q", i, p, tt.want[i].Index, tt.want[i].Field)
				}
			}
			if r.TooLarge() != tt.tooLarge {
				t.Errorf("TooLarge = %v", r.TooLarge())
			}
			if len(tt.want) == 0 && len(r.Messages) != tt.n {
				t.Errorf("%d messages, want %d", len(r.Messages), tt.n)
			}
		})
	}
}

func TestDecode_Fields(t *testing.T) {
	body := `{"batch":[{"type":"track","userId":"u1","anonymousId":"a1","event":"Order Completed","messageId":"m-1",
		"originalTimestamp":"2024-05-01T12:00:00.000Z","properties":{"revenue":12.5},
		"context":{"ip":"203.0.113.7","userAgent":"UA","groupId":7,"campaign":{"name":"spring","source":"google","medium":"cpc"},
		"page":{"url":"https://x.test/?gclid=abc","referrer":"https://google.com/"}}}],
		"sentAt":"2024-05-01T12:00:10Z","writeKey":"k"}`
	r := Decode("batch", []byte(body))
	if len(r.Problems) > 0 {
		t.Fatal(r.Problems)
	}
	m := r.Messages[0]
	if r.WriteKey != "k" || m.MessageID != "m-1" || m.Context.GroupID != "7" || m.Context.Campaign.Medium != "cpc" ||
		m.Context.Page.URL != "https://x.test/?gclid=abc" || m.Context.IP != "203.0.113.7" {
		t.Errorf("decoded %+v", m)
	}
	// The client's clock is 10 s ahead of the server's: sentAt 12:00:10
	// arrives at 11:59:00 by the server, so the event happened at 11:58:50.
	recv := time.Date(2024, 5, 1, 11, 59, 0, 0, time.UTC)
	if got, want := m.EventTime(recv), time.Date(2024, 5, 1, 11, 58, 50, 0, time.UTC); !got.Equal(want) {
		t.Errorf("EventTime = %v, want %v", got, want)
	}
	var props map[string]float64
	if err := json.Unmarshal(m.Properties, &props); err != nil || props["revenue"] != 12.5 {
		t.Errorf("properties %s", m.Properties)
	}
}

func TestMessage_EventTime(t *testing.T) {
	recv := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := recv.Add(-time.Hour)
	if got := (&Message{}).EventTime(recv); !got.Equal(recv) {
		t.Errorf("no timestamp: %v", got)
	}
	if got := (&Message{Timestamp: ts}).EventTime(recv); !got.Equal(ts) {
		t.Errorf("no sentAt: %v", got)
	}
	if got := (&Message{Timestamp: ts, SentAt: ts.Add(time.Minute)}).EventTime(recv); !got.Equal(recv.Add(-time.Minute)) {
		t.Errorf("skew: %v", got)
	}
}

// FuzzDecode checks that no input makes the decoder panic, that accepted
// messages are valid, and that a request is either accepted or refused.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"batch":[{"type":"track","userId":"u","event":"e","context":{"campaign":{"source":"g"}}}],"sentAt":"2024-01-01T00:00:00Z"}`,
		`{"batch":[{"type":"identify","userId":1,"traits":{"email":"a@b.c"}},{"type":"group","userId":"u","groupId":"g"}]}`,
		`{"batch":[{"type":"alias","userId":"u","previousId":"p"},{"type":"page","anonymousId":"a","timestamp":"2024-01-01 00:00:00"}]}`,
		`{"batch":null}`, `{"batch":[null]}`, `[]`, `{"userId":"u","event":"e"}`, `{"context":null,"userId":-1e9}`,
		`{"timestamp":"0000-01-01T00:00:00Z","userId":"u"}`, "\x00", `{"batch":[{"type":"TRACK","userId":"u","event":"e"}]}`,
	} {
		f.Add("batch", []byte(s))
		f.Add("track", []byte(s))
	}
	f.Add("batch", []byte(`{"batch":[{"type":"page","anonymousId":"a"}],"writeKey":"k","sentAt":null,"x":[1,{"y":"]"}]}`))
	f.Add("batch", []byte(`{"batch":[{"type":"page","anonymousId":"a\"]"}] } x`))
	f.Add("track", []byte(`{"Type":"track","USERID":" u ","userId":null,"event":"e\u00e9","context":{"page":null,"campaign":{"source":"a"},"ip":null},"context":{"campaign":{"name":"n"}},"properties":null,"traits":{"a":[1,"}"]}}`))
	f.Add("track", []byte(`{"userId":"u","event":"e","timestamp":"2024-01-01T00:00:00Z","timestamp":null,"sentAt":"2024-01-01T00:00:01Z","context":null,"\u0074ype":"page"}`))
	f.Add("track", []byte(`{"userId":"u","event":"e","\u212aey":1,"name":"\ud800","context":{"groupId":12.5,"library":{"name":"x","version":1}}}`))
	for _, s := range []string{`-0.5e+3`, `01`, `1.`, `-`, `"\u12g4"`, `"a\x"`, "\"\x01\"", `[1,]`, `{"a" 1}`, `tru`, ` null `, `{"a":[{}],"b":-0}x`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 10000) + strings.Repeat("]", 10000)} {
		f.Add("track", []byte(s))
	}
	for _, v := range badValues {
		f.Add("track", []byte(v.body))
		f.Add("batch", []byte(`{"batch":[`+strings.Replace(v.body, `{`, `{"type":"track",`, 1)+`]}`))
	}
	for _, v := range goodValues {
		f.Add("track", []byte(v))
	}
	f.Add("batch", []byte(`{"sentAt":"1970-01-01T00:00:00Z","batch":[{"type":"track","userId":"u","event":"e","timestamp":"9999-12-31T23:59:59Z"}]}`))
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		// The hand-written validator and message decoder agree with
		// encoding/json.
		if validJSON(body) != json.Valid(body) {
			t.Fatalf("validJSON(%q) = %v, json.Valid %v", body, validJSON(body), json.Valid(body))
		}
		checkFast(t, body)
		var batch struct{ Batch []json.RawMessage }
		if json.Unmarshal(body, &batch) == nil {
			for _, m := range batch.Batch {
				checkFast(t, m)
			}
		}
		recv := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		r := DecodeAt(typ, body, recv)
		if typ == "batch" && len(r.Problems) == 0 {
			// The hand-written envelope splitter agrees with encoding/json.
			if !json.Valid(body) {
				t.Fatalf("accepted invalid JSON %q", body)
			}
			var env struct{ Batch []json.RawMessage }
			if err := json.Unmarshal(body, &env); err != nil || len(env.Batch) != len(r.Messages) {
				t.Fatalf("encoding/json sees %d messages (%v), Decode %d", len(env.Batch), err, len(r.Messages))
			}
		}
		if len(r.Problems) > 0 {
			return
		}
		for _, m := range r.Messages {
			if !IsType(m.Type) || (m.UserID == "" && m.AnonymousID == "") {
				t.Fatalf("accepted an invalid message %+v", m)
			}
			// Accepted times are in the window; values are storable.
			if field, reason := m.CheckTime(recv); reason != "" {
				t.Fatalf("accepted %+v: %s: %s", m, field, reason)
			}
			for _, raw := range []json.RawMessage{m.Properties, m.Traits, m.Context.Traits} {
				if field, reason := checkValues(raw); reason != "" {
					t.Fatalf("accepted %s: %s: %s", raw, field, reason)
				}
			}
		}
	})
}

// checkFast checks that when decodeFast decodes raw, encoding/json decodes
// it too, to the same wireMessage.
func checkFast(t *testing.T, raw []byte) {
	t.Helper()
	if !json.Valid(raw) {
		return
	}
	var fast, slow wireMessage
	if !decodeFast(raw, &fast) {
		return
	}
	if err := json.Unmarshal(raw, &slow); err != nil {
		t.Fatalf("decodeFast accepted %q; encoding/json: %v", raw, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("decodeFast and encoding/json differ on %q:\n%+v\n%+v", raw, fast, slow)
	}
}

// TestDecode_Lenient pins what the collection API accepts that a strict
// reader might not: a UTF-8 byte-order mark before the JSON, a key given
// twice (the last wins, as in JavaScript's JSON.parse, in both decoders),
// a number where an id or name is expected (its decimal text). And an
// impossible date is named as such, not as a format error.
func TestDecode_Lenient(t *testing.T) {
	recv := time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ name, typ, body, event string }{
		{"BOM", "track", "\xef\xbb\xbf" + `{"userId":"u","event":"Signed Up"}`, "Signed Up"},
		{"BOMBatch", "batch", "\xef\xbb\xbf" + `{"batch":[{"type":"track","userId":"u","event":"Signed Up"}]}`, "Signed Up"},
		{"DuplicateKey", "track", `{"userId":"u","event":"First","event":"Last"}`, "Last"},
		{"NumberName", "track", `{"userId":"u","event":5}`, "5"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := DecodeAt(tt.typ, []byte(tt.body), recv)
			if len(r.Problems) > 0 || len(r.Messages) != 1 {
				t.Fatalf("problems %v, %d messages", r.Problems, len(r.Messages))
			}
			if got := r.Messages[0].Event; got != tt.event {
				t.Errorf("event %q, want %q", got, tt.event)
			}
		})
	}
	checkFast(t, []byte(`{"userId":"u","event":"First","event":"Last"}`))

	r := DecodeAt("track", []byte(`{"userId":"u","event":"e","timestamp":"2024-02-31T10:00:00Z"}`), recv)
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0].Reason, `"2024-02-31T10:00:00Z" does not exist: day out of range`) {
		t.Errorf("February 31: %v", r.Problems)
	}
}
