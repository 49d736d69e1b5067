package ingest

import (
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"
)

// queryParams are the page-URL parameters enrichment reads: the utm_*
// parameters and the click ids, each the first value as url.Values.Get
// gives it.
type queryParams struct {
	utm   [5]string // source, medium, campaign, term, content
	click [8]string // in ClickIDs order
	seen  uint16    // bit per parameter: a value (maybe empty) was found
}

var utmKeys = [5]string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

// parseQuery reads the parameters of a raw query as url.ParseQuery does
// (pairs split on '&', a pair with ';' or a bad escape skipped, the first
// value of a key kept), without building a map of all of them.
func parseQuery(q string) queryParams {
	var p queryParams
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if !strings.HasPrefix(k, "utm_") && !strings.ContainsAny(k, "%+") && !isClickKey(k) {
			continue // the common case: a parameter enrichment does not read
		}
		key, err := unescape(k)
		if err != nil {
			continue
		}
		slot := -1
		for i, name := range utmKeys {
			if key == name {
				slot = i
			}
		}
		for i, name := range ClickIDs {
			if key == name {
				slot = len(utmKeys) + i
			}
		}
		if slot < 0 || p.seen&(1<<slot) != 0 {
			continue
		}
		val, err := unescape(v)
		if err != nil {
			continue
		}
		p.seen |= 1 << slot
		if slot < len(utmKeys) {
			p.utm[slot] = val
		} else {
			p.click[slot-len(utmKeys)] = val
		}
	}
	return p
}

func isClickKey(k string) bool {
	for _, c := range ClickIDs {
		if k == c {
			return true
		}
	}
	return false
}

func unescape(s string) (string, error) {
	if !strings.ContainsAny(s, "%+") {
		return s, nil
	}
	return url.QueryUnescape(s)
}

// appendJSONString appends s as json.Marshal writes a string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			v, _ := json.Marshal(s)
			return append(b, v...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// quickURL returns the host and raw query of s as url.Parse does, without
// its allocations, for the plain http(s) URLs that make up nearly all
// traffic; ok is false for anything else (then call url.Parse). Plain: ASCII
// without spaces or controls, an http or https scheme, a host of letters,
// digits, dots and dashes with an optional numeric port, and no '%' in the
// path or fragment (url.Parse checks those escapes; it keeps the query raw).
func quickURL(s string) (host, rawQuery string, ok bool) {
	rest := ""
	switch {
	case len(s) >= 7 && strings.EqualFold(s[:7], "http://"):
		rest = s[7:]
	case len(s) >= 8 && strings.EqualFold(s[:8], "https://"):
		rest = s[8:]
	default:
		return "", "", false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return "", "", false
		}
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host = rest[:end]
	port := false
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case c == ':' && !port:
			port = true
		case c >= '0' && c <= '9':
		case port:
			return "", "", false
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '.', c == '-':
		default:
			return "", "", false
		}
	}
	rest = rest[end:]
	path, frag, _ := strings.Cut(rest, "#")
	if strings.IndexByte(frag, '%') >= 0 {
		return "", "", false
	}
	path, rawQuery, _ = strings.Cut(path, "?")
	if strings.IndexByte(path, '%') >= 0 {
		return "", "", false
	}
	return host, rawQuery, true
}
