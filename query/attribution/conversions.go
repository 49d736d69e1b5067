package attribution

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/bowtie-analytics/bowtie"
)

// params collects placeholder values, so that no user value is spliced
// into SQL text (the rule of package query, doc.go).
type params struct{ args []any }

// p returns the placeholder of a new parameter v.
func (ps *params) p(v any) string {
	ps.args = append(ps.args, v)
	return fmt.Sprintf("$%d", len(ps.args))
}

// list returns a parenthesised placeholder list of vs.
func (ps *params) list(vs []string) string {
	if len(vs) == 0 {
		return "(NULL)"
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = ps.p(v)
	}
	return "(" + strings.Join(out, ", ") + ")"
}

// Unit keys: a person is 'p' + person_id, a never-identified visitor
// 'a' + anonymous_id, an account 'c' + account_id; the prefix keeps the
// three id spaces apart.

// resolvedPerson is the person an event belongs to: its person_id, else
// the person its anonymous id is linked to in identities (the join
// aliased i in touchFrom).
const resolvedPerson = "coalesce(e.person_id, i.person_id)"

// eventFrom is the FROM clause of events with their anonymous ids
// resolved through identities, and at account level each event's person
// joined to people (alias pp) for the account.
func eventFrom(level string) string {
	// The CASE keeps the join an equi-join (a hash join): a condition on
	// e.person_id alone in ON makes DuckDB fall back to a slow join.
	q := "events e LEFT JOIN identities i ON i.kind = 'anonymous' AND i.alias_id = CASE WHEN e.person_id IS NULL THEN e.anonymous_id END"
	if level == "account" {
		q += " LEFT JOIN people pp ON pp.person_id = " + resolvedPerson
	}
	return q
}

// eventUnit is the unit key expression of an event (see eventFrom).
func eventUnit(level string) string {
	if level == "account" {
		return "'c' || coalesce(e.account_id, pp.account_id)"
	}
	return "coalesce('p' || " + resolvedPerson + ", 'a' || e.anonymous_id)"
}

// convSource returns the SELECT of the raw conversions (unit, conv_ts,
// win_ts, amount, currency, opp_ts): conv_ts is when the conversion
// happened (it decides the period), win_ts where its path ends, opp_ts
// the opportunity creation known for this conversion (NULL: use the
// unit's). A NULL unit is a conversion nobody can be found for: it
// counts, with no touch (direct). It checks that the conversion names
// something in the store.
func convSource(ctx context.Context, db *sql.DB, biz *bowtie.Business, s *settings, ps *params) (string, error) {
	c := s.conv
	switch c.kind {
	case kindStage:
		etype, err := stageEntity(ctx, db, biz, s)
		if err != nil {
			return "", err
		}
		stage := ps.p(c.name)
		first := "SELECT entity_id, min(ts) AS ts FROM stage_changes WHERE entity_type = " + ps.p(etype) + " AND stage = " + stage + " GROUP BY entity_id"
		switch {
		case s.level == "person":
			return "SELECT 'p' || f.entity_id, f.ts, f.ts, NULL::DECIMAL(18,4), NULL::VARCHAR, NULL::TIMESTAMP FROM (" + first + ") f", nil
		case etype == "account":
			return "SELECT 'c' || f.entity_id, f.ts, f.ts, NULL::DECIMAL(18,4), NULL::VARCHAR, NULL::TIMESTAMP FROM (" + first + ") f", nil
		case etype == "deal":
			return "SELECT 'c' || dl.account_id, f.ts, f.ts, NULL::DECIMAL(18,4), NULL::VARCHAR, dl.created_at FROM (" + first + ") f LEFT JOIN deals dl ON dl.deal_id = f.entity_id", nil
		default: // person entries of the account's people
			return "SELECT 'c' || pe.account_id, f.ts, f.ts, NULL::DECIMAL(18,4), NULL::VARCHAR, NULL::TIMESTAMP FROM (" + first + ") f LEFT JOIN people pe ON pe.person_id = f.entity_id", nil
		}
	case kindEvent:
		if err := eventExists(ctx, db, c.name); err != nil {
			return "", err
		}
		return "SELECT " + eventUnit(s.level) + ", e.ts, e.ts, e.revenue, e.currency, NULL::TIMESTAMP FROM " + eventFrom(s.level) +
			" WHERE e.name = " + ps.p(c.name), nil
	case kindDeal:
		var n int
		if err := db.QueryRowContext(ctx, "-- attribution.convSource (deals)\nSELECT count(*) FROM deals WHERE status = 'won' AND closed_at IS NOT NULL").Scan(&n); err != nil {
			return "", fmt.Errorf("attribution: deals: %w", err)
		}
		if n == 0 {
			return "", bowtie.Errorf(bowtie.EINVALID, "conversion deal:won: the store has no won deal with a close date (deals.status = 'won', closed_at set)")
		}
		unit := "'p' || dl.person_id"
		if s.level == "account" {
			unit = "'c' || dl.account_id"
		}
		win := "dl.created_at"
		if s.dealWindow == "closed" {
			win = "dl.closed_at"
		}
		return "SELECT " + unit + ", dl.closed_at, " + win + ", dl.amount, dl.currency, dl.created_at FROM deals dl WHERE dl.status = 'won' AND dl.closed_at IS NOT NULL", nil
	case kindPayment:
		var n int
		if err := db.QueryRowContext(ctx, `-- attribution.convSource (payments)
			SELECT (SELECT count(*) FROM orders WHERE status = 'paid' AND amount > 0) + (SELECT count(*) FROM subscriptions WHERE status = 'active' AND mrr > 0)`).Scan(&n); err != nil {
			return "", fmt.Errorf("attribution: payments: %w", err)
		}
		if n == 0 {
			return "", bowtie.Errorf(bowtie.EINVALID, "conversion payment:first: the store has no paid order (orders.status = 'paid', amount > 0) and no paid subscription segment (subscriptions.status = 'active', mrr > 0)")
		}
		prefix := "'p'"
		if s.level == "account" {
			prefix = "'c'"
		}
		// The first payment of each customer: the earliest paid order or
		// paid subscription segment; its amount (the order's, or the
		// segment's MRR: one month) is the conversion's value. On a tie the
		// order comes first, then the larger amount.
		return `SELECT ` + prefix + ` || customer_id, ts, ts, amount, currency, NULL::TIMESTAMP FROM (
			SELECT customer_id, ts, amount, currency, row_number() OVER (PARTITION BY customer_id ORDER BY ts, kind, amount DESC, currency) AS k FROM (
				SELECT customer_id, ts, amount, currency, 0 AS kind FROM orders WHERE status = 'paid' AND amount > 0
				UNION ALL SELECT customer_id, valid_from, mrr, currency, 1 FROM subscriptions WHERE status = 'active' AND mrr > 0)) WHERE k = 1`, nil
	}
	return "", fmt.Errorf("attribution: unknown conversion kind %q", c.kind)
}

