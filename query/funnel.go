package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/bowtie-analytics/bowtie"
)

// EventMatch selects events: Event is events.name; Where holds property
// equality filters on events.properties (top-level keys, compared as text).
type EventMatch struct {
	Event string            `json:"event"`
	Where map[string]string `json:"where,omitempty"`
}

// Exclusion voids a conversion attempt in which an event matching it
// happens strictly between the times of steps From and To (1-based; 0
// means the first and the last step).
type Exclusion struct {
	EventMatch
	From int `json:"from"`
	To   int `json:"to"`
}

// EventFunnelRequest asks for an event funnel (docs/metrics.md, "Event
// funnel").
type EventFunnelRequest struct {
	// Steps are the funnel's steps in order; 2 to 20.
	Steps []EventMatch
	// Window is the conversion window from the first step (default 14
	// days; whole seconds, a fraction is dropped); every later step must
	// happen within it.
	Window time.Duration
	// Mode is "ordered" (default: steps in order, other events between
	// allowed), "strict" (each step is the person's very next event) or
	// "any" (steps in any order).
	Mode string
	// Exclusions are exclusion steps.
	Exclusions []Exclusion
	// Unit is "person" (default) or "account": an account is counted at a
	// step when any of its people is.
	Unit string
	// From and To bound the first step by local calendar date, inclusive.
	From, To time.Time
	// By is a breakdown (channel, source, campaign, person.COLUMN,
	// account.COLUMN).
	By string
}

// EventFunnel is the result of RunEventFunnel.
type EventFunnel struct {
	Steps      []EventMatch  `json:"steps"`
	Window     string        `json:"window"`
	Mode       string        `json:"mode"`
	Exclusions []Exclusion   `json:"exclusions"`
	Unit       string        `json:"unit"`
	From       string        `json:"from"`
	To         string        `json:"to"`
	TimeZone   string        `json:"time_zone"`
	By         string        `json:"by"`
	Total      FunnelGroup   `json:"total"`
	Groups     []FunnelGroup `json:"groups"`
}

// DefaultFunnelWindow is the conversion window when none is given.
const DefaultFunnelWindow = 14 * 24 * time.Hour

var propertyKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// RunEventFunnel computes an event funnel. Errors: *bowtie.Error with
// EINVALID for a bad request.
func RunEventFunnel(ctx context.Context, db *sql.DB, d Dialect, biz *bowtie.Business, req EventFunnelRequest) (*EventFunnel, error) {
	if len(req.Steps) < 2 || len(req.Steps) > 20 {
		return nil, bowtie.Errorf(bowtie.EINVALID, "steps: give 2 to 20 steps")
	}
	check := func(what string, m EventMatch) error {
		if m.Event == "" {
			return bowtie.Errorf(bowtie.EINVALID, "%s: the event name is empty", what)
		}
		if err := checkText(what, m.Event); err != nil {
			return err
		}
		for k, v := range m.Where {
			if !propertyKey.MatchString(k) {
				return bowtie.Errorf(bowtie.EINVALID, "%s: property %q must be a top-level key of letters, digits and _", what, k)
			}
			if err := checkText(what+": property "+k, v); err != nil {
				return err
			}
		}
		return nil
	}
	for i, s := range req.Steps {
		if err := check(fmt.Sprintf("step %d", i+1), s); err != nil {
			return nil, err
		}
	}
	n := len(req.Steps)
	for i := range req.Exclusions {
		x := &req.Exclusions[i]
		if err := check(fmt.Sprintf("exclusion %d", i+1), x.EventMatch); err != nil {
			return nil, err
		}
		if x.From == 0 && x.To == 0 {
			x.From, x.To = 1, n
		}
		if x.From < 1 || x.To > n || x.From >= x.To {
			return nil, bowtie.Errorf(bowtie.EINVALID, "exclusion %d: between steps %d and %d: need 1 ≤ from < to ≤ %d", i+1, x.From, x.To, n)
		}
	}
	if req.Window == 0 {
		req.Window = DefaultFunnelWindow
	}
	if req.Window < time.Second {
		return nil, bowtie.Errorf(bowtie.EINVALID, "window: must be at least one second")
	}
	// Whole seconds, as both implementations compare them.
	req.Window = req.Window.Truncate(time.Second)
	if req.Mode == "" {
		req.Mode = "ordered"
	}
	if req.Mode != "ordered" && req.Mode != "strict" && req.Mode != "any" {
		return nil, bowtie.Errorf(bowtie.EINVALID, "mode: %q must be ordered, strict or any", req.Mode)
	}
	if req.Unit == "" {
		req.Unit = "person"
	}
	if req.Unit != "person" && req.Unit != "account" {
		return nil, bowtie.Errorf(bowtie.EINVALID, "unit: %q must be person or account", req.Unit)
	}
	start, end, err := localBounds(biz, req.From, req.To)
	if err != nil {
		return nil, err
	}
	names := make([]string, n)
	for i, s := range req.Steps {
		names[i] = s.Event
	}
	out := &EventFunnel{Steps: req.Steps, Window: req.Window.String(), Mode: req.Mode, Exclusions: req.Exclusions, Unit: req.Unit,
		From: civil(req.From).Format(time.DateOnly), To: civil(req.To).Format(time.DateOnly), TimeZone: biz.TimeZone, By: req.By,
		Total: FunnelGroup{Steps: emptySteps(names)}, Groups: []FunnelGroup{}}
	if out.Exclusions == nil {
		out.Exclusions = []Exclusion{}
	}
	if req.By != "" {
		// An unknown breakdown is an error before any data is read.
		if _, err := resolveBreakdown(req.Unit, req.By, "x.unit"); err != nil {
			return nil, err
		}
	}
	if fastFunnelOK(d, req) {
		total, groups, err := runFastFunnel(ctx, db, req, names, start, end)
		switch {
		case err == nil:
			out.Total = total
			if groups != nil {
				out.Groups = groups
			}
			return out, nil
		case !errors.Is(err, errNotFast):
			return nil, err
		}
	}
	total, err := eventFunnelGroups(ctx, db, req, names, "", start, end)
	if err != nil {
		return nil, err
	}
	if len(total) > 0 {
		out.Total = total[0]
	}
	if req.By != "" {
		if out.Groups, err = eventFunnelGroups(ctx, db, req, names, req.By, start, end); err != nil {
			return nil, err
		}
		if out.Groups == nil {
			out.Groups = []FunnelGroup{}
		}
	}
	return out, nil
}

func eventFunnelGroups(ctx context.Context, db *sql.DB, req EventFunnelRequest, names []string, by string, start, end time.Time) ([]FunnelGroup, error) {
	q, args, err := buildEventFunnelSQL(req, by, start, end)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query: event funnel: %w", err)
	}
	defer rows.Close()
	return scanFunnelGroups(rows, names, "event funnel")
}

// matchSQL returns the condition for events e matching m.
func matchSQL(ps *params, name string, m EventMatch) string {
	c := "e.name = " + ps.p(name, m.Event)
	keys := make([]string, 0, len(m.Where))
	for k := range m.Where {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		c += fmt.Sprintf(" AND json_extract_string(e.properties, %s) = %s", ps.p(fmt.Sprintf("%s_k%d", name, i), "$."+k), ps.p(fmt.Sprintf("%s_v%d", name, i), m.Where[k]))
	}
	return "(" + c + ")"
}

// visitorTouch is the events column of the acquisition breakdowns that a
// visitor (an anonymous id never linked to a person) takes from its first
// event.
var visitorTouch = map[string]string{"channel": "channel", "source": "utm_source", "campaign": "utm_campaign"}

