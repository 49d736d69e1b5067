package query

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/internal/rawscan"
)

// The per-customer walk: the totals of the change-based movements
// (buildRevenueFastSQL) computed in Go. The engine only filters the paid
// segments; Go reads them chunk by chunk (rawscan), groups them by
// customer and one pass over each customer's segments finds each customer's paid spells,
// its MRR changes per period, and the movements they make, in O(rows)
// plus a sort of each customer's few changes. The definitions are those
// of buildRevenueFastSQL line by line (the comments name its CTEs); money
// is the same whole millionths, rounded as the engine rounds them
// (half away from zero), and summed exactly. The breakdowns (--by) still
// run in SQL.

// revenueSQLOnly makes the totals use the SQL change-based query instead
// of the walk, for the benchmark's baseline and the tests that compare.
var revenueSQLOnly = false

// revenueCell is one period's sums of one group: Σ change of
// reporting-currency MRR (d), Σ foreign MRR at the boundary (f), the
// customers with MRR at boundary 0 (c0), the movements (new, expansion,
// contraction, churn, reactivation) and the customer counts.
type revenueCell struct {
	d, f        float64
	c0          int64
	mv          [5]float64
	nc, rc, chc int64
}

type revWalkSeg struct {
	s, e int64   // microseconds since the epoch (UTC)
	u    float64 // reporting-currency MRR in millionths (rep segments)
	cur  int     // index into rates, -1 for the reporting currency
	m    float64 // unconverted MRR (foreign segments)
}

type revWalkRow struct {
	k    int
	d, f float64
	n    int // largest island number, 0 for none
}

type revWalkSpell struct {
	ss, se int64
	kind   int // 1 new, 2 reactivation
}

// revenueWalker holds the grid, the rates and the sums of one walk.
type revenueWalker struct {
	tt         []int64     // boundary instants
	rates      [][]float64 // per foreign currency, per boundary
	hasRate    [][]bool
	react, dsc int64 // windows in microseconds (0: none)
	split      bool
	nofx       bool
	cells      []revenueCell
	rows       []revWalkRow
	spells     []revWalkSpell
	isl        []int
	days       []int64 // local midnights starting each day of periods 1..n
	dayK       []int   // the period of each day
	dayX       []int64 // Σ spell starts − ends placed on each midnight
}

const revFarMicros = 253402214400000000 // 9999-12-31 00:00:00 UTC

// kOf returns the period of an instant: the first k with t <= tt[k], or
// -1 after the last boundary.
func (w *revenueWalker) kOf(t int64) int {
	k := sort.Search(len(w.tt), func(i int) bool { return w.tt[i] >= t })
	if k == len(w.tt) {
		return -1
	}
	return k
}

// dayAdd places a spell start (+1) or end (−1) on the first midnight at
// or after t (revenueDaily's ev and evj).
func (w *revenueWalker) dayAdd(t int64, x int64) {
	j := sort.Search(len(w.days), func(i int) bool { return w.days[i] >= t })
	if j < len(w.days) {
		w.dayX[j] += x
	}
}

// money is a segment's MRR at boundary k in millionths of the reporting
// currency (revenueMoney).
func (w *revenueWalker) money(sg *revWalkSeg, k int) float64 {
	if sg.cur < 0 {
		return sg.u
	}
	if !w.hasRate[sg.cur][k] {
		w.nofx = true
		return 0
	}
	return math.Round(sg.m * w.rates[sg.cur][k] * 1000000)
}