// stageEntity chooses whose stage entries count for a stage conversion:
// at person level the people's; at account level the accounts' when the
// store has any for that stage, else the deals' (by deals.account_id),
// else the people's (by people.account_id). A stage that has no entry
// at all is an error naming the stages the store has.
func stageEntity(ctx context.Context, db *sql.DB, biz *bowtie.Business, s *settings) (string, error) {
	rows, err := db.QueryContext(ctx, "-- attribution.stageEntity\nSELECT entity_type, stage, count(*) FROM stage_changes GROUP BY ALL")
	if err != nil {
		return "", fmt.Errorf("attribution: stages: %w", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	names := map[string]bool{}
	for rows.Next() {
		var et, st string
		var n int
		if err := rows.Scan(&et, &st, &n); err != nil {
			return "", err
		}
		names[st] = true
		if st == s.conv.name {
			have[et] = true
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	order := []string{"person"}
	if s.level == "account" {
		order = []string{"account", "deal", "person"}
	}
	for _, et := range order {
		if have[et] {
			return et, nil
		}
	}
	var where string
	if s.level == "person" && len(have) > 0 {
		where = " of a person (stage_changes.entity_type = 'person'; it is only recorded for " + strings.Join(keys(have), ", ") + ": try --level account)"
	}
	return "", bowtie.Errorf(bowtie.EINVALID, "conversion stage:%s: no stage_changes entry has stage %q%s%s",
		s.conv.name, s.conv.name, where, closest("stages", s.conv.name, append(keys(names), biz.Stages...)))
}

// eventExists checks that some event has the name.
func eventExists(ctx context.Context, db *sql.DB, name string) error {
	var n int
	if err := db.QueryRowContext(ctx, "-- attribution.eventExists\nSELECT count(*) FROM (SELECT 1 FROM events WHERE name = $1 LIMIT 1)", name).Scan(&n); err != nil {
		return fmt.Errorf("attribution: events: %w", err)
	}
	if n > 0 {
		return nil
	}
	rows, err := db.QueryContext(ctx, "-- attribution.eventExists (names)\nSELECT DISTINCT name FROM events WHERE name IS NOT NULL")
	if err != nil {
		return fmt.Errorf("attribution: events: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		names = append(names, s)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return bowtie.Errorf(bowtie.EINVALID, "conversion event:%s: no event is named %q%s", name, name, closest("event names", name, names))
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// closest returns ", closest <what>: a, b, c" with the (up to five) names
// nearest to name by edit distance (case-insensitive), or ", the store
// has no <what>" when there are none.
func closest(what, name string, names []string) string {
	seen := map[string]bool{}
	type cand struct {
		s string
		d int
	}
	var cs []cand
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		cs = append(cs, cand{n, editDistance(strings.ToLower(name), strings.ToLower(n))})
	}
	if len(cs) == 0 {
		return ", the store has no " + what
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].s < cs[j].s
	})
	if len(cs) > 5 {
		cs = cs[:5]
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%q", c.s)
	}
	return "; closest " + what + ": " + strings.Join(out, ", ")
}

// editDistance is the Levenshtein distance between a and b (runes).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
