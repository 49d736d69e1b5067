package segment

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// envelope is the top level of a /v1/batch body, split without decoding
// the messages: encoding/json would scan the whole body twice before the
// messages are even looked at, a third of the decoding time.
type envelope struct {
	batch    [][]byte // the raw messages
	hasBatch bool     // "batch" is present and not null
	sentAt   []byte   // raw values, nil when absent
	writeKey []byte
}

var errEnvelope = errors.New(`the body must be a JSON object {"batch": [ ...messages ]}`)

// splitEnvelope walks the top-level object of body. The members other than
// the messages are checked to be valid JSON here; each message is checked
// when it is decoded.
func splitEnvelope(body []byte) (*envelope, error) {
	e := &envelope{}
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, errEnvelope
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return e, trailing(body, i+1)
	}
	for {
		if i >= len(body) || body[i] != '"' {
			return nil, fmt.Errorf("offset %d: expected a member name", i)
		}
		end, err := skipString(body, i)
		if err != nil {
			return nil, err
		}
		var key string
		if err := json.Unmarshal(body[i:end], &key); err != nil {
			return nil, fmt.Errorf("offset %d: %v", i, err)
		}
		i = skipSpace(body, end)
		if i >= len(body) || body[i] != ':' {
			return nil, fmt.Errorf("offset %d: expected ':'", i)
		}
		i = skipSpace(body, i+1)
		switch {
		case strings.EqualFold(key, "batch") && i < len(body) && body[i] == '[':
			e.batch, e.hasBatch = e.batch[:0], true
			if i, err = splitArray(body, i, &e.batch); err != nil {
				return nil, err
			}
		default:
			end, err := skipValue(body, i)
			if err != nil {
				return nil, err
			}
			v := body[i:end]
			if !json.Valid(v) {
				return nil, fmt.Errorf("offset %d: invalid value of %q", i, key)
			}
			switch {
			case strings.EqualFold(key, "batch"):
				if string(v) != "null" {
					return nil, fmt.Errorf(`"batch" must be an array of messages`)
				}
				e.batch, e.hasBatch = nil, false
			case strings.EqualFold(key, "sentAt"):
				e.sentAt = v
			case strings.EqualFold(key, "writeKey"):
				e.writeKey = v
			}
			i = end
		}
		i = skipSpace(body, i)
		if i >= len(body) {
			return nil, errors.New("unexpected end of JSON input")
		}
		switch body[i] {
		case ',':
			i = skipSpace(body, i+1)
		case '}':
			return e, trailing(body, i+1)
		default:
			return nil, fmt.Errorf("offset %d: expected ',' or '}'", i)
		}
	}
}

// splitArray appends the raw elements of the array at body[i] to out and
// returns the offset after it.
func splitArray(body []byte, i int, out *[][]byte) (int, error) {
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == ']' {
		return i + 1, nil
	}
	for {
		end, err := skipValue(body, i)
		if err != nil {
			return 0, err
		}
		*out = append(*out, body[i:end])
		i = skipSpace(body, end)
		if i >= len(body) {
			return 0, errors.New("unexpected end of JSON input")
		}
		switch body[i] {
		case ',':
			i = skipSpace(body, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, fmt.Errorf("offset %d: expected ',' or ']'", i)
		}
	}
}

// skipValue returns the end of the JSON value starting at body[i]. It only
// tracks strings and nesting; the value's own validity is checked by
// whoever decodes it.
func skipValue(body []byte, i int) (int, error) {
	if i >= len(body) {
		return 0, errors.New("unexpected end of JSON input")
	}
	switch body[i] {
	case '"':
		return skipString(body, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(body); j++ {
			switch body[j] {
			case '"':
				end, err := skipString(body, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unexpected end of JSON input")
	case ',', '}', ']', ':':
		return 0, fmt.Errorf("offset %d: expected a value", i)
	}
	j := i
	for j < len(body) && !isDelim(body[j]) {
		j++
	}
	return j, nil
}

// skipString returns the end of the string starting at body[i] (a '"').
func skipString(body []byte, i int) (int, error) {
	for j := i + 1; j < len(body); j++ {
		switch body[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("unexpected end of JSON input in a string")
}

func isDelim(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':'
}

func skipSpace(body []byte, i int) int {
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r') {
		i++
	}
	return i
}

func trailing(body []byte, i int) error {
	if i = skipSpace(body, i); i < len(body) {
		return fmt.Errorf("offset %d: data after the top-level object", i)
	}
	return nil
}
