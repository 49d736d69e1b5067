package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bowtie-analytics/bowtie"
)

// The accepted time window and numeric limits of a message (docs/ingest.md,
// "Times and values").
const (
	// MaxFutureSkew is how far after the request's arrival an event time
	// (after the skew correction) may lie: a message that says it happened
	// later is refused.
	MaxFutureSkew = 24 * time.Hour
	// MaxRevenue bounds the absolute value of properties.revenue.
	MaxRevenue = 1e14
)

// MinEventTime is the earliest event time accepted (after the skew
// correction): 2000-01-01T00:00:00Z. Earlier times are a client's broken
// clock, not history worth a default period reaching back decades.
var MinEventTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// minCreatedAt is the earliest createdAt trait accepted (people and
// accounts may well predate 2000).
var minCreatedAt = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// CheckTime returns the field and the reason why m's event time at
// receivedAt (EventTime) is outside the accepted window
// [MinEventTime, receivedAt+MaxFutureSkew]; both are "" when it is inside.
//
// The skew correction receivedAt − (sentAt − timestamp) trusts only the
// difference of two readings of the client's clock, so a clock off by any
// amount (even reset to 1970) is corrected. A sentAt earlier than the
// timestamp (the message sent before it happened) moves the event into
// the future by that much: beyond MaxFutureSkew the message is refused,
// naming sentAt.
func (m *Message) CheckTime(receivedAt time.Time) (field, reason string) {
	ts := m.EventTime(receivedAt)
	tsField := m.tsField
	if tsField == "" {
		tsField = "timestamp"
	}
	corrected := !m.Timestamp.IsZero() && !m.SentAt.IsZero()
	switch {
	case ts.After(receivedAt.Add(MaxFutureSkew)):
		if corrected {
			return "sentAt", fmt.Sprintf("%s is %s before %s %s: the skew-corrected event time receivedAt − (sentAt − timestamp) would be %s, more than 24 hours after the request arrived (%s)",
				fmtTime(m.SentAt), fmtDuration(m.Timestamp.Sub(m.SentAt)), tsField, fmtTime(m.Timestamp), fmtTime(ts), fmtTime(receivedAt))
		}
		return tsField, fmt.Sprintf("%s is more than 24 hours after the request arrived (%s): send the time the event happened, in UTC or with its offset",
			fmtTime(ts), fmtTime(receivedAt))
	case ts.Before(MinEventTime):
		if corrected {
			return tsField, fmt.Sprintf("%s is %s before sentAt %s: the skew-corrected event time receivedAt − (sentAt − timestamp) would be %s, before 2000-01-01",
				fmtTime(m.Timestamp), fmtDuration(m.SentAt.Sub(m.Timestamp)), fmtTime(m.SentAt), fmtTime(ts))
		}
		return tsField, fmt.Sprintf("%s is before 2000-01-01: the earliest event time accepted", fmtTime(ts))
	}
	return "", ""
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// fmtDuration words a (positive) duration in the unit a reader expects.
func fmtDuration(d time.Duration) string {
	switch {
	case d >= 2*365*24*time.Hour:
		return fmt.Sprintf("%.0f years", d.Hours()/24/365.25)
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.0f days", d.Hours()/24)
	}
	return d.Round(time.Second).String()
}

// Revenue reads properties.revenue as bowtie stores it: absent, null and
// "" (or blanks) are no revenue (ok false, no error); a JSON number or a
// string holding one must be finite and within ±MaxRevenue. Anything else
// is an error saying why.
func Revenue(raw json.RawMessage) (v float64, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	s := string(raw)
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false, fmt.Errorf("is not a JSON string")
		}
		if s = strings.TrimSpace(s); s == "" {
			return 0, false, nil
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
	default:
		return 0, false, fmt.Errorf("%.40s is not a number", raw)
	}
	f, perr := strconv.ParseFloat(s, 64)
	switch {
	case perr != nil && math.IsInf(f, 0), math.IsNaN(f), math.IsInf(f, 0):
		return 0, false, fmt.Errorf("%.40s is not a finite number", raw)
	case perr != nil:
		return 0, false, fmt.Errorf("%.40s is not a number", raw)
	case math.Abs(f) > MaxRevenue:
		return 0, false, fmt.Errorf("%.40s is beyond ±1e14", raw)
	}
	return f, true, nil
}

