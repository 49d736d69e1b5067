package query

import (
	"fmt"
	"strings"
)

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