// buildEventFunnelSQL returns the event funnel query: one row per
// breakdown value with, per step k, the count and (k > 0) the quantiles of
// the time from step k-1 and from step 1.
//
// Every step-1 event in the period starts an attempt; t0..t{n-1} are the
// times at which an attempt reached each step (NULL when it did not). The
// attempts that no exclusion voids compete per unit: the one reaching the
// most steps wins, then the earliest start.
func buildEventFunnelSQL(req EventFunnelRequest, by string, start, end time.Time) (string, []any, error) {
	var ps params
	n := len(req.Steps)
	pStart, pEnd := ps.p("start", start), ps.p("end", end)
	pW := ps.p("window", int64(req.Window/time.Second))
	win := "to_seconds(CAST(" + pW + " AS BIGINT))"
	var cols []string
	for k, s := range req.Steps {
		cols = append(cols, matchSQL(&ps, fmt.Sprintf("s%d", k), s)+fmt.Sprintf(" AS m%d", k))
	}
	for j, x := range req.Exclusions {
		cols = append(cols, matchSQL(&ps, fmt.Sprintf("x%d", j), x.EventMatch)+fmt.Sprintf(" AS x%d", j))
	}
	ctes := []string{acquisitionCTEs,
		// A person's events include those of the anonymous ids linked to
		// them in identities; an anonymous id never linked is a unit of its
		// own (a visitor), keyed 'anon:' || anonymous_id.
		"ev0 AS (SELECT e.id, coalesce(e.person_id, i.person_id, 'anon:' || e.anonymous_id) AS pid, e.ts, " + strings.Join(cols, ", ") +
			" FROM events e LEFT JOIN identities i ON i.kind = 'anonymous' AND i.alias_id = CASE WHEN e.person_id IS NULL THEN e.anonymous_id END" +
			" WHERE e.type IN ('track', 'page', 'screen') AND e.ts >= " + pStart + " AND e.ts <= " + pEnd + " + " + win + ")",
		"ev AS (SELECT *, row_number() OVER (PARTITION BY pid ORDER BY ts, id) AS rn FROM ev0 WHERE pid IS NOT NULL)"}
	tcol := func(k int) string { return fmt.Sprintf("t%d", k) }
	if req.Mode == "any" {
		var anyStep, firsts, ts []string
		for k := 0; k < n; k++ {
			anyStep = append(anyStep, fmt.Sprintf("m%d", k))
			firsts = append(firsts, fmt.Sprintf("min(e.ts) FILTER (WHERE e.m%d) AS f%d", k, k))
			ts = append(ts, fmt.Sprintf("f%d", k))
		}
		ctes = append(ctes,
			"a0 AS (SELECT pid, id AS i0, ts AS st FROM ev WHERE ("+strings.Join(anyStep, " OR ")+") AND ts >= "+pStart+" AND ts < "+pEnd+")",
			"a1 AS (SELECT s.pid, s.i0, s.st, "+strings.Join(firsts, ", ")+" FROM a0 s JOIN ev e ON e.pid = s.pid AND e.ts >= s.st AND e.ts <= s.st + "+win+" GROUP BY s.pid, s.i0, s.st)",
			"a2 AS (SELECT pid, i0, list_sort(list_filter(["+strings.Join(ts, ", ")+"], x -> x IS NOT NULL)) AS l FROM a1)")
		var tl []string
		for k := 0; k < n; k++ {
			tl = append(tl, fmt.Sprintf("l[%d] AS t%d", k+1, k))
		}
		ctes = append(ctes, "chain AS (SELECT pid, i0, "+strings.Join(tl, ", ")+" FROM a2)")
	} else {
		ctes = append(ctes, "c0 AS (SELECT pid, id AS i0, ts AS t0, rn AS n0 FROM ev WHERE m0 AND ts >= "+pStart+" AND ts < "+pEnd+")")
		carried := []string{"pid", "i0", "t0", "n0"}
		for k := 1; k < n; k++ {
			var sc []string
			for _, c := range carried {
				sc = append(sc, "s."+c)
			}
			cond := fmt.Sprintf("e.pid = s.pid AND e.m%d AND s.t%d IS NOT NULL AND e.ts <= s.t0 + %s", k, k-1, win)
			if req.Mode == "strict" {
				cond += fmt.Sprintf(" AND e.rn = s.n%d + 1", k-1)
			} else {
				var used []string
				for j := 0; j < k; j++ {
					used = append(used, fmt.Sprintf("s.i%d", j))
				}
				cond += fmt.Sprintf(" AND e.ts >= s.t%d AND e.id NOT IN (%s)", k-1, strings.Join(used, ", "))
			}
			ctes = append(ctes, fmt.Sprintf("c%d AS (SELECT %s, m.c.t AS t%d, m.c.i AS i%d, m.c.n AS n%d FROM (SELECT %s, min({'t': e.ts, 'i': e.id, 'n': e.rn}) AS c FROM c%d s LEFT JOIN ev e ON %s GROUP BY ALL) m)",
				k, strings.Join(carried, ", "), k, k, k, strings.Join(sc, ", "), k-1, cond))
			carried = append(carried, fmt.Sprintf("t%d", k), fmt.Sprintf("i%d", k), fmt.Sprintf("n%d", k))
		}
		ctes = append(ctes, fmt.Sprintf("chain AS (SELECT * FROM c%d)", n-1))
	}
	// Reach and exclusions.
	var reach []string
	for k := 0; k < n; k++ {
		reach = append(reach, fmt.Sprintf("CAST(%s IS NOT NULL AS INTEGER)", tcol(k)))
	}
	void := "false"
	var voids []string
	for j, x := range req.Exclusions {
		f, t := tcol(x.From-1), tcol(x.To-1)
		voids = append(voids, fmt.Sprintf("EXISTS (SELECT 1 FROM ev e WHERE e.pid = a.pid AND e.x%d AND a.%s IS NOT NULL AND e.ts > a.%s AND e.ts < coalesce(a.%s, a.t0 + %s))", j, f, f, t, win))
	}
	if len(voids) > 0 {
		void = strings.Join(voids, " OR ")
	}
	unit := "a.pid"
	unitJoin := ""
	if req.Unit == "account" {
		unit, unitJoin = "up.account_id", " JOIN people up ON up.person_id = a.pid AND up.account_id IS NOT NULL"
	}
	ctes = append(ctes,
		"att AS (SELECT "+unit+" AS unit, a.*, "+strings.Join(reach, " + ")+" AS reach, "+void+" AS void FROM chain a"+unitJoin+")",
		"best AS (SELECT * FROM att WHERE NOT void QUALIFY row_number() OVER (PARTITION BY unit ORDER BY reach DESC, t0, i0) = 1)")
	bd, err := resolveBreakdown(req.Unit, by, "x.unit")
	if err != nil {
		return "", nil, err
	}
	if col, ok := visitorTouch[by]; ok && req.Unit == "person" {
		// A visitor never identified takes the touch of its first event.
		none := map[string]string{"channel": "'Unassigned'", "source": "'(not set)'", "campaign": "'(not set)'"}[by]
		ctes = append(ctes, "visitor AS (SELECT 'anon:' || anonymous_id AS id, arg_min("+col+", ts) AS v FROM events"+
			" WHERE person_id IS NULL AND anonymous_id IS NOT NULL AND 'anon:' || anonymous_id IN (SELECT unit FROM best) GROUP BY 1)")
		bd.joins += " LEFT JOIN visitor bv ON bv.id = x.unit"
		bd.expr = "coalesce(bd." + by + ", bv.v, " + none + ")"
	}
	var aggs []string
	for k := 0; k < n; k++ {
		aggs = append(aggs, fmt.Sprintf("count(*) FILTER (WHERE reach > %d)", k))
		if k > 0 {
			aggs = append(aggs, quantileSQL(daysBetween(tcol(k-1), tcol(k)), fmt.Sprintf("reach > %d", k))...)
			aggs = append(aggs, quantileSQL(daysBetween("t0", tcol(k)), fmt.Sprintf("reach > %d", k))...)
		}
	}
	q := "-- query.RunEventFunnel\nWITH " + strings.Join(ctes, ",\n") + "\nSELECT " + bd.expr + " AS g, " + strings.Join(aggs, ", ") +
		" FROM best x" + bd.joins + " GROUP BY g ORDER BY count(*) DESC, g"
	return q, ps.args, nil
}
