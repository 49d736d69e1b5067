package attribution

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/internal/rawscan"
	model "github.com/bowtie-analytics/bowtie/model/attribution"
	"github.com/bowtie-analytics/bowtie/query"
)

// Path building (docs/metrics.md, "Attribution — paths").
//
// DuckDB selects three row sets and rawscan hands them to Go without
// per-value conversion: the conversions (unit, conversion time, window
// end, value, opportunity time), the milestones of each unit (first lead
// and opportunity), and the touches (unit, who, time, channel,
// campaign). Every row carries DuckDB's 64-bit hash of its unit key and
// the key itself (kept in an arena). Go groups the touches by hash
// (counting sort on the hash's top bits, then a sort of each small
// bucket), tells apart the rare different keys of one hash by comparing
// the keys, merges the conversions and milestones sorted the same way,
// and cuts each unit's touches into paths. No map is probed per touch,
// and units come out in (hash, key) order: the same paths in the same
// order on every run.

// phaseTimer, when set (by benchmarks), is told how long each phase of
// path building took.
var phaseTimer func(phase string, d time.Duration)

func phase(name string, start time.Time) time.Time {
	now := time.Now()
	if phaseTimer != nil {
		phaseTimer(name, now.Sub(start))
	}
	return now
}

// builtPaths is the outcome of path building.
type builtPaths struct {
	paths []model.Path
	// valueE4 is the total value of the converting paths in 1e-4 units
	// of the reporting currency (an exact sum).
	valueE4 int64
	// direct counts conversions with no touch; unknownUnit those that no
	// person or account could be found for (also direct).
	direct, unknownUnit int
	// droppedDirect counts Direct touches ExcludeDirect dropped.
	droppedDirect int
}

// keyArena holds unit keys back to back.
type keyArena struct{ b []byte }

// add stores k and returns its key (with hash h).
func (a *keyArena) add(h uint64, k []byte) (unitKey, error) {
	off := len(a.b)
	if off+len(k) >= math.MaxUint32 {
		return unitKey{}, fmt.Errorf("attribution: unit keys exceed 4 GiB")
	}
	a.b = append(a.b, k...)
	return unitKey{h: h, off: uint32(off), n: uint32(len(k))}, nil
}

// get returns the bytes of k.
func (a *keyArena) get(k unitKey) []byte { return a.b[k.off : k.off+k.n] }

// unitKey identifies a unit: DuckDB's hash of its key, and where the key
// is in the arena.
type unitKey struct {
	h      uint64
	off, n uint32
}

// same reports whether x and y are the same unit.
func (a *keyArena) same(x, y unitKey) bool {
	return x.h == y.h && x.n == y.n && (x.off == y.off || bytes.Equal(a.get(x), a.get(y)))
}

// cmpKey orders units by hash, then key.
func (a *keyArena) cmpKey(x, y unitKey) int {
	if x.h != y.h {
		if x.h < y.h {
			return -1
		}
		return 1
	}
	if x.off == y.off {
		return 0
	}
	return bytes.Compare(a.get(x), a.get(y))
}

type convRow struct {
	unitKey
	known     bool  // false: no unit (direct)
	conv, win int64 // Unix seconds
	valueE4   int64
	opp       int64 // 0: none known for the conversion
	inPeriod  bool
}

type msRow struct {
	unitKey
	lead, opp int64
}

type touchRow struct {
	unitKey
	ts            int64
	ch, camp, who int32
	// first marks the first touch of a unit once grouped (groupTouches).
	first bool
}

// dict numbers strings.
type dict struct {
	ids   map[string]int32
	names []string
}

func newDict() *dict { return &dict{ids: map[string]int32{}} }

// id returns b's number, adding it (copied) on first sight.
func (d *dict) id(b []byte) int32 {
	if i, ok := d.ids[string(b)]; ok {
		return i
	}
	s := string(b)
	i := int32(len(d.names))
	d.ids[s] = i
	d.names = append(d.names, s)
	return i
}

func micros(v int64) int64 {
	if v >= 0 {
		return v / 1e6
	}
	return -((-v + 999999) / 1e6)
}

