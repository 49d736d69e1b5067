package query

import (
	"context"
	"database/sql"
	"hash/maphash"
	"slices"
	"sort"
	"sync"

	"github.com/bowtie-analytics/bowtie/internal/rawscan"
)

// groupTable gives the per-person pass the breakdown group of each unit,
// as buildEventFunnelSQL's breakdown does: a person's from resolveBreakdown's
// joins on the person id; a visitor's (an anonymous id never linked), for
// channel, source and campaign, the touch of its first event; any other
// unit the expression's value when nothing joins (Unassigned or
// "(not set)").
//
// The people and the visitors are each a list of fastRow (hash of the
// unit key, group index in mask, key in arenas) sorted like the funnel's
// rows, so that the walk, which meets units in hash order, finds their
// groups by merging instead of a random lookup per unit (at 100 M events,
// 7.5 M visitors: a lookup each cost more than the walk itself).
type groupTable struct {
	people, visitors groupList
	def              int32
	names            []string
}

// groupList is one sorted list of units and groups, with its key arenas.
type groupList struct {
	rows   []fastRow
	arenas *fastArenas
}

// groupCursor walks a groupTable in hash order for one walker.
type groupCursor struct {
	t      *groupTable
	at     [2]int // next row of people, visitors
	inited bool
}

// of returns the group of the unit with key and hash h; successive calls
// must come in nondecreasing hash order.
func (c *groupCursor) of(h uint64, key []byte) int {
	l, at := &c.t.people, &c.at[0]
	if key[0] == 'a' {
		l, at = &c.t.visitors, &c.at[1]
	}
	if !c.inited {
		// The first unit of this walker: start both lists at its hash.
		c.inited = true
		for i, gl := range []*groupList{&c.t.people, &c.t.visitors} {
			c.at[i] = sort.Search(len(gl.rows), func(j int) bool { return gl.rows[j].h >= h })
		}
	}
	for *at < len(l.rows) && l.rows[*at].h < h {
		*at++
	}
	for i := *at; i < len(l.rows) && l.rows[i].h == h; i++ {
		if string(fastKey(l.arenas, l.rows[i])) == string(key) {
			return int(l.rows[i].mask - 1)
		}
	}
	return int(c.t.def)
}

// loadGroups reads the breakdown by of every person, and of every
// anonymous id when the breakdown is an acquisition touch.
func loadGroups(ctx context.Context, db *sql.DB, by string, bufs *fastBuffers) (*groupTable, error) {
	bd, err := resolveBreakdown("person", by, "x.unit")
	if err != nil {
		return nil, err
	}
	g := &groupTable{}
	index := map[string]int32{}
	intern := func(name []byte) int32 {
		i, ok := index[string(name)]
		if !ok {
			i = int32(len(g.names))
			g.names = append(g.names, string(name))
			index[string(name)] = i
		}
		return i
	}
	var def sql.NullString
	if err := db.QueryRowContext(ctx, "-- query.RunEventFunnel (per-person pass: breakdown of unknown units)\nWITH "+acquisitionCTEs+
		"\nSELECT "+bd.expr+" FROM (SELECT CAST(NULL AS VARCHAR) AS unit) x"+bd.joins).Scan(&def); err != nil {
		return nil, err
	}
	g.def = intern([]byte(def.String))
	if g.people, err = loadGroupList(ctx, db, "-- query.RunEventFunnel (per-person pass: breakdown of people)\nWITH "+acquisitionCTEs+
		"\nSELECT x.unit, "+bd.expr+" FROM (SELECT person_id AS unit FROM people) x"+bd.joins, 'p', intern, bufs); err != nil {
		return nil, err
	}
	if col, ok := visitorTouch[by]; ok {
		// The SQL path: coalesce(person's touch, visitor's, none), the
		// person's never found for an anonymous id.
		none, err := stringLiteral("by", def.String)
		if err != nil {
			return nil, err
		}
		if g.visitors, err = loadGroupList(ctx, db, "-- query.RunEventFunnel (per-person pass: breakdown of visitors)\n"+
			"SELECT anonymous_id, coalesce(arg_min("+col+", ts), "+none+") FROM events WHERE person_id IS NULL AND anonymous_id IS NOT NULL GROUP BY 1",
			'a', intern, bufs); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// loadGroupList reads q's rows (unit id, group name) into a sorted
// groupList of keys prefix + id. Two goroutines convert the chunks; the
// group names are interned once per chunk and name.
func loadGroupList(ctx context.Context, db *sql.DB, q string, prefix byte, intern func([]byte) int32, bufs *fastBuffers) (groupList, error) {
	var l groupList
	l.arenas = new(fastArenas)
	var rows []fastRow
	local := [2]map[string]int32{{}, {}} // per worker: name → group
	var mu sync.Mutex
	err := rawscan.ScanParallel(ctx, db, q, nil, 2, func(slots int) error {
		rows = fastSlice[fastRow](bufs, slots)
		for w := range 2 {
			l.arenas[w] = fastSlice[byte](bufs, 24*slots)[:0]
		}
		return nil
	}, func(w int, c *rawscan.Chunk, first int) error {
		us, err := c.Strings(0)
		if err != nil {
			return err
		}
		vs, err := c.Strings(1)
		if err != nil {
			return err
		}
		arena := l.arenas[w]
		var key []byte
		for r := 0; r < c.Len(); r++ {
			v := vs.Bytes(r)
			gi, ok := local[w][string(v)]
			if !ok {
				mu.Lock()
				gi = intern(v)
				mu.Unlock()
				local[w][string(v)] = gi
			}
			key = append(append(key[:0], prefix), us.Bytes(r)...)
			off := len(arena)
			if off >= 1<<arenaBits {
				return errNotFast
			}
			arena = appendKey(arena, key)
			rows[first+r] = fastRow{h: maphash.Bytes(fastSeed, key), mask: uint32(gi) + 1, off: uint32(off) | uint32(w)<<arenaBits}
		}
		l.arenas[w] = arena
		return nil
	})
	if err != nil {
		return l, err
	}
	l.rows = sortFastRows(slices.DeleteFunc(rows, emptyRow), bufs)
	return l, nil
}
