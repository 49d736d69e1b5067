package query

import (
	"context"
	"database/sql"
	"hash/maphash"

	"github.com/bowtie-analytics/bowtie/internal/rawscan"
)

// groupTable gives the per-person pass the breakdown group of each unit,
// as buildEventFunnelSQL's breakdown does: a person's from resolveBreakdown's
// joins on the person id; a visitor's (an anonymous id never linked), for
// channel, source and campaign, the touch of its first event; any other
// unit the expression's value when nothing joins (Unassigned or
// "(not set)").
type groupTable struct {
	people, visitors *keyTable
	peopleG          []int32 // group per entry of people
	visitorsG        []int32 // group per entry of visitors
	def              int32
	names            []string
	index            map[string]int32
}

// intern returns the index of group name, adding it when new.
func (g *groupTable) intern(name string) int32 {
	i, ok := g.index[name]
	if !ok {
		i = int32(len(g.names))
		g.names = append(g.names, name)
		g.index[name] = i
	}
	return i
}

// of returns the group of the unit with key and hash h.
func (g *groupTable) of(h uint64, key []byte) int {
	t, gs := g.people, g.peopleG
	if key[0] == 'a' {
		t, gs = g.visitors, g.visitorsG
	}
	if t != nil {
		if e := t.lookup(h, key); e >= 0 {
			return int(gs[e])
		}
	}
	return int(g.def)
}

// loadGroups reads the breakdown by of every person, and of every
// anonymous id when the breakdown is an acquisition touch.
func loadGroups(ctx context.Context, db *sql.DB, by string, bufs *fastBuffers) (*groupTable, error) {
	bd, err := resolveBreakdown("person", by, "x.unit")
	if err != nil {
		return nil, err
	}
	g := &groupTable{index: map[string]int32{}}
	var def sql.NullString
	if err := db.QueryRowContext(ctx, "-- query.RunEventFunnel (per-person pass: breakdown of unknown units)\nWITH "+acquisitionCTEs+
		"\nSELECT "+bd.expr+" FROM (SELECT CAST(NULL AS VARCHAR) AS unit) x"+bd.joins).Scan(&def); err != nil {
		return nil, err
	}
	g.def = g.intern(def.String)
	load := func(q, prefix string, gs *[]int32) (*keyTable, error) {
		t := &keyTable{}
		var key []byte
		err := rawscan.ScanParallel(ctx, db, q, nil, 1, func(slots int) error {
			t.reserve(bufs, slots, 24)
			*gs = fastSlice[int32](bufs, slots)[:0]
			return nil
		}, func(_ int, c *rawscan.Chunk, _ int) error {
			us, err := c.Strings(0)
			if err != nil {
				return err
			}
			vs, err := c.Strings(1)
			if err != nil {
				return err
			}
			for r := 0; r < c.Len(); r++ {
				key = append(append(key[:0], prefix...), us.Bytes(r)...)
				if _, err := t.add(key, maphash.Bytes(fastSeed, key)); err != nil {
					return err
				}
				*gs = append(*gs, g.intern(string(vs.Bytes(r))))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		t.build(bufs)
		return t, nil
	}
	if g.people, err = load("-- query.RunEventFunnel (per-person pass: breakdown of people)\nWITH "+acquisitionCTEs+
		"\nSELECT x.unit, "+bd.expr+" FROM (SELECT person_id AS unit FROM people) x"+bd.joins, "p", &g.peopleG); err != nil {
		return nil, err
	}
	if col, ok := visitorTouch[by]; ok {
		// The SQL path: coalesce(person's touch, visitor's, none), the
		// person's never found for an anonymous id.
		if g.visitors, err = load("-- query.RunEventFunnel (per-person pass: breakdown of visitors)\n"+
			"SELECT anonymous_id, coalesce(arg_min("+col+", ts), "+sqlLiteral(def.String)+") FROM events WHERE person_id IS NULL AND anonymous_id IS NOT NULL GROUP BY 1",
			"a", &g.visitorsG); err != nil {
			return nil, err
		}
	}
	return g, nil
}