// buildPaths builds the converting and non-converting paths of the
// request from the store.
func buildPaths(ctx context.Context, db *sql.DB, d query.Dialect, biz *bowtie.Business, s *settings) (*builtPaths, error) {
	var ps params
	src, err := convSource(ctx, db, biz, s, &ps)
	if err != nil {
		return nil, err
	}
	rep := ps.p(biz.Currency)
	pEnd := ps.p(s.end)
	conv := query.ConvertSQL("c.amount", "c.currency", rep)
	qc := "-- attribution.buildPaths (conversions)\nWITH " + query.FXCTE(rep) +
		",\nsrc (unit, conv_ts, win_ts, amount, currency, opp_ts) AS (" + src + ")\n" +
		"SELECT hash(c.unit), c.unit, c.conv_ts, c.win_ts, CAST(round(" + conv + " * 10000) AS BIGINT) AS v, c.opp_ts, " +
		"CAST(c.amount IS NOT NULL AND " + conv + " IS NULL AS BIGINT) AS missing\n" +
		"FROM src c " + d.FXJoin("c.currency", "CAST(c.conv_ts AS DATE)") + "\nWHERE c.conv_ts < " + pEnd
	t0 := time.Now()
	keys := &keyArena{}
	var convs []convRow
	var missing int64
	startS := s.start.Unix()
	err = rawscan.ScanParallel(ctx, db, qc, ps.args, 1, func(slots int) error {
		convs = make([]convRow, 0, slots)
		return nil
	}, func(_ int, c *rawscan.Chunk, _ int) error {
		h, _, err := c.Int64(0)
		if err != nil {
			return err
		}
		u, err := c.Strings(1)
		if err != nil {
			return err
		}
		ct, _, err := c.Int64(2)
		if err != nil {
			return err
		}
		wt, wv, err := c.Int64(3)
		if err != nil {
			return err
		}
		val, vv, err := c.Int64(4)
		if err != nil {
			return err
		}
		ot, ov, err := c.Int64(5)
		if err != nil {
			return err
		}
		miss, _, err := c.Int64(6)
		if err != nil {
			return err
		}
		for r := 0; r < c.Len(); r++ {
			row := convRow{conv: micros(ct[r])}
			row.win = row.conv
			if wv.Valid(r) {
				row.win = micros(wt[r])
			}
			if u.Valid(r) {
				row.known = true
				if row.unitKey, err = keys.add(uint64(h[r]), u.Bytes(r)); err != nil {
					return err
				}
			}
			if vv.Valid(r) {
				row.valueE4 = val[r]
			}
			if ov.Valid(r) {
				row.opp = micros(ot[r])
			}
			row.inPeriod = row.conv >= startS
			missing += miss[r]
			convs = append(convs, row)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("attribution: conversions: %w", err)
	}
	if missing > 0 {
		return nil, query.MissingFX(ctx, db, biz, s.from, s.to)
	}
	// Touches are read from the earliest window start any path can have.
	lo := startS
	for _, c := range convs {
		if c.inPeriod && c.win < lo {
			lo = c.win
		}
	}
	lo -= s.lookback

	t0 = phase("conversions", t0)
	ms, err := milestones(ctx, db, biz, s, keys)
	if err != nil {
		return nil, err
	}
	t0 = phase("milestones", t0)
	touches, chans, camps, whos, err := readTouches(ctx, db, s, keys, time.Unix(lo, 0).UTC())
	if err != nil {
		return nil, err
	}
	t0 = phase("touches", t0)
	bp := assemble(s, keys, convs, ms, touches, chans, camps, whos)
	phase("assemble", t0)
	return bp, nil
}

// milestones reads each unit's first lead-stage entry and first
// opportunity (stage entry or deal creation), Unix seconds, 0 for none.
func milestones(ctx context.Context, db *sql.DB, biz *bowtie.Business, s *settings, keys *keyArena) ([]msRow, error) {
	var leadSet, oppSet []string
	if biz.ReportStages.Lead != "" {
		leadSet = query.StagesFrom(biz.Stages, biz.ReportStages.Lead)
	}
	oppSet = query.StagesFrom(biz.Stages, "opportunity")
	var ps params
	pl, po := ps.list(leadSet), ps.list(oppSet)
	var parts []string
	if s.level == "person" {
		parts = append(parts,
			"SELECT 'p' || entity_id AS unit, CASE WHEN stage IN "+pl+" THEN ts END AS l, CASE WHEN stage IN "+po+" THEN ts END AS o FROM stage_changes WHERE entity_type = 'person'",
			"SELECT 'p' || person_id, NULL, created_at FROM deals")
	} else {
		parts = append(parts,
			"SELECT 'c' || pe.account_id AS unit, CASE WHEN sc.stage IN "+pl+" THEN sc.ts END AS l, CASE WHEN sc.stage IN "+po+" THEN sc.ts END AS o FROM stage_changes sc JOIN people pe ON pe.person_id = sc.entity_id WHERE sc.entity_type = 'person'",
			"SELECT 'c' || entity_id, CASE WHEN stage IN "+pl+" THEN ts END, CASE WHEN stage IN "+po+" THEN ts END FROM stage_changes WHERE entity_type = 'account'",
			"SELECT 'c' || dl.account_id, NULL, CASE WHEN sc.stage IN "+po+" THEN sc.ts END FROM stage_changes sc JOIN deals dl ON dl.deal_id = sc.entity_id WHERE sc.entity_type = 'deal'",
			"SELECT 'c' || account_id, NULL, created_at FROM deals")
	}
	q := "-- attribution.milestones\nSELECT hash(unit), unit, min(l), min(o) FROM (" + strings.Join(parts, " UNION ALL ") +
		") WHERE unit IS NOT NULL GROUP BY unit HAVING min(l) IS NOT NULL OR min(o) IS NOT NULL"
	var out []msRow
	err := rawscan.ScanParallel(ctx, db, q, ps.args, 1, func(slots int) error {
		out = make([]msRow, 0, slots)
		return nil
	}, func(_ int, c *rawscan.Chunk, _ int) error {
		h, _, err := c.Int64(0)
		if err != nil {
			return err
		}
		u, err := c.Strings(1)
		if err != nil {
			return err
		}
		l, lv, err := c.Int64(2)
		if err != nil {
			return err
		}
		o, ov, err := c.Int64(3)
		if err != nil {
			return err
		}
		for r := 0; r < c.Len(); r++ {
			var m msRow
			if m.unitKey, err = keys.add(uint64(h[r]), u.Bytes(r)); err != nil {
				return err
			}
			if lv.Valid(r) {
				m.lead = micros(l[r])
			}
			if ov.Valid(r) {
				m.opp = micros(o[r])
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("attribution: milestones: %w", err)
	}
	return out, nil
}

// readTouches reads the touches in [lo, end).
func readTouches(ctx context.Context, db *sql.DB, s *settings, keys *keyArena, lo time.Time) ([]touchRow, *dict, *dict, *dict, error) {
	var ps params
	who := "NULL::VARCHAR"
	if s.level == "account" {
		who = "coalesce(" + resolvedPerson + ", e.anonymous_id)"
	}
	q := "SELECT " + eventUnit(s.level) + " AS unit, " + who + " AS who, e.ts, e.channel, e.utm_campaign FROM " +
		eventFrom(s.level) + " WHERE e.channel IS NOT NULL AND e.ts >= " + ps.p(lo) + " AND e.ts < " + ps.p(s.end)
	if len(s.req.TouchEvents) > 0 {
		q += " AND e.name IN " + ps.list(s.req.TouchEvents)
	}
	q = "-- attribution.readTouches\nSELECT hash(unit), unit, who, ts, channel, utm_campaign FROM (" + q + ") WHERE unit IS NOT NULL"
	chans, camps, whos := newDict(), newDict(), newDict()
	camps.id(nil) // campaign 0 is none
	var out []touchRow
	err := rawscan.ScanParallel(ctx, db, q, ps.args, 1, func(slots int) error {
		out = make([]touchRow, 0, slots)
		keys.b = slices.Grow(keys.b, slots*12)
		return nil
	}, func(_ int, c *rawscan.Chunk, _ int) error {
		h, _, err := c.Int64(0)
		if err != nil {
			return err
		}
		u, err := c.Strings(1)
		if err != nil {
			return err
		}
		w, err := c.Strings(2)
		if err != nil {
			return err
		}
		ts, _, err := c.Int64(3)
		if err != nil {
			return err
		}
		ch, err := c.Strings(4)
		if err != nil {
			return err
		}
		cp, err := c.Strings(5)
		if err != nil {
			return err
		}
		for r := 0; r < c.Len(); r++ {
			t := touchRow{ts: micros(ts[r]), ch: chans.id(ch.Bytes(r)), who: -1}
			if t.unitKey, err = keys.add(uint64(h[r]), u.Bytes(r)); err != nil {
				return err
			}
			if cp.Valid(r) {
				t.camp = camps.id(cp.Bytes(r))
			}
			if s.level == "account" && w.Valid(r) {
				t.who = whos.id(w.Bytes(r))
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("attribution: touches: %w", err)
	}
	// Number channels, campaigns and people in name order, so that touches
	// at the same instant are ordered by name whatever order DuckDB's
	// threads returned them in.
	rc, rp, rw := chans.sortNames(), camps.sortNames(), whos.sortNames()
	for i := range out {
		t := &out[i]
		t.ch, t.camp = rc[t.ch], rp[t.camp]
		if t.who >= 0 {
			t.who = rw[t.who]
		}
	}
	return out, chans, camps, whos, nil
}

// sortNames renumbers d in name order and returns old → new numbers.
func (d *dict) sortNames() []int32 {
	order := make([]int32, len(d.names))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(d.names[a], d.names[b]) })
	remap := make([]int32, len(order))
	names := make([]string, len(order))
	for n, o := range order {
		remap[o] = int32(n)
		names[n] = d.names[o]
		d.ids[d.names[o]] = int32(n)
	}
	d.names = names
	return remap
}

// cmpTouch orders a unit's touches by time, then channel, campaign and
// person (numbered in name order).
func cmpTouch(a, b touchRow) int {
	if a.ts != b.ts {
		return cmp64(a.ts, b.ts)
	}
	if a.ch != b.ch {
		return int(a.ch - b.ch)
	}
	if a.camp != b.camp {
		return int(a.camp - b.camp)
	}
	return int(a.who - b.who)
}

// groupTouches orders the touches by unit (hash, then key) and, within a
// unit, by cmpTouch: a counting sort on the hash's top bits, then a sort
// of each bucket (a few rows) by hash and touch order; the rare buckets
// where two keys share a hash are sorted again by key.
func groupTouches(keys *keyArena, touches []touchRow) []touchRow {
	if len(touches) == 0 {
		return touches
	}
	bits := 1
	for 1<<bits < len(touches) && bits < 24 {
		bits++
	}
	shift := 64 - bits
	start := make([]int32, 1<<bits+1)
	for _, t := range touches {
		start[t.h>>shift+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	out := make([]touchRow, len(touches))
	fill := slices.Clone(start[:1<<bits])
	for _, t := range touches {
		b := t.h >> shift
		out[fill[b]] = t
		fill[b]++
	}
	byHash := func(a, b touchRow) int {
		if a.h != b.h {
			if a.h < b.h {
				return -1
			}
			return 1
		}
		return cmpTouch(a, b)
	}
	// sortRange orders the buckets [b0, b1) and marks where each unit
	// starts. A unit's rows share a hash, hence a bucket.
	sortRange := func(b0, b1 int) {
		for b := b0; b < b1; b++ {
			bucket := out[start[b]:start[b+1]]
			if len(bucket) < 2 {
				continue
			}
			if len(bucket) <= 12 {
				for i := 1; i < len(bucket); i++ {
					for j := i; j > 0 && byHash(bucket[j-1], bucket[j]) > 0; j-- {
						bucket[j-1], bucket[j] = bucket[j], bucket[j-1]
					}
				}
			} else {
				slices.SortFunc(bucket, byHash)
			}
		}
		// Two keys with one hash: order that hash's rows by key, then
		// touch, and mark each key's first row.
		rows := out[start[b0]:start[b1]]
		for i := 0; i < len(rows); {
			j := i + 1
			mixed := false
			for j < len(rows) && rows[j].h == rows[i].h {
				if !mixed && !keys.same(rows[j].unitKey, rows[i].unitKey) {
					mixed = true
				}
				j++
			}
			g := rows[i:j]
			if mixed {
				slices.SortFunc(g, func(a, b touchRow) int {
					if c := bytes.Compare(keys.get(a.unitKey), keys.get(b.unitKey)); c != 0 {
						return c
					}
					return cmpTouch(a, b)
				})
				for k := range g {
					g[k].first = k == 0 || !keys.same(g[k].unitKey, g[k-1].unitKey)
				}
			} else {
				g[0].first = true
			}
			i = j
		}
	}
	half := 1 << (bits - 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); sortRange(half, 1<<bits) }()
	sortRange(0, half)
	wg.Wait()
	return out
}

// assemble cuts each unit's touches into paths.
func assemble(s *settings, keys *keyArena, convs []convRow, ms []msRow, touches []touchRow, chans, camps, whos *dict) *builtPaths {
	touches = groupTouches(keys, touches)
	slices.SortFunc(convs, func(a, b convRow) int {
		if a.known != b.known {
			if !a.known {
				return -1
			}
			return 1
		}
		if a.known {
			if c := keys.cmpKey(a.unitKey, b.unitKey); c != 0 {
				return c
			}
		}
		if a.win != b.win {
			return cmp64(a.win, b.win)
		}
		if a.conv != b.conv {
			return cmp64(a.conv, b.conv)
		}
		if a.valueE4 != b.valueE4 {
			return cmp64(a.valueE4, b.valueE4)
		}
		return cmp64(a.opp, b.opp)
	})
	slices.SortFunc(ms, func(a, b msRow) int { return keys.cmpKey(a.unitKey, b.unitKey) })

	names := pathNames{chans: chans.names, camps: camps.names, whos: whos.names}
	out := &builtPaths{}
	ci := 0
	// Conversions nobody could be found for come first.
	for ci < len(convs) && !convs[ci].known {
		c := convs[ci]
		ci++
		if c.inPeriod {
			out.paths = append(out.paths, model.Path{ConvAt: c.win, Conversions: 1, Value: float64(c.valueE4) / 1e4})
			out.valueE4 += c.valueE4
			out.direct++
			out.unknownUnit++
		}
	}
	convs = convs[ci:]
	// Units with the hash's top bit clear, then set, on two goroutines:
	// the halves share no unit, and their paths are joined in order.
	const top = uint64(1) << 63
	tc := sort.Search(len(touches), func(i int) bool { return touches[i].h >= top })
	cc := sort.Search(len(convs), func(i int) bool { return convs[i].h >= top })
	mc := sort.Search(len(ms), func(i int) bool { return ms[i].h >= top })
	var hi *builtPaths
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); hi = s.walk(keys, convs[cc:], ms[mc:], touches[tc:], names) }()
	lo := s.walk(keys, convs[:cc], ms[:mc], touches[:tc], names)
	wg.Wait()
	out.paths = slices.Concat(out.paths, lo.paths, hi.paths)
	for _, h := range []*builtPaths{lo, hi} {
		out.valueE4 += h.valueE4
		out.direct += h.direct
		out.droppedDirect += h.droppedDirect
	}
	return out
}

// walk cuts the paths of the units of convs, ms and touches, all three
// ordered by unit (hash, key), the touches grouped (groupTouches).
func (s *settings) walk(keys *keyArena, convs []convRow, ms []msRow, touches []touchRow, names pathNames) *builtPaths {
	out := &builtPaths{paths: make([]model.Path, 0, len(convs)+len(touches)/2)}
	lookback := s.lookback
	startS, endS := s.start.Unix(), s.end.Unix()
	ci, mi := 0, 0
	var alloc touchAlloc
	// unit cuts the paths of one unit: its touches (ordered) and its
	// conversions (ordered by window end).
	unit := func(k unitKey, ts []touchRow, cs []convRow) {
		var lead, opp int64
		for mi < len(ms) && keys.cmpKey(ms[mi].unitKey, k) < 0 {
			mi++
		}
		if mi < len(ms) && keys.cmpKey(ms[mi].unitKey, k) == 0 {
			lead, opp = ms[mi].lead, ms[mi].opp
		}
		prev := int64(-1 << 62)
		converted := false
		for _, c := range cs {
			lo := max(c.win-lookback, prev)
			prev = c.win
			if !c.inPeriod {
				continue
			}
			converted = true
			p := model.Path{ConvAt: c.win, Conversions: 1, Value: float64(c.valueE4) / 1e4}
			out.valueE4 += c.valueE4
			om := c.opp
			if om == 0 {
				om = opp
			}
			p.Touches = s.makeTouches(window(ts, lo, c.win), names, lead, om, c.win, &out.droppedDirect, &alloc)
			if len(p.Touches) == 0 {
				out.direct++
			}
			out.paths = append(out.paths, p)
		}
		if converted || len(ts) == 0 {
			return
		}
		// A unit that did not convert in the period: its touches after its
		// last conversion, within the lookback before the period's end,
		// form a null path when the last of them is in the period.
		w := window(ts, max(endS-lookback, prev), endS)
		if len(w) == 0 || w[len(w)-1].ts < startS {
			return
		}
		p := model.Path{Nulls: 1}
		p.Touches = s.makeTouches(w, names, 0, 0, endS, &out.droppedDirect, &alloc)
		out.paths = append(out.paths, p)
	}
	// convsOf returns the conversions of the unit at ci and advances ci.
	convsOf := func() []convRow {
		c0 := ci
		for ci++; ci < len(convs) && keys.cmpKey(convs[ci].unitKey, convs[c0].unitKey) == 0; ci++ {
		}
		return convs[c0:ci]
	}
	for i := 0; i < len(touches); {
		k := touches[i].unitKey
		j := i + 1
		for j < len(touches) && !touches[j].first {
			j++
		}
		// Units with conversions and no touch that come first.
		for ci < len(convs) && keys.cmpKey(convs[ci].unitKey, k) < 0 {
			c := convs[ci].unitKey
			unit(c, nil, convsOf())
		}
		var cs []convRow
		if ci < len(convs) && keys.cmpKey(convs[ci].unitKey, k) == 0 {
			cs = convsOf()
		}
		unit(k, touches[i:j], cs)
		i = j
	}
	for ci < len(convs) {
		c := convs[ci].unitKey
		unit(c, nil, convsOf())
	}
	return out
}

func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// window returns the touches (sorted by time) with lo <= ts < hi.
func window(ts []touchRow, lo, hi int64) []touchRow {
	i, _ := slices.BinarySearchFunc(ts, lo, func(t touchRow, v int64) int { return cmp64(t.ts, v) })
	j, _ := slices.BinarySearchFunc(ts, hi, func(t touchRow, v int64) int { return cmp64(t.ts, v) })
	return ts[i:j]
}

type pathNames struct{ chans, camps, whos []string }

// touchAlloc hands out the paths' touch slices from large blocks, so that
// a million paths do not make a million allocations.
type touchAlloc struct{ block []model.Touch }

func (a *touchAlloc) get(n int) []model.Touch {
	if n > len(a.block) {
		a.block = make([]model.Touch, max(n, 1<<16))
	}
	out := a.block[:0:n]
	a.block = a.block[n:]
	return out
}

// makeTouches turns a window of touch rows into a path's touches:
// Direct touches dropped when ExcludeDirect and another touch exists,
// runs of the same channel (and campaign with By campaign, and person at
// account level) collapsed into their first touch unless KeepRepeats,
// then the milestones flagged: LeadCreation on the last touch at or
// before the lead time, OpportunityCreation on the last at or before the
// opportunity time, when that time falls within [first touch, end].
func (s *settings) makeTouches(w []touchRow, nm pathNames, leadAt, oppAt, end int64, dropped *int, alloc *touchAlloc) []model.Touch {
	if len(w) == 0 {
		return nil
	}
	direct := int32(-1)
	if s.req.ExcludeDirect {
		for i, c := range nm.chans {
			if c == model.DirectChannel {
				direct = int32(i)
			}
		}
	}
	keep := w
	if direct >= 0 {
		other := 0
		for _, t := range w {
			if t.ch != direct {
				other++
			}
		}
		if other > 0 && other < len(w) {
			keep = make([]touchRow, 0, other)
			for _, t := range w {
				if t.ch != direct {
					keep = append(keep, t)
				}
			}
			*dropped += len(w) - other
		}
	}
	out := alloc.get(len(keep))
	var last touchRow
	for i, t := range keep {
		if i > 0 && !s.req.KeepRepeats && t.ch == last.ch && (s.by != "campaign" || t.camp == last.camp) && t.who == last.who {
			continue
		}
		last = t
		tc := model.Touch{Channel: nm.chans[t.ch], Campaign: nm.camps[t.camp], At: t.ts}
		if t.who >= 0 {
			tc.Person = nm.whos[t.who]
		}
		out = append(out, tc)
	}
	flag := func(at int64, f uint8) {
		if at == 0 || at < out[0].At || at > end {
			return
		}
		k := len(out) - 1
		for k > 0 && out[k].At > at {
			k--
		}
		out[k].Milestone |= f
	}
	flag(leadAt, model.LeadCreation)
	flag(oppAt, model.OpportunityCreation)
	return out
}

// BuildPaths returns the paths Run would attribute for req: the
// converting paths (Conversions 1, Value the conversion's revenue) and
// the non-converting ones (Nulls 1), built from the store's events or
// read from the imported dataset. The order is by unit, then time.
func BuildPaths(ctx context.Context, db *sql.DB, d query.Dialect, biz *bowtie.Business, req Request) ([]model.Path, error) {
	s, err := resolve(biz, req)
	if err != nil {
		return nil, err
	}
	var bp *builtPaths
	if req.Dataset != "" {
		bp, err = readDataset(ctx, db, d, biz, s)
	} else {
		bp, err = buildPaths(ctx, db, d, biz, s)
	}
	if err != nil {
		return nil, err
	}
	return bp.paths, nil
}
