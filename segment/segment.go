// Package segment holds the wire types of Segment's tracking API (the
// "Segment spec": track, identify, page, screen, group, alias and batch),
// their decoding and their validation. It does no I/O: package ingest and
// the HTTP server build on it.
//
// Decoding is lenient where real SDKs differ (ids sent as numbers,
// originalTimestamp instead of timestamp, page fields in properties) and
// strict where the spec is: a message without its required fields is
// rejected with a Problem naming the message and the field. So is a value
// bowtie cannot store faithfully: an event time outside [MinEventTime,
// receivedAt+MaxFutureSkew] after the skew correction, a revenue that is
// not a finite number within ±MaxRevenue, a number beyond float64, text
// with NUL, invalid UTF-8 or an unpaired surrogate (check.go,
// docs/ingest.md "Times and values").
package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Segment's documented limits.
const (
	// MaxMessageBytes is the largest accepted message (32 KB).
	MaxMessageBytes = 32 << 10
	// MaxBatchBytes is the largest accepted request body (500 KB).
	MaxBatchBytes = 500 << 10
)

// Message types.
const (
	Track    = "track"
	Identify = "identify"
	Page     = "page"
	Screen   = "screen"
	Group    = "group"
	Alias    = "alias"
)

// Types lists the message types in the order the docs name them.
var Types = []string{Track, Identify, Page, Screen, Group, Alias}

// IsType reports whether t is a message type of the spec.
func IsType(t string) bool {
	for _, x := range Types {
		if x == t {
			return true
		}
	}
	return false
}

// Message is one call of the tracking API. Fields hold what the spec
// defines; Properties and Traits are kept as raw JSON objects.
type Message struct {
	Type        string `json:"type"`
	MessageID   string `json:"messageId"`
	UserID      string `json:"userId"`
	AnonymousID string `json:"anonymousId"`
	// Event is the name of a track call.
	Event string `json:"event"`
	// Name and Category name a page or screen.
	Name     string `json:"name"`
	Category string `json:"category"`
	// GroupID is the account of a group call.
	GroupID string `json:"groupId"`
	// PreviousID is the old id of an alias call.
	PreviousID string `json:"previousId"`
	// Timestamp is when the client says the message happened
	// (originalTimestamp when the client sent that field instead).
	Timestamp time.Time `json:"timestamp"`
	// SentAt is the client's clock when it sent the request; with
	// Timestamp it corrects the client's clock skew (see EventTime).
	SentAt     time.Time       `json:"sentAt"`
	Context    Context         `json:"context"`
	Properties json.RawMessage `json:"properties,omitempty"`
	Traits     json.RawMessage `json:"traits,omitempty"`
	// WriteKey is the key analytics.js puts in the body when it sends no
	// Authorization header.
	WriteKey string `json:"writeKey,omitempty"`

	tsField string // the field Timestamp came from: "timestamp" or "originalTimestamp"
}

// Context is the part of a message's context bowtie reads. Traits holds
// context.traits (SDKs put the user's traits there on every call).
type Context struct {
	IP        string          `json:"ip"`
	UserAgent string          `json:"userAgent"`
	Page      PageContext     `json:"page"`
	Campaign  Campaign        `json:"campaign"`
	Library   Library         `json:"library"`
	GroupID   string          `json:"groupId"`
	Traits    json.RawMessage `json:"traits,omitempty"`
}

// PageContext is context.page (analytics.js fills it on every call).
type PageContext struct {
	URL      string `json:"url"`
	Referrer string `json:"referrer"`
	Path     string `json:"path"`
	Search   string `json:"search"`
	Title    string `json:"title"`
}

// Campaign is context.campaign: the UTM parameters of the visit.
type Campaign struct {
	Name    string `json:"name"`
	Source  string `json:"source"`
	Medium  string `json:"medium"`
	Term    string `json:"term"`
	Content string `json:"content"`
}