// checkRevenue checks properties.revenue and, with a revenue,
// properties.currency of a track call, as ingest reads them
// (encoding/json: names matched ignoring case, the last of repeated ones).
func checkRevenue(props json.RawMessage) (field, reason string) {
	if len(props) < 2 || !containsFold(props, "revenue") {
		return "", ""
	}
	var p struct {
		Revenue  json.RawMessage `json:"revenue"`
		Currency json.RawMessage `json:"currency"`
	}
	json.Unmarshal(props, &p) // a valid object: the raw fields cannot fail
	_, ok, err := Revenue(p.Revenue)
	if err != nil {
		return "properties.revenue", err.Error()
	}
	if !ok || len(p.Currency) == 0 || string(p.Currency) == "null" {
		return "", ""
	}
	var c string
	if json.Unmarshal(p.Currency, &c) != nil {
		return "properties.currency", fmt.Sprintf("%.40s is not a string: use an ISO 4217 code such as EUR", p.Currency)
	}
	if c = strings.ToUpper(strings.TrimSpace(c)); c != "" && !bowtie.IsCurrency(c) {
		return "properties.currency", fmt.Sprintf("%q is not an ISO 4217 currency code (such as USD, EUR)", c)
	}
	return "", ""
}

// containsFold reports whether b contains the ASCII lower-case word,
// ignoring case.
func containsFold(b []byte, word string) bool {
	for i := 0; i+len(word) <= len(b); i++ {
		if b[i]|0x20 == word[0] && strings.EqualFold(string(b[i:i+len(word)]), word) {
			return true
		}
	}
	return false
}

// checkCreatedAt checks the createdAt trait that ingest reads into
// people.created_at (identify: traits, else context.traits) and
// accounts.created_at (group: traits): a time it can read must lie in
// [1970-01-01, receivedAt+MaxFutureSkew].
func checkCreatedAt(m *Message, receivedAt time.Time) (field, reason string) {
	field = "traits.createdAt"
	traits := m.Traits
	switch m.Type {
	case Identify:
		if t := bytes.TrimSpace(traits); len(t) == 0 || string(t) == "null" {
			traits, field = m.Context.Traits, "context.traits.createdAt"
		}
	case Group:
	default:
		return "", ""
	}
	if !bytes.Contains(traits, []byte(`"createdAt"`)) {
		return "", ""
	}
	var t map[string]json.RawMessage
	if json.Unmarshal(traits, &t) != nil {
		return "", ""
	}
	var s string
	if json.Unmarshal(t["createdAt"], &s) != nil {
		return "", ""
	}
	ct, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	switch {
	case err != nil:
		return "", ""
	case ct.After(receivedAt.Add(MaxFutureSkew)):
		return field, fmt.Sprintf("%s is more than 24 hours after the request arrived (%s)", fmtTime(ct), fmtTime(receivedAt))
	case ct.Before(minCreatedAt):
		return field, fmt.Sprintf("%s is before 1970-01-01", fmtTime(ct))
	}
	return "", ""
}

// checkValues walks the message raw (valid JSON) and returns the path and
// the reason of its first value bowtie cannot store faithfully: a string
// (value or member name) that is not valid UTF-8, holds a NUL character or
// an unpaired UTF-16 surrogate escape, or a number beyond the range of a
// 64-bit float. The path is dotted member names and [index]es
// ("properties.items[2].price"); for a member name, the object's path.
func checkValues(raw []byte) (path, reason string) {
	c := checker{b: raw}
	if _, ok := c.value(skipSpace(raw, 0)); ok {
		return "", ""
	}
	slices.Reverse(c.path)
	return c.pathString(), c.reason
}

// checker walks a value; on the first bad one it records the reason and
// the path (innermost first, added as the walk unwinds: nothing is
// allocated for a good value).
type checker struct {
	b      []byte
	path   []pathElem
	reason string
}

type pathElem struct {
	key   []byte // raw member name, nil for an array element
	index int
}

