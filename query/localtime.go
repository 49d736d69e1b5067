package query

import (
	"fmt"
	"strings"
	"time"
)

// localTime returns an expression for the UTC timestamp expression ts as
// wall-clock time in loc, valid for instants in [from, to).
//
// Converting every row with the engine's time-zone functions is slow (ICU
// in DuckDB costs more than the rest of a report over 10 M events), and the
// offset of a zone only changes at a few known instants. So the offsets in
// force over [from, to) are read from Go's zone database and the expression
// adds the right one with a CASE over the transition instants. The SQL text
// holds only numbers and timestamps computed here, never user input.
func localTime(d Dialect, ts string, loc *time.Location, from, to time.Time) string {
	type span struct {
		end    time.Time // exclusive; zero for the last span
		offset int
	}
	var spans []span
	for t := from; t.Before(to); {
		_, offset := t.In(loc).Zone()
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			spans = append(spans, span{offset: offset})
			break
		}
		spans = append(spans, span{end: end, offset: offset})
		t = end
	}
	if len(spans) == 0 {
		_, offset := from.In(loc).Zone()
		spans = append(spans, span{offset: offset})
	}
	if len(spans) == 1 {
		if spans[0].offset == 0 {
			return ts
		}
		return d.AddSeconds(ts, fmt.Sprint(spans[0].offset))
	}
	var b strings.Builder
	b.WriteString("CASE")
	for _, s := range spans[:len(spans)-1] {
		fmt.Fprintf(&b, " WHEN %s < %s THEN %d", ts, timestampLiteral(s.end), s.offset)
	}
	fmt.Fprintf(&b, " ELSE %d END", spans[len(spans)-1].offset)
	return d.AddSeconds(ts, b.String())
}