// customer walks one customer's segments (sorted by start, end).
func (w *revenueWalker) customer(segs []revWalkSeg) {
	// isl, spell: islands of overlapping or touching segments.
	w.spells, w.isl = w.spells[:0], w.isl[:0]
	var pe int64
	for i := range segs {
		sg := &segs[i]
		if i == 0 || sg.s > pe {
			w.spells = append(w.spells, revWalkSpell{ss: sg.s, se: sg.e})
		} else if sg.e > w.spells[len(w.spells)-1].se {
			w.spells[len(w.spells)-1].se = sg.e
		}
		if i == 0 || sg.e > pe {
			pe = sg.e
		}
		w.isl = append(w.isl, len(w.spells))
	}
	for i := range w.spells {
		sp := &w.spells[i]
		sp.kind = 1
		if i > 0 {
			sp.kind = 2
			if w.react > 0 && sp.ss > w.spells[i-1].se+w.react {
				sp.kind = 1
			}
		}
	}
	// ev, evk, fs, rws: the changes per period.
	w.rows = w.rows[:0]
	for i := range segs {
		sg, ni := &segs[i], w.isl[i]
		if sg.cur < 0 {
			if k := w.kOf(sg.s); k >= 0 {
				n := 0
				if sg.e > w.tt[k] {
					n = ni
				}
				w.rows = append(w.rows, revWalkRow{k: k, d: sg.u, n: n})
			}
			if sg.e < revFarMicros {
				if k := w.kOf(sg.e); k >= 0 {
					w.rows = append(w.rows, revWalkRow{k: k, d: -sg.u})
				}
			}
			continue
		}
		if sg.e < revFarMicros {
			if k := w.kOf(sg.e); k >= 0 {
				w.rows = append(w.rows, revWalkRow{k: k})
			}
		}
		if k := w.kOf(sg.s); k >= 0 {
			for ; k < len(w.tt) && w.tt[k] < sg.e; k++ {
				w.rows = append(w.rows, revWalkRow{k: k, f: w.money(sg, k), n: ni})
			}
		}
	}
	if w.days != nil {
		for _, sp := range w.spells {
			w.dayAdd(sp.ss, 1)
			w.dayAdd(sp.se, -1)
		}
	}
	rows := w.rows
	sort.Slice(rows, func(i, j int) bool { return rows[i].k < rows[j].k })
	// lev, lv, mv: the MRR before and after each period with a change.
	var rl, pf float64
	pk := -2
	for i := 0; i < len(rows); {
		r := rows[i]
		for i++; i < len(rows) && rows[i].k == r.k; i++ {
			r.d += rows[i].d
			r.f += rows[i].f
			if rows[i].n > r.n {
				r.n = rows[i].n
			}
		}
		rl += r.d
		after := rl + r.f
		before := rl - r.d
		if pk == r.k-1 {
			before += pf
		}
		pk, pf = r.k, r.f
		c := &w.cells[r.k]
		c.d += r.d
		c.f += r.f
		if r.k == 0 {
			if after > 0 {
				c.c0++
			}
			continue
		}
		var sp *revWalkSpell
		if r.n > 0 {
			sp = &w.spells[r.n-1]
		}
		typ := 0 // 1 new, 2 reactivation, 3 churn, 4 expansion, 5 contraction
		switch {
		case before == 0 && after > 0:
			if sp != nil {
				typ = sp.kind
			}
		case before > 0 && after == 0:
			typ = 3
		case w.dsc > 0 && after > before && sp != nil && w.tt[r.k-1] < sp.ss+w.dsc:
			typ = sp.kind
		case after > before:
			typ = 4
		case after < before:
			typ = 5
		}
		switch typ {
		case 1:
			c.mv[0] += after - before
			if before == 0 {
				c.nc++
			}
		case 2:
			c.mv[4] += after - before
			if before == 0 {
				c.rc++
			}
		case 3:
			c.mv[3] += before
			c.chc++
		case 4:
			c.mv[1] += after - before
		case 5:
			c.mv[2] += before - after
		}
	}
	if !w.split {
		return
	}
	// split: a spell that starts and ends within one period, the customer
	// paying at neither of its boundaries.
	for i := range w.spells {
		sp := &w.spells[i]
		k := w.kOf(sp.se)
		if k < 1 || sp.ss <= w.tt[k-1] {
			continue
		}
		active := false
		for _, y := range w.spells {
			if (y.ss <= w.tt[k] && w.tt[k] < y.se) || (y.ss <= w.tt[k-1] && w.tt[k-1] < y.se) {
				active = true
				break
			}
		}
		if active {
			continue
		}
		var bv float64
		for j := range segs {
			if segs[j].s <= sp.ss && sp.ss < segs[j].e {
				bv += w.money(&segs[j], k)
			}
		}
		c := &w.cells[k]
		if sp.kind == 1 {
			c.mv[0] += bv
			c.nc++
		} else {
			c.mv[4] += bv
			c.rc++
		}
		c.mv[3] += bv
		if bv > 0 {
			c.chc++
		}
	}
}

