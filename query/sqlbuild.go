package query

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bowtie-analytics/bowtie"
)

// This file is the only place where values become SQL text; the package
// comment (doc.go) states the rule.

// params collects the values of a query's placeholders, so that no user
// value is ever spliced into SQL text. Each named value gets one numbered
// placeholder ($1, $2, ...) however often the SQL uses it.
type params struct {
	names map[string]int
	args  []any
}

// p returns the placeholder for the value registered under name, adding it
// on first use.
func (ps *params) p(name string, v any) string {
	if ps.names == nil {
		ps.names = map[string]int{}
	}
	if i, ok := ps.names[name]; ok {
		return fmt.Sprintf("$%d", i)
	}
	ps.args = append(ps.args, v)
	ps.names[name] = len(ps.args)
	return fmt.Sprintf("$%d", len(ps.args))
}

// list returns a parenthesised placeholder list for the values.
func (ps *params) list(name string, vs []string) string {
	if len(vs) == 0 {
		return "(NULL)"
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = ps.p(fmt.Sprintf("%s_%d", name, i), v)
	}
	return "(" + strings.Join(out, ", ") + ")"
}

// checkText refuses a user string that no query can carry: NUL bytes
// (the engine's C API ends the query text at the first NUL, and no stored
// name holds one) and invalid UTF-8 (the engine refuses it). what names the field in
// the *bowtie.Error (EINVALID).
func checkText(what, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return bowtie.Errorf(bowtie.EINVALID, "%s: contains a NUL byte", what)
	}
	if !utf8.ValidString(s) {
		return bowtie.Errorf(bowtie.EINVALID, "%s: is not valid UTF-8", what)
	}
	return nil
}

// stringLiteral returns s as an SQL string literal, for the few places
// where the engine must see a constant rather than a parameter (see
// doc.go). Single quotes are doubled and nothing else changes: in a
// standard SQL string (not E'...') a backslash is an ordinary character,
// and no other character ends the literal. Strings checkText refuses
// give its error, naming the field what.
func stringLiteral(what, s string) (string, error) {
	if err := checkText(what, s); err != nil {
		return "", err
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
}

// timestampLiteral writes t (in UTC, to the microsecond) as a TIMESTAMP
// literal. Its text comes from time formatting only.
func timestampLiteral(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "'"
}

var identPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// ident returns name for use as an SQL identifier when it is one of
// allowed and, as a second guard against a careless allow-list, a plain
// lower-case name that needs no quoting; ok is false otherwise.
func ident(name string, allowed []string) (_ string, ok bool) {
	if !slices.Contains(allowed, name) || !identPattern.MatchString(name) {
		return "", false
	}
	return name, true
}
