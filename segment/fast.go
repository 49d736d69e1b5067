package segment

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// decodeFast decodes a message that json.Valid accepted into w, by walking
// its bytes once: only the fields of wireMessage are looked at; properties,
// traits and context.traits are kept as slices of raw (no copy, no map).
// It gives up (false) on anything outside the common shapes (a field of
// an unexpected type, a time it cannot parse, ...): decodeMessage then
// decodes the message with encoding/json, which also words the error. When
// it succeeds, w is what json.Unmarshal would give (FuzzDecode compares
// the two).
func decodeFast(raw []byte, w *wireMessage) bool {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	_, ok := walkObject(raw, i, func(key []byte, v []byte) bool {
		switch {
		case keyIs(key, "type"):
			return fastString(v, &w.Type)
		case keyIs(key, "messageId"):
			return w.MessageID.fast(v)
		case keyIs(key, "userId"):
			return w.UserID.fast(v)
		case keyIs(key, "anonymousId"):
			return w.AnonymousID.fast(v)
		case keyIs(key, "event"):
			return w.Event.fast(v)
		case keyIs(key, "name"):
			return w.Name.fast(v)
		case keyIs(key, "category"):
			return w.Category.fast(v)
		case keyIs(key, "groupId"):
			return w.GroupID.fast(v)
		case keyIs(key, "previousId"):
			return w.PreviousID.fast(v)
		case keyIs(key, "timestamp"):
			return w.Timestamp.UnmarshalJSON(v) == nil
		case keyIs(key, "originalTimestamp"):
			return w.OriginalTimestamp.UnmarshalJSON(v) == nil
		case keyIs(key, "sentAt"):
			return w.SentAt.UnmarshalJSON(v) == nil
		case keyIs(key, "context"):
			if v[0] == 'n' {
				w.Context = nil
				return true
			}
			if v[0] != '{' {
				return false
			}
			if w.Context == nil {
				w.Context = &wireContext{}
			}
			return fastContext(v, w.Context)
		case keyIs(key, "properties"):
			w.Properties = v
		case keyIs(key, "traits"):
			w.Traits = v
		case keyIs(key, "writeKey"):
			return fastString(v, &w.WriteKey)
		}
		return true
	})
	return ok
}

func fastContext(raw []byte, c *wireContext) bool {
	_, ok := walkObject(raw, 0, func(key, v []byte) bool {
		switch {
		case keyIs(key, "ip"):
			return fastString(v, &c.IP)
		case keyIs(key, "userAgent"):
			return fastString(v, &c.UserAgent)
		case keyIs(key, "page"):
			return fastStruct(v, func(key, v []byte) bool {
				switch {
				case keyIs(key, "url"):
					return fastString(v, &c.Page.URL)
				case keyIs(key, "referrer"):
					return fastString(v, &c.Page.Referrer)
				case keyIs(key, "path"):
					return fastString(v, &c.Page.Path)
				case keyIs(key, "search"):
					return fastString(v, &c.Page.Search)
				case keyIs(key, "title"):
					return fastString(v, &c.Page.Title)
				}
				return true
			})
		case keyIs(key, "campaign"):
			return fastStruct(v, func(key, v []byte) bool {
				switch {
				case keyIs(key, "name"):
					return fastString(v, &c.Campaign.Name)
				case keyIs(key, "source"):
					return fastString(v, &c.Campaign.Source)
				case keyIs(key, "medium"):
					return fastString(v, &c.Campaign.Medium)
				case keyIs(key, "term"):
					return fastString(v, &c.Campaign.Term)
				case keyIs(key, "content"):
					return fastString(v, &c.Campaign.Content)
				}
				return true
			})
		case keyIs(key, "library"):
			return fastStruct(v, func(key, v []byte) bool {
				switch {
				case keyIs(key, "name"):
					return fastString(v, &c.Library.Name)
				case keyIs(key, "version"):
					return fastString(v, &c.Library.Version)
				}
				return true
			})
		case keyIs(key, "groupId"):
			return c.GroupID.fast(v)
		case keyIs(key, "traits"):
			c.Traits = v
		}
		return true
	})
	return ok
}