// Library names the SDK that sent the message.
type Library struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Problem is one reason a request was refused: which message (Index is its
// position in the batch, 0 for a single call, -1 for the request as a
// whole), which field and why.
type Problem struct {
	Index  int    `json:"index"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
	// TooLarge marks a size limit, answered with 413 rather than 400.
	TooLarge bool `json:"-"`
}

func (p Problem) String() string {
	if p.Field == "" {
		return fmt.Sprintf("message %d: %s", p.Index, p.Reason)
	}
	return fmt.Sprintf("message %d: %s: %s", p.Index, p.Field, p.Reason)
}

// Request is a decoded request body: its messages and the problems found.
// A request with any problem must be refused as a whole.
type Request struct {
	Messages []Message
	Problems []Problem
	// WriteKey is the writeKey of the body (batch level or, for a single
	// call, the message's), for clients that send no Authorization header.
	WriteKey string
}

// TooLarge reports whether one of r's problems is a size limit.
func (r *Request) TooLarge() bool {
	for _, p := range r.Problems {
		if p.TooLarge {
			return true
		}
	}
	return false
}

// Decode is DecodeAt with the request received now.
func Decode(typ string, body []byte) *Request {
	return DecodeAt(typ, body, time.Now())
}

// DecodeAt decodes the body of a call to /v1/<typ> received at receivedAt:
// typ is a message type, or "batch" for /v1/batch. It never fails: what is
// wrong is listed in the returned Request's Problems, each bad message
// once per reason, up to 100. Besides the spec's required fields it
// refuses values bowtie cannot store faithfully (checkValues), a revenue
// that is not a finite number within ±MaxRevenue or comes with an unknown
// currency, and event times outside [MinEventTime,
// receivedAt+MaxFutureSkew] (Message.CheckTime).
func DecodeAt(typ string, body []byte, receivedAt time.Time) *Request {
	r := &Request{}
	// A UTF-8 byte-order mark (some HTTP clients write one) is not JSON:
	// RFC 8259 §8.1 lets a parser ignore it, and bowtie does.
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if len(body) > MaxBatchBytes {
		r.problem(-1, "", fmt.Sprintf("the request is %d bytes; the limit is %d (500 KB): send smaller batches", len(body), MaxBatchBytes), true)
		return r
	}
	if typ == "batch" {
		decodeBatch(r, body, receivedAt)
		return r
	}
	if !IsType(typ) {
		r.problem(-1, "", fmt.Sprintf("unknown call %q (use track, identify, page, screen, group, alias or batch)", typ), false)
		return r
	}
	if len(body) > MaxMessageBytes {
		r.problem(0, "", fmt.Sprintf("the message is %d bytes; the limit is %d (32 KB)", len(body), MaxMessageBytes), true)
		return r
	}
	var m Message
	if err := decodeMessage(body, &m); err != nil {
		r.problem(0, "", "malformed JSON: "+err.Error(), false)
		return r
	}
	r.WriteKey = m.WriteKey
	if m.Type == "" {
		m.Type = typ
	} else if m.Type != typ {
		r.problem(0, "type", fmt.Sprintf("%q sent to /v1/%s", m.Type, typ), false)
		return r
	}
	r.add(0, m, body, receivedAt)
	return r
}

func decodeBatch(r *Request, body []byte, receivedAt time.Time) {
	env, err := splitEnvelope(body)
	if err != nil {
		r.problem(-1, "", "malformed JSON: "+err.Error(), false)
		return
	}
	var sentAt flexTime
	if env.sentAt != nil {
		if err := sentAt.UnmarshalJSON(env.sentAt); err != nil {
			r.problem(-1, "sentAt", err.Error(), false)
			return
		}
	}
	if env.writeKey != nil {
		json.Unmarshal(env.writeKey, &r.WriteKey) // a non-string key matches none
	}
	if !env.hasBatch {
		r.problem(-1, "batch", "missing: the body must be {\"batch\": [ ...messages ]}", false)
		return
	}
	r.Messages = make([]Message, 0, len(env.batch))
	for i, raw := range env.batch {
		if len(raw) > MaxMessageBytes {
			r.problem(i, "", fmt.Sprintf("the message is %d bytes; the limit is %d (32 KB)", len(raw), MaxMessageBytes), true)
			continue
		}
		var m Message
		if err := decodeMessage(raw, &m); err != nil {
			r.problem(i, "", "malformed: "+err.Error(), false)
			continue
		}
		if m.SentAt.IsZero() {
			m.SentAt = sentAt.t
		}
		if m.Type == "" {
			r.problem(i, "type", "missing (track, identify, page, screen, group or alias)", false)
			continue
		}
		if !IsType(m.Type) {
			r.problem(i, "type", fmt.Sprintf("unknown type %q (use track, identify, page, screen, group or alias)", m.Type), false)
			continue
		}
		r.add(i, m, raw, receivedAt)
	}
}

// add validates m, decoded from raw, and appends it to r.
func (r *Request) add(i int, m Message, raw []byte, receivedAt time.Time) {
	n := len(r.Problems)
	if m.UserID == "" && m.AnonymousID == "" {
		r.problem(i, "userId", "missing: a message needs userId or anonymousId", false)
	}
	switch m.Type {
	case Track:
		if m.Event == "" {
			r.problem(i, "event", "missing: a track call needs the event name", false)
		}
	case Group:
		if m.GroupID == "" {
			r.problem(i, "groupId", "missing: a group call needs groupId", false)
		}
	case Alias:
		if m.PreviousID == "" {
			r.problem(i, "previousId", "missing: an alias call needs previousId", false)
		}
		if m.UserID == "" {
			r.problem(i, "userId", "missing: an alias call needs userId", false)
		}
	}
	if !isObject(m.Properties) {
		r.problem(i, "properties", "must be a JSON object", false)
	}
	if !isObject(m.Traits) {
		r.problem(i, "traits", "must be a JSON object", false)
	}
	if len(m.MessageID) > 200 {
		r.problem(i, "messageId", "longer than 200 characters", false)
	}
	if field, reason := checkValues(raw); reason != "" {
		r.problem(i, field, reason, false)
	} else if len(r.Problems) == n {
		// The value checks read the properties and traits as objects.
		if field, reason := m.CheckTime(receivedAt); reason != "" {
			r.problem(i, field, reason, false)
		}
		if m.Type == Track {
			if field, reason := checkRevenue(m.Properties); reason != "" {
				r.problem(i, field, reason, false)
			}
		}
		if field, reason := checkCreatedAt(&m, receivedAt); reason != "" {
			r.problem(i, field, reason, false)
		}
	}
	if len(r.Problems) == n {
		r.Messages = append(r.Messages, m)
	}
}

func (r *Request) problem(i int, field, reason string, tooLarge bool) {
	if len(r.Problems) < 100 {
		r.Problems = append(r.Problems, Problem{Index: i, Field: field, Reason: reason, TooLarge: tooLarge})
	} else if tooLarge {
		r.Problems[len(r.Problems)-1].TooLarge = true
	}
}

// isObject reports whether raw is absent, null or a JSON object.
func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null")) || raw[0] == '{'
}

// wireMessage is how a message is read: ids may be numbers, times come in
// several shapes, and originalTimestamp stands in for timestamp.
type wireMessage struct {
	Type              string          `json:"type"`
	MessageID         flexString      `json:"messageId"`
	UserID            flexString      `json:"userId"`
	AnonymousID       flexString      `json:"anonymousId"`
	Event             flexString      `json:"event"`
	Name              flexString      `json:"name"`
	Category          flexString      `json:"category"`
	GroupID           flexString      `json:"groupId"`
	PreviousID        flexString      `json:"previousId"`
	Timestamp         flexTime        `json:"timestamp"`
	OriginalTimestamp flexTime        `json:"originalTimestamp"`
	SentAt            flexTime        `json:"sentAt"`
	Context           *wireContext    `json:"context"`
	Properties        json.RawMessage `json:"properties"`
	Traits            json.RawMessage `json:"traits"`
	WriteKey          string          `json:"writeKey"`
}

// wireContext is context as read: the ids in it may be numbers too.
type wireContext struct {
	IP        string          `json:"ip"`
	UserAgent string          `json:"userAgent"`
	Page      PageContext     `json:"page"`
	Campaign  Campaign        `json:"campaign"`
	Library   Library         `json:"library"`
	GroupID   flexString      `json:"groupId"`
	Traits    json.RawMessage `json:"traits"`
}

func decodeMessage(raw []byte, m *Message) error {
	var w wireMessage
	if !validJSON(raw) || !decodeFast(raw, &w) {
		// Malformed, or a shape decodeFast leaves to encoding/json.
		w = wireMessage{}
		if err := json.Unmarshal(raw, &w); err != nil {
			return err
		}
	}
	*m = Message{
		Type: strings.ToLower(strings.TrimSpace(w.Type)), MessageID: string(w.MessageID),
		UserID: string(w.UserID), AnonymousID: string(w.AnonymousID), Event: string(w.Event),
		Name: string(w.Name), Category: string(w.Category), GroupID: string(w.GroupID),
		PreviousID: string(w.PreviousID), Timestamp: w.Timestamp.t, SentAt: w.SentAt.t,
		Properties: w.Properties, Traits: w.Traits, WriteKey: w.WriteKey,
	}
	if !m.Timestamp.IsZero() {
		m.tsField = "timestamp"
	} else if m.Timestamp = w.OriginalTimestamp.t; !m.Timestamp.IsZero() {
		m.tsField = "originalTimestamp"
	}
	if c := w.Context; c != nil {
		m.Context = Context{IP: c.IP, UserAgent: c.UserAgent, Page: c.Page, Campaign: c.Campaign,
			Library: c.Library, GroupID: string(c.GroupID), Traits: c.Traits}
	}
	return nil
}

// flexString is a string that may arrive as a JSON number (some SDKs send
// numeric user ids) or null.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(strings.TrimSpace(v))
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		if _, err := strconv.ParseFloat(string(b), 64); err != nil {
			return fmt.Errorf("%s is not a string or a number", b)
		}
		*s = flexString(b)
	default:
		return fmt.Errorf("%.40s is not a string or a number", b)
	}
	return nil
}

// flexTime is an ISO 8601 time with or without zone and fraction; null and
// "" are the zero time.
type flexTime struct{ t time.Time }

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700"}

func (f *flexTime) UnmarshalJSON(b []byte) error {
	var s string
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '"') < 0 {
		var ok bool
		if s, ok = unquote(b); !ok {
			return fmt.Errorf("a time must be an ISO 8601 string")
		}
	} else if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a time must be an ISO 8601 string")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	for _, l := range timeLayouts {
		t, err := time.Parse(l, s)
		if err == nil {
			if t.Year() < 1970 || t.Year() > 9999 {
				return fmt.Errorf("time %q is out of range", s)
			}
			f.t = t.UTC()
			return nil
		}
		// The layout fits but a field does not exist (February 31,
		// hour 25): say which, not "not ISO 8601".
		var pe *time.ParseError
		if errors.As(err, &pe) && strings.Contains(pe.Message, "out of range") {
			return fmt.Errorf("time %q does not exist%s", s, pe.Message)
		}
	}
	return fmt.Errorf("time %q is not ISO 8601 (e.g. 2024-05-01T12:00:00.000Z)", s)
}

// EventTime is when m happened, corrected for the client's clock skew as
// Segment's spec does: with both a timestamp and sentAt, the client's clock
// is off by sentAt - receivedAt, so the event time is
// receivedAt - (sentAt - timestamp). Without sentAt the timestamp is taken
// as it is; without a timestamp the event happened when it was received.
func (m *Message) EventTime(receivedAt time.Time) time.Time {
	switch {
	case m.Timestamp.IsZero():
		return receivedAt
	case m.SentAt.IsZero():
		return m.Timestamp
	}
	return receivedAt.Add(-m.SentAt.Sub(m.Timestamp))
}
