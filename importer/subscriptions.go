package importer

import (
	"fmt"
	"time"
)

// The checks of subscription segments that span rows: a segment must end
// after it starts, and the segments of one subscription_id in a file must
// not overlap (docs/import.md, "Subscriptions"). Segments already in the
// store are not read here: the store checks the imported segments against
// them when the import commits (duckdb/checks.go), and refuses the whole
// import on an overlap.

// segment is one accepted subscription segment: [from, to), to zero while
// it runs.
type segment struct {
	from, to time.Time
	line     int
}

// overlaps reports whether s and o share an instant.
func (s segment) overlaps(o segment) bool {
	return (o.to.IsZero() || s.from.Before(o.to)) && (s.to.IsZero() || o.from.Before(s.to))
}

// subscriptionSegments checks the subscription rows of one record against
// each other and against the segments accepted so far, and returns the
// errors and the segments to remember once the record is accepted.
func (r *run) subscriptionSegments(line int, outs []*Out, rows [][]any) ([]RowError, map[string][]segment) {
	var errs []RowError
	var add map[string][]segment
	for i, o := range outs {
		if o.table.t.Name != "subscriptions" {
			continue
		}
		idx := o.table.fieldIdx
		id, _ := rows[i][idx["subscription_id"]].(string)
		from, _ := rows[i][idx["valid_from"]].(time.Time)
		to, _ := rows[i][idx["valid_to"]].(time.Time)
		if !to.IsZero() && to.Before(from) {
			errs = append(errs, RowError{File: r.file, Line: line, Field: "valid_to",
				Reason: fmt.Sprintf("%s is before valid_from %s: a segment must end after it starts", r.stamp(to), r.stamp(from))})
			continue
		}
		s := segment{from: from, to: to, line: line}
		clash := func(o segment) bool {
			if !s.overlaps(o) || o.from.Equal(s.from) { // an equal start is a duplicate key, reported as such
				return false
			}
			where := fmt.Sprintf("on line %d", o.line)
			if o.line == line {
				where = "of the same record"
			}
			errs = append(errs, RowError{File: r.file, Line: line, Field: "valid_from",
				Reason: fmt.Sprintf("subscription %s: segment [%s, %s) overlaps the segment [%s, %s) %s: a subscription is in one state at a time",
					id, r.stamp(s.from), r.stampTo(s.to), r.stamp(o.from), r.stampTo(o.to), where)})
			return true
		}
		bad := false
		for _, o := range r.segs[id] {
			if bad = clash(o); bad {
				break
			}
		}
		for _, o := range add[id] {
			if bad || clash(o) {
				bad = true
				break
			}
		}
		if bad {
			continue
		}
		if add == nil {
			add = map[string][]segment{}
		}
		add[id] = append(add[id], s)
	}
	return errs, add
}

// keepSegments remembers the segments of an accepted record.
func (r *run) keepSegments(add map[string][]segment) {
	if len(add) == 0 {
		return
	}
	if r.segs == nil {
		r.segs = map[string][]segment{}
	}
	for id, ss := range add {
		r.segs[id] = append(r.segs[id], ss...)
	}
}

// stamp writes a segment bound in the import's time zone (as the file
// gave it): a date, or a date and time when it has one.
func (r *run) stamp(t time.Time) string {
	if r.loc != nil {
		t = t.In(r.loc)
	}
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format(time.DateOnly)
	}
	return t.Format("2006-01-02 15:04:05")
}

func (r *run) stampTo(t time.Time) string {
	if t.IsZero() {
		return "open"
	}
	return r.stamp(t)
}