func (c *checker) pathString() string {
	var sb strings.Builder
	for _, e := range c.path {
		if e.key == nil {
			fmt.Fprintf(&sb, "[%d]", e.index)
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		var k string
		if json.Unmarshal(append(append([]byte{'"'}, e.key...), '"'), &k) != nil || !utf8.ValidString(k) || strings.ContainsRune(k, 0) {
			k = strconv.Quote(string(e.key))
		}
		sb.WriteString(k)
	}
	return sb.String()
}

func (c *checker) value(i int) (int, bool) {
	b := c.b
	if i >= len(b) {
		return i, true
	}
	switch b[i] {
	case '"':
		return c.str(i)
	case '{':
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for i < len(b) {
			end, ok := c.str(i)
			if !ok {
				return 0, false // a bad name: the object's path
			}
			key := b[i+1 : end-1]
			i = skipSpace(b, skipSpace(b, end)+1) // ':'
			if i, ok = c.value(i); !ok {
				c.path = append(c.path, pathElem{key: key})
				return 0, false
			}
			i = skipSpace(b, i)
			if i < len(b) && b[i] == '}' {
				return i + 1, true
			}
			i = skipSpace(b, i+1) // ','
		}
		return i, true
	case '[':
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for k := 0; i < len(b); k++ {
			var ok bool
			if i, ok = c.value(i); !ok {
				c.path = append(c.path, pathElem{index: k})
				return 0, false
			}
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ']' {
				return i + 1, true
			}
			i = skipSpace(b, i+1) // ','
		}
		return i, true
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		j, big := i, false
		for ; j < len(b) && !isDelim(b[j]); j++ {
			big = big || b[j] == 'e' || b[j] == 'E'
		}
		// Only an exponent or more than 300 digits can overflow.
		if big || j-i > 300 {
			if f, err := strconv.ParseFloat(string(b[i:j]), 64); err != nil && math.IsInf(f, 0) {
				c.reason = fmt.Sprintf("%.40s is beyond the range of a 64-bit float (±1.8e308)", b[i:j])
				return 0, false
			}
		}
		return j, true
	}
	// true, false, null
	j := i
	for j < len(b) && !isDelim(b[j]) {
		j++
	}
	return j, true
}

// str checks the (valid JSON) string at b[i] and returns its end.
func (c *checker) str(i int) (int, bool) {
	b := c.b
	for j := i + 1; j < len(b); {
		switch ch := b[j]; {
		case ch == '"':
			return j + 1, true
		case ch < utf8.RuneSelf && ch != '\\':
			j++
		case ch == '\\':
			if j+1 < len(b) && b[j+1] == 'u' {
				r := hex4(b[j+2:])
				switch {
				case r == 0:
					c.reason = "holds a NUL character (\\u0000)"
					return 0, false
				case r >= 0xD800 && r < 0xDC00:
					if len(b) >= j+12 && b[j+6] == '\\' && b[j+7] == 'u' {
						if lo := hex4(b[j+8:]); lo >= 0xDC00 && lo < 0xE000 {
							j += 12
							continue
						}
					}
					c.reason = fmt.Sprintf("holds an unpaired UTF-16 surrogate (\\u%04x): not valid Unicode", r)
					return 0, false
				case r >= 0xDC00 && r < 0xE000:
					c.reason = fmt.Sprintf("holds an unpaired UTF-16 surrogate (\\u%04x): not valid Unicode", r)
					return 0, false
				}
				j += 6
				continue
			}
			j += 2
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size <= 1 {
				c.reason = fmt.Sprintf("is not valid UTF-8 (byte 0x%02x): send text as UTF-8", b[j])
				return 0, false
			}
			j += size
		}
	}
	return len(b), true
}

// hex4 reads the 4 hex digits at the start of b (valid JSON has them).
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, h := range b[:4] {
		r <<= 4
		switch {
		case h >= '0' && h <= '9':
			r |= rune(h - '0')
		case h >= 'a' && h <= 'f':
			r |= rune(h - 'a' + 10)
		case h >= 'A' && h <= 'F':
			r |= rune(h - 'A' + 10)
		default:
			return -1
		}
	}
	return r
}