// fastStruct decodes v into a struct through member: null leaves it as it
// is, as encoding/json does.
func fastStruct(v []byte, member func(key, v []byte) bool) bool {
	switch v[0] {
	case 'n':
		return true
	case '{':
		_, ok := walkObject(v, 0, member)
		return ok
	}
	return false
}

// walkObject calls member with each member of the (valid) object at
// raw[i]: its raw key without quotes and its raw value. It stops at the
// first false.
func walkObject(raw []byte, i int, member func(key, v []byte) bool) (int, bool) {
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return i + 1, true
	}
	for i < len(raw) {
		end, err := skipString(raw, i)
		if err != nil {
			return 0, false
		}
		key := raw[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 || !isASCII(key) {
			return 0, false // rare: leave such names to encoding/json
		}
		i = skipSpace(raw, end)
		i = skipSpace(raw, i+1) // ':'
		vend, err := skipValue(raw, i)
		if err != nil || i >= len(raw) {
			return 0, false
		}
		if !member(key, raw[i:vend]) {
			return 0, false
		}
		i = skipSpace(raw, vend)
		if i >= len(raw) {
			return 0, false
		}
		if raw[i] == '}' {
			return i + 1, true
		}
		i = skipSpace(raw, i+1) // ','
	}
	return 0, false
}

// keyIs matches an ASCII member name to a field name as encoding/json
// does: exactly, else ignoring case. (walkObject leaves other names to
// encoding/json: a non-ASCII letter may fold to an ASCII one.)
func keyIs(key []byte, name string) bool {
	return len(key) == len(name) && (string(key) == name || strings.EqualFold(string(key), name))
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// fastString sets *dst to the JSON string v; null leaves it unchanged.
// Other types fail.
func fastString(v []byte, dst *string) bool {
	switch v[0] {
	case 'n':
		return true
	case '"':
		s, ok := unquote(v)
		if ok {
			*dst = s
		}
		return ok
	}
	return false
}

// unquote returns the text of the JSON string v; strings with escapes or
// invalid UTF-8 (encoding/json replaces it) are unquoted by encoding/json.
func unquote(v []byte) (string, bool) {
	in := v[1 : len(v)-1]
	if bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
		return string(in), true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

// fast is UnmarshalJSON without re-scanning a plain string.
func (s *flexString) fast(v []byte) bool {
	if v[0] == '"' {
		str, ok := unquote(v)
		if ok {
			*s = flexString(strings.TrimSpace(str))
		}
		return ok
	}
	return s.UnmarshalJSON(v) == nil
}

// maxDepth is encoding/json's nesting limit: json.Valid refuses deeper
// values.
const maxDepth = 10000

// validJSON reports whether b is one JSON value, as json.Valid does
// (FuzzDecode compares them), in one pass without the scanner's per-byte
// state functions.
func validJSON(b []byte) bool {
	i, ok := validValue(b, skipSpace(b, 0), 0)
	return ok && skipSpace(b, i) == len(b)
}

func validValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return validString(b, i)
	case c == '{':
		if depth++; depth > maxDepth {
			return 0, false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return 0, false
			}
			var ok bool
			if i, ok = validString(b, i); !ok {
				return 0, false
			}
			if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
				return 0, false
			}
			if i, ok = validValue(b, skipSpace(b, i+1), depth); !ok {
				return 0, false
			}
			if i = skipSpace(b, i); i >= len(b) {
				return 0, false
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case '}':
				return i + 1, true
			default:
				return 0, false
			}
		}
	case c == '[':
		if depth++; depth > maxDepth {
			return 0, false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = validValue(b, i, depth); !ok {
				return 0, false
			}
			if i = skipSpace(b, i); i >= len(b) {
				return 0, false
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case ']':
				return i + 1, true
			default:
				return 0, false
			}
		}
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return validNumber(b, i)
	}
	return 0, false
}

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return 0, false
}

func validString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			i++
			if i >= len(b) {
				return 0, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 {
					return 0, false
				}
				for _, h := range b[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return 0, false
					}
				}
				i += 4
			default:
				return 0, false
			}
		}
	}
	return 0, false
}

func validNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > start
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	return i, true
}