// revenueWalkRows computes the totals (no breakdown) by the walk and, with
// daily, the daily customer counts of revenueDaily from the same spells.
func revenueWalkRows(ctx context.Context, db *sql.DB, biz *bowtie.Business, g *revenueGrid, daily bool) ([]RevenuePeriod, error) {
	pol := biz.Revenue
	w := &revenueWalker{split: pol.SamePeriod == "split", cells: make([]revenueCell, g.n()+1)}
	if daily {
		// The midnights of g.dayValues.
		loc := biz.Location()
		w.days = []int64{}
		for k := 1; k <= g.n(); k++ {
			for t := g.t[k-1].In(loc); t.Before(g.t[k]); t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc) {
				w.days = append(w.days, t.UnixMicro())
				w.dayK = append(w.dayK, k)
			}
		}
		w.dayX = make([]int64, len(w.days))
	}
	for _, t := range g.t {
		w.tt = append(w.tt, t.UnixMicro())
	}
	if pol.ReactivationWindowDays > 0 {
		w.react = int64(pol.ReactivationWindowDays) * 86400 * 1000000
	}
	if pol.DiscountWindowDays > 0 {
		w.dsc = int64(pol.DiscountWindowDays) * 86400 * 1000000
	}
	// rates: per foreign currency and boundary.
	var ps params
	base := revenueBase(&ps, biz, g, false)
	rep := ps.p("currency", biz.Currency)
	curIdx := map[string]int{}
	rs, err := db.QueryContext(ctx, "-- query.revenue walk rates\n\tWITH "+base+"\n\tSELECT cur, k, CAST(rate AS DOUBLE) FROM rates", ps.args...)
	if err != nil {
		return nil, fmt.Errorf("query: revenue: %w", err)
	}
	for rs.Next() {
		var cur string
		var k int
		var rate sql.NullFloat64
		if err := rs.Scan(&cur, &k, &rate); err != nil {
			rs.Close()
			return nil, fmt.Errorf("query: revenue: %w", err)
		}
		i, ok := curIdx[cur]
		if !ok {
			i = len(w.rates)
			curIdx[cur] = i
			w.rates = append(w.rates, make([]float64, len(w.tt)))
			w.hasRate = append(w.hasRate, make([]bool, len(w.tt)))
		}
		if k >= 0 && k < len(w.tt) && rate.Valid {
			w.rates[i][k], w.hasRate[i][k] = rate.Float64, true
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("query: revenue: %w", err)
	}
	// The paid segments, by customer, start and end. A foreign segment's
	// MRR comes as text (the shortest decimal that reads back as the same
	// DOUBLE), as rawscan reads no DOUBLE column.
	q := `-- query.revenue walk
	WITH ` + base + `
	SELECT c, CASE WHEN cur <> ` + rep + ` THEN cur END, s, e,
		CASE WHEN cur = ` + rep + ` THEN CAST(round(m * 1000000) AS BIGINT) ELSE 0 END,
		CASE WHEN cur <> ` + rep + ` THEN CAST(m AS VARCHAR) END
	FROM pos`
	// The rows come unsorted (a sort by the text ids cost the engine more
	// than the walk); two workers convert the chunks, each numbering the
	// customers it sees; the numbers are merged, then a counting sort
	// orders the rows by customer and each customer's few rows are sorted
	// by start and end.
	const workers = 2
	var ids [workers]map[string]int32
	for i := range ids {
		ids[i] = map[string]int32{}
	}
	var cust []int32 // per slot: worker-local customer number, -1 unused
	var wk []uint8   // per slot: the worker that numbered it
	var all []revWalkSeg
	err = rawscan.ScanParallel(ctx, db, q, ps.args, workers, func(slots int) error {
		cust, wk, all = make([]int32, slots), make([]uint8, slots), make([]revWalkSeg, slots)
		for i := range cust {
			cust[i] = -1
		}
		return nil
	}, func(wi int, ch *rawscan.Chunk, first int) error {
		cs, err := ch.Strings(0)
		if err != nil {
			return err
		}
		fc, err := ch.Strings(1)
		if err != nil {
			return err
		}
		ss, _, err := ch.Int64(2)
		if err != nil {
			return err
		}
		es, _, err := ch.Int64(3)
		if err != nil {
			return err
		}
		us, _, err := ch.Int64(4)
		if err != nil {
			return err
		}
		ms, err := ch.Strings(5)
		if err != nil {
			return err
		}
		m := ids[wi]
		for i := 0; i < ch.Len(); i++ {
			c := cs.Bytes(i)
			id, ok := m[string(c)]
			if !ok {
				id = int32(len(m))
				m[string(c)] = id
			}
			sg := revWalkSeg{s: ss[i], e: es[i], u: float64(us[i]), cur: -1}
			if cur := fc.Bytes(i); cur != nil {
				j, ok := curIdx[string(cur)]
				if !ok {
					return fmt.Errorf("no rates row for currency %q", cur)
				}
				sg.cur = j
				if sg.m, err = strconv.ParseFloat(string(ms.Bytes(i)), 64); err != nil {
					return err
				}
			}
			cust[first+i], wk[first+i], all[first+i] = id, uint8(wi), sg
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query: revenue: %w", err)
	}
	// One numbering for both workers: worker 0's numbers, then worker 1's
	// customers that worker 0 did not see.
	var remap [workers][]int32
	ncust := int32(len(ids[0]))
	for wi := 1; wi < workers; wi++ {
		remap[wi] = make([]int32, len(ids[wi]))
		for c, id := range ids[wi] {
			gid, ok := ids[0][c]
			if !ok {
				gid = ncust
				ncust++
				ids[0][c] = gid
			}
			remap[wi][id] = gid
		}
	}
	start := make([]int32, ncust+1)
	for i, id := range cust {
		if id < 0 {
			continue
		}
		if wk[i] > 0 {
			id = remap[wk[i]][id]
			cust[i] = id
		}
		start[id+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	sorted := make([]revWalkSeg, start[ncust])
	next := append([]int32(nil), start[:ncust]...)
	for i, id := range cust {
		if id < 0 {
			continue
		}
		sorted[next[id]] = all[i]
		next[id]++
	}
	all, cust, wk, ids = nil, nil, nil, [workers]map[string]int32{}
	for c := 0; c+1 < len(start); c++ {
		segs := sorted[start[c]:start[c+1]]
		// By (s, e): insertion sort for the usual few rows.
		if len(segs) > 32 {
			sort.Slice(segs, func(i, j int) bool {
				return segs[i].s < segs[j].s || segs[i].s == segs[j].s && segs[i].e < segs[j].e
			})
		}
		for i := 1; i < len(segs); i++ {
			for j := i; j > 0 && (segs[j].s < segs[j-1].s || segs[j].s == segs[j-1].s && segs[j].e < segs[j-1].e); j-- {
				segs[j], segs[j-1] = segs[j-1], segs[j]
			}
		}
		w.customer(segs)
	}
	if w.nofx {
		return nil, revenueMissingFX(ctx, db, biz, g)
	}
	for k := range w.cells {
		c := &w.cells[k]
		c.d, c.f = c.d/1e6, c.f/1e6
		for j := range c.mv {
			c.mv[j] /= 1e6
		}
	}
	periods := revenueAssemble(g, map[string][]revenueCell{"": w.cells}, "")
	if daily {
		// cnt: the running sum over the midnights, averaged per period.
		sum := make([]int64, g.n()+1)
		cnt := make([]int64, g.n()+1)
		var run int64
		for j, x := range w.dayX {
			run += x
			sum[w.dayK[j]] += run
			cnt[w.dayK[j]]++
		}
		for k := 1; k <= g.n(); k++ {
			if cnt[k] == 0 {
				continue
			}
			p := &periods[k-1]
			a := float64(sum[k]) / float64(cnt[k])
			p.AverageDailyCustomers = &a
			p.LogoChurnDailyWeighted = ratio(float64(p.ChurnedCustomers), a)
		}
	}
	return periods, nil
}

// revenueAssemble turns the cells of each group into periods (by "") or
// the groups' rows, as revenueRows does.
func revenueAssemble(g *revenueGrid, cells map[string][]revenueCell, by string) []RevenuePeriod {
	n := g.n()
	groups := make([]string, 0, len(cells))
	for grp := range cells {
		groups = append(groups, grp)
	}
	sort.Strings(groups)
	out := map[string][]RevenuePeriod{}
	for _, grp := range groups {
		cs := cells[grp]
		rows := make([]RevenuePeriod, n)
		level, cust := cs[0].d+cs[0].f, cs[0].c0
		for k := 1; k <= n; k++ {
			c := cs[k]
			r := &rows[k-1]
			r.Period, r.Group = g.starts[k].Format(time.DateOnly), grp
			r.OpeningMRR, r.OpeningCustomers = level, cust
			level += c.d + c.f - cs[k-1].f
			cust += c.nc + c.rc - c.chc
			r.ClosingMRR, r.ClosingCustomers = level, cust
			r.NewMRR, r.Expansion, r.Contraction, r.Churn, r.Reactivation = c.mv[0], c.mv[1], c.mv[2], c.mv[3], c.mv[4]
			r.NewCustomers, r.ReactivatedCustomers, r.ChurnedCustomers = c.nc, c.rc, c.chc
			r.derive()
		}
		out[grp] = rows
	}
	if by == "" {
		if rows, ok := out[""]; ok {
			return rows
		}
		rows := make([]RevenuePeriod, n)
		for k := 1; k <= n; k++ {
			rows[k-1] = RevenuePeriod{Period: g.starts[k].Format(time.DateOnly)}
			rows[k-1].derive()
		}
		return rows
	}
	var res []RevenuePeriod
	for k := 0; k < n; k++ {
		for _, grp := range groups {
			r := out[grp][k]
			if r.OpeningMRR != 0 || r.ClosingMRR != 0 || r.NewMRR != 0 || r.Reactivation != 0 || r.Churn != 0 {
				res = append(res, r)
			}
		}
	}
	return res
}
