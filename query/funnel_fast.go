package query

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bowtie-analytics/bowtie/internal/bigbuf"
	"github.com/bowtie-analytics/bowtie/internal/rawscan"
)

// The per-person pass of the event funnel (docs/metrics.md, "Event
// funnel", "How it is computed").
//
// DuckDB selects the events that match a step or an exclusion and marks
// which steps and exclusions each matches; rawscan hands the chunks to Go
// without per-value conversion; Go resolves each event to its unit
// (person_id, else the person its anonymous id is linked to in identities,
// else the anonymous id; aliasTable), groups the rows by unit (a radix
// sort on a hash of the unit's id, with the ids compared on equal hashes,
// so two units never merge) and walks each unit's events in time order. Walking a unit is linear in its events: the
// greedy chain of an attempt (each step at the earliest matching event at
// or after the previous one) only moves forward as the attempt's start
// does.
//
// It applies when the mode is ordered or any-order, the unit is the person
// and no event matches two steps (the step matchers are disjoint on the data, checked
// row by row); then an attempt's step times do not depend on which of
// several events at the same instant is taken, and the result equals the
// SQL definition (buildEventFunnelSQL) exactly. Otherwise errNotFast sends
// the caller to the SQL.

var errNotFast = errors.New("query: event funnel: not computable by the per-person pass")

// Tests switch the per-person pass off (to compare it with the SQL) and
// count how often it answered.
var (
	fastFunnelOff  atomic.Bool
	fastFunnelRuns atomic.Int64
)

// fastFunnelOK reports whether the request is one the per-person pass
// handles, before reading data.
func fastFunnelOK(d Dialect, req EventFunnelRequest) bool {
	_, duck := d.(DuckDB)
	return duck && !fastFunnelOff.Load() && (req.Mode == "ordered" || req.Mode == "any") && req.Unit == "person" && len(req.Steps)+len(req.Exclusions) <= 32
}

// fastRow is one selected event: its unit's hash, time (µs), step and
// exclusion bits, and where its unit's id lies in the key arenas (the top
// two bits: which arena; the rest: the offset of a uvarint length and the
// bytes, as appendKey writes them).
type fastRow struct {
	h    uint64
	t    int64
	mask uint32
	off  uint32
}

// fastFunnelSQL selects the events of the funnel with their unit and mask.
// The event names, period and types are literals, not parameters, so that
// DuckDB pushes them into the scan (only matching rows are decoded further,
// and zone maps skip row groups outside the period); the property filters
// stay parameters. Rows whose mask is 0 (the name matched, a property
// filter did not) are left for Go to skip, so that DuckDB does not compute
// the mask for every row of the table. The type column is not read: only
// track, page and screen events have a name (docs/schema.md), and reading
// it cost a tenth of the query at 100 M events.
func fastFunnelSQL(req EventFunnelRequest, start, end time.Time) (string, []any, error) {
	var ps params
	var names []string
	var bits []string
	bit := 0
	add := func(what, tag string, m EventMatch) error {
		lit, err := stringLiteral(what, m.Event)
		if err != nil {
			return err
		}
		names = append(names, "e.name = "+lit)
		bits = append(bits, fmt.Sprintf("(CASE WHEN %s THEN %d ELSE 0 END)", matchSQL(&ps, tag, m), uint32(1)<<bit))
		bit++
		return nil
	}
	for k, s := range req.Steps {
		if err := add(fmt.Sprintf("step %d", k+1), fmt.Sprintf("s%d", k), s); err != nil {
			return "", nil, err
		}
	}
	for j, x := range req.Exclusions {
		if err := add(fmt.Sprintf("exclusion %d", j+1), fmt.Sprintf("x%d", j), x.EventMatch); err != nil {
			return "", nil, err
		}
	}
	// Anonymous ids are resolved in Go (aliasTable), not by a join here.
	q := "-- query.RunEventFunnel (per-person pass)\n" +
		"SELECT coalesce(e.person_id, e.anonymous_id) AS u, e.ts, CAST(" + strings.Join(bits, " | ") + " AS BIGINT)" +
		" | CASE WHEN e.person_id IS NULL THEN " + fmt.Sprint(int64(anonBit)) + " ELSE 0 END AS mask FROM events e" +
		" WHERE e.ts >= " + timestampLiteral(start) + " AND e.ts <= " + timestampLiteral(end.Add(req.Window)) +
		" AND (" + strings.Join(names, " OR ") + ") AND (e.person_id IS NOT NULL OR e.anonymous_id IS NOT NULL)"
	return q, ps.args, nil
}

var fastSeed = maphash.MakeSeed()

// anonBit marks, in the mask, a unit that is an anonymous id (no person),
// so that a person and an anonymous id spelled alike stay two units.
const anonBit = 1 << 32

// fastArenas holds the unit ids of the rows: one arena per converting
// goroutine, and the alias table's (people that anonymous ids resolve to).
type fastArenas [3][]byte

// arenaBits is where a row's arena index sits in fastRow.off.
const arenaBits = 30

// fastLoad reads the funnel's events into rows, resolving anonymous ids
// through the identities read concurrently by loadAliases.
func fastLoad(ctx context.Context, db *sql.DB, q string, args []any, bufs *fastBuffers) ([]fastRow, *fastArenas, error) {
	var rows []fastRow
	arenas := new(fastArenas)
	// The identities are read while DuckDB runs the main query, on a
	// connection taken before the main query's: the main query waits for
	// them while holding its own, which must not keep a capped pool from
	// giving the identities one.
	idsConn, err := db.Conn(ctx)
	if err != nil {
		return nil, arenas, err
	}
	var ids *aliasTable
	var idsErr error
	idsDone := make(chan struct{})
	go func() {
		defer close(idsDone)
		ids, idsErr = loadAliases(ctx, idsConn, bufs)
		idsConn.Close()
	}()
	err = rawscan.ScanParallel(ctx, db, q, args, 2, func(slots int) error {
		<-idsDone
		if idsErr != nil {
			return idsErr
		}
		arenas[2] = ids.arena
		// Unused slots stay zero (mask 0) and are dropped below.
		rows = fastSlice[fastRow](bufs, slots)
		// Room for ids of 30 bytes on average; only what is written is
		// touched, and a longer total grows on the Go heap.
		for w := range 2 {
			arenas[w] = fastSlice[byte](bufs, 32*slots)[:0]
		}
		return nil
	}, func(w int, c *rawscan.Chunk, first int) error {
		us, err := c.Strings(0)
		if err != nil {
			return err
		}
		ts, _, err := c.Int64(1)
		if err != nil {
			return err
		}
		ms, _, err := c.Int64(2)
		if err != nil {
			return err
		}
		arena := arenas[w]
		var key []byte
		for r := 0; r < c.Len(); r++ {
			m := ms[r]
			if uint32(m) == 0 {
				continue // the name matched, a property filter did not
			}
			key = append(key[:0], 'p')
			if m&anonBit != 0 {
				key[0] = 'a'
			}
			key = append(key, us.Bytes(r)...)
			h := maphash.Bytes(fastSeed, key)
			if m&anonBit != 0 {
				if e := ids.lookup(h, key); e >= 0 {
					rows[first+r] = fastRow{h: ids.pH[e], t: ts[r], mask: uint32(m), off: ids.pOff[e] | 2<<arenaBits}
					continue
				}
			}
			off := len(arena)
			if off >= 1<<arenaBits {
				return errNotFast
			}
			arena = appendKey(arena, key)
			rows[first+r] = fastRow{h: h, t: ts[r], mask: uint32(m), off: uint32(off) | uint32(w)<<arenaBits}
		}
		arenas[w] = arena
		return nil
	})
	<-idsDone // when the query failed before start
	if err != nil {
		return nil, arenas, err
	}
	// Drop the rows of mask 0 (unused slots, and rows whose property
	// filters did not match).
	return slices.DeleteFunc(rows, emptyRow), arenas, nil
}

// emptyRow reports an unused slot (mask 0).
func emptyRow(r fastRow) bool { return r.mask == 0 }

// fastBuffers are the per-person pass's large buffers (about 40 bytes per
// selected event), outside the Go heap on huge pages (internal/bigbuf).
type fastBuffers struct {
	frees []func()
}

// release frees every buffer; nothing may use them afterwards.
func (b *fastBuffers) release() {
	for _, f := range b.frees {
		f()
	}
	b.frees = nil
}

// fastSlice returns a zeroed slice of n values from bigbuf, freed by
// bufs.release.
func fastSlice[T any](bufs *fastBuffers, n int) []T {
	s, free := bigbuf.Slice[T](n)
	bufs.frees = append(bufs.frees, free)
	return s
}

// fastKey returns the unit id of r.
func fastKey(arenas *fastArenas, r fastRow) []byte {
	return arenaKey(arenas[r.off>>arenaBits], r.off&(1<<arenaBits-1))
}

// fastResult is the best attempt's step times of every unit, for the
// quantiles: prev[k] and first[k] hold, in days, the time from step k-1
// and from step 1 to step k of each unit that reached step k.
type fastResult struct {
	counts      []int64
	prev, first [][]float64
}

// runFastFunnel computes the funnel's total, and its groups when
// req.By is set, by the per-person pass, or returns errNotFast.
func runFastFunnel(ctx context.Context, db *sql.DB, req EventFunnelRequest, names []string, start, end time.Time) (FunnelGroup, []FunnelGroup, error) {
	q, args, err := fastFunnelSQL(req, start, end)
	if err != nil {
		return FunnelGroup{}, nil, err
	}
	bufs := &fastBuffers{}
	defer bufs.release()
	rows, arenas, err := fastLoad(ctx, db, q, args, bufs)
	if err != nil {
		return FunnelGroup{}, nil, err
	}
	n := len(req.Steps)
	stepBits := uint32(1)<<n - 1
	for _, r := range rows {
		if m := r.mask & stepBits; m&(m-1) != 0 {
			return FunnelGroup{}, nil, errNotFast
		}
	}
	var groups *groupTable
	if req.By != "" {
		if groups, err = loadGroups(ctx, db, req.By, bufs); err != nil {
			return FunnelGroup{}, nil, err
		}
	}
	rows = sortFastRows(rows, bufs)
	// Two workers walk halves of the units (split at a unit boundary).
	parts := splitUnits(rows, 2)
	results := make([][]fastResult, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = walkUnits(p, arenas, req, start.UnixMicro(), end.UnixMicro(), groups)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return FunnelGroup{}, nil, err
	}
	var all []fastResult
	for _, rs := range results {
		all = append(all, rs...)
	}
	total := fastGroup(names, all)
	var out []FunnelGroup
	if groups != nil {
		for gi, name := range groups.names {
			var rs []fastResult
			for _, r := range results {
				if gi < len(r) {
					rs = append(rs, r[gi])
				}
			}
			if g := fastGroup(names, rs); g.Steps[0].Count > 0 {
				g.Key = name
				out = append(out, g)
			}
		}
		// As the SQL: most units first, then by key.
		slices.SortFunc(out, func(a, b FunnelGroup) int {
			if a.Steps[0].Count != b.Steps[0].Count {
				return cmp.Compare(b.Steps[0].Count, a.Steps[0].Count)
			}
			return strings.Compare(a.Key, b.Key)
		})
	}
	fastFunnelRuns.Add(1)
	return total, out, nil
}

// fastGroup sums the walkers' results into a funnel group: counts, and the
// quantiles of the step times (two computed at a time).
func fastGroup(names []string, rs []fastResult) FunnelGroup {
	n := len(names)
	g := FunnelGroup{Steps: emptySteps(names)}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for k := 0; k < n; k++ {
		for _, r := range rs {
			if r.counts != nil {
				g.Steps[k].Count += r.counts[k]
			}
		}
		if k == 0 {
			continue
		}
		for i, dst := range []*Quantiles{&g.Steps[k].TimeFromPrevious, &g.Steps[k].TimeFromFirst} {
			var xs []float64
			for _, r := range rs {
				if r.counts != nil {
					xs = append(xs, [][][]float64{r.prev, r.first}[i][k]...)
				}
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				*dst = quantilesOf(xs)
				<-sem
			}()
		}
	}
	wg.Wait()
	deriveSteps(g.Steps)
	return g
}

// sortFastRows orders rows by unit hash, then time and mask, and returns
// them in a slice from bufs (rows is reused as scratch). A most-significant-digit
// radix sort: a parallel counting pass scatters the rows by the hash's top
// 8 bits; then two goroutines take half of those buckets each and scatter
// every bucket by the hash's next bits (as many as the bucket has rows,
// up to 16), which leaves runs of a few rows, ordered by insertion.
func sortFastRows(rows []fastRow, bufs *fastBuffers) []fastRow {
	const topBits = 8
	const nb = 1 << topBits
	half := len(rows) / 2
	parts := [2][]fastRow{rows[:half], rows[half:]}
	var counts [2][nb]int
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range parts[i] {
				counts[i][r.h>>(64-topBits)]++
			}
		}()
	}
	wg.Wait()
	// Bucket b holds part 0's rows of b, then part 1's.
	var bounds [nb + 1]int
	var starts [2][nb]int
	for b, at := 0, 0; b < nb; b++ {
		bounds[b] = at
		starts[0][b] = at
		starts[1][b] = at + counts[0][b]
		at += counts[0][b] + counts[1][b]
	}
	bounds[nb] = len(rows)
	out := fastSlice[fastRow](bufs, len(rows))
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &starts[i]
			for _, r := range parts[i] {
				b := r.h >> (64 - topBits)
				out[st[b]] = r
				st[b]++
			}
		}()
	}
	wg.Wait()
	// The second level goes from out back into rows, then into out again.
	for _, rng := range [][2]int{{0, nb / 2}, {nb / 2, nb}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sub []int
			for b := rng[0]; b < rng[1]; b++ {
				lo, hi := bounds[b], bounds[b+1]
				sub = sortBucket(out[lo:hi], rows[lo:hi], topBits, sub)
			}
		}()
	}
	wg.Wait()
	return out
}

// sortBucket sorts seg, whose rows share the hash's top skip bits, by
// (hash, time, mask) through tmp (as long as seg), scattering by the next
// bits and ordering the small runs left by insertion; sub is reusable
// scratch, returned.
func sortBucket(seg, tmp []fastRow, skip int, sub []int) []int {
	if len(seg) < 2 {
		return sub
	}
	nbits := min(bits.Len(uint(len(seg))), 16)
	n := 1 << nbits
	shift := 64 - skip - nbits
	mask := uint64(n - 1)
	sub = slices.Grow(sub[:0], n+1)[:n+1]
	clear(sub)
	for _, r := range seg {
		sub[(r.h>>shift)&mask+1]++
	}
	for i := 1; i <= n; i++ {
		sub[i] += sub[i-1]
	}
	// sub[d] is now where digit d starts; scatter into tmp, which moves
	// each start to the next digit's, then copy back in order.
	for _, r := range seg {
		d := (r.h >> shift) & mask
		tmp[sub[d]] = r
		sub[d]++
	}
	copy(seg, tmp)
	// Runs of equal digits: sub[d-1] (or 0) to sub[d].
	from := 0
	for d := 0; d < n; d++ {
		to := sub[d]
		if to-from > 1 {
			run := seg[from:to]
			if len(run) > 32 {
				slices.SortFunc(run, cmpFastRows)
			} else {
				for i := 1; i < len(run); i++ {
					for j := i; j > 0 && cmpFastRows(run[j], run[j-1]) < 0; j-- {
						run[j], run[j-1] = run[j-1], run[j]
					}
				}
			}
		}
		from = to
	}
	return sub
}

// cmpFastRows orders rows by hash, time, then mask.
func cmpFastRows(a, b fastRow) int {
	if a.h != b.h {
		if a.h < b.h {
			return -1
		}
		return 1
	}
	if a.t != b.t {
		if a.t < b.t {
			return -1
		}
		return 1
	}
	return int(a.mask) - int(b.mask)
}

// splitUnits cuts rows (sorted by hash) into at most k parts at hash
// boundaries.
func splitUnits(rows []fastRow, k int) [][]fastRow {
	var out [][]fastRow
	for len(rows) > 0 && k > 1 {
		i := len(rows) / k
		for i < len(rows) && i > 0 && rows[i].h == rows[i-1].h {
			i++
		}
		if i > 0 {
			out = append(out, rows[:i])
		}
		rows = rows[i:]
		k--
	}
	if len(rows) > 0 {
		out = append(out, rows)
	}
	return out
}

// walkUnits walks every unit of rows (sorted by hash and time) and
// returns its results per breakdown group of groups (one group when nil;
// a group no unit fell in has nil counts).
func walkUnits(rows []fastRow, arenas *fastArenas, req EventFunnelRequest, start, end int64, groups *groupTable) []fastResult {
	n := len(req.Steps)
	res := make([]fastResult, 1)
	if groups != nil {
		res = make([]fastResult, len(groups.names))
	}
	w := &unitWalker{req: req, n: n, any: req.Mode == "any", win: int64(req.Window / time.Microsecond), start: start, end: end,
		steps: make([][]int64, n), excl: make([][]int64, len(req.Exclusions)), ptr: make([]int, n), chain: make([]int64, n), best: make([]int64, n)}
	key := func(r fastRow) []byte { return fastKey(arenas, r) }
	cursor := &groupCursor{t: groups}
	walk := func(run []fastRow) {
		g := 0
		if groups != nil {
			g = cursor.of(run[0].h, key(run[0]))
		}
		r := &res[g]
		if r.counts == nil {
			*r = fastResult{counts: make([]int64, n), prev: make([][]float64, n), first: make([][]float64, n)}
		}
		w.unit(run, r)
	}
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j].h == rows[i].h {
			j++
		}
		run := rows[i:j]
		same := true
		for _, r := range run[1:] {
			if string(key(r)) != string(key(run[0])) {
				same = false
				break
			}
		}
		if same {
			walk(run)
		} else {
			// Two units share a hash: order by id, then time, and walk each.
			sort.SliceStable(run, func(a, b int) bool { return string(key(run[a])) < string(key(run[b])) })
			for a := 0; a < len(run); {
				b := a + 1
				for b < len(run) && string(key(run[b])) == string(key(run[a])) {
					b++
				}
				walk(run[a:b])
				a = b
			}
		}
		i = j
	}
	return res
}

// unitWalker holds the buffers of walkUnits.
type unitWalker struct {
	req             EventFunnelRequest
	n               int
	any             bool // any-order mode
	win, start, end int64
	steps, excl     [][]int64 // times of each step's and exclusion's events
	ptr             []int
	chain, best     []int64
}

// unit finds the unit's best attempt (most steps reached, then earliest
// start; attempts voided by an exclusion do not compete) and adds it to
// res.
func (w *unitWalker) unit(run []fastRow, res *fastResult) {
	first := uint32(1) // the steps an attempt starts with
	if w.any {
		first = 1<<w.n - 1
	}
	if len(run) == 1 {
		// A unit of one event (most visitors): it reaches step 1 when the
		// event starts an attempt in the period, no later step.
		if r := run[0]; r.mask&first != 0 && r.t >= w.start && r.t < w.end {
			res.counts[0]++
		}
		return
	}
	for k := range w.steps {
		w.steps[k] = w.steps[k][:0]
		w.ptr[k] = 0
	}
	for j := range w.excl {
		w.excl[j] = w.excl[j][:0]
	}
	for _, r := range run {
		for k := 0; k < w.n; k++ {
			if r.mask&(1<<k) != 0 {
				w.steps[k] = append(w.steps[k], r.t)
			}
		}
		for j := range w.excl {
			if r.mask&(1<<(w.n+j)) != 0 {
				w.excl[j] = append(w.excl[j], r.t)
			}
		}
	}
	bestReach := 0
	if w.any {
		bestReach = w.anyOrder(run, first)
	} else {
		bestReach = w.ordered()
	}
	for k := 0; k < bestReach; k++ {
		res.counts[k]++
		if k > 0 {
			res.prev[k] = append(res.prev[k], secondsDays(w.best[k-1], w.best[k]))
			res.first[k] = append(res.first[k], secondsDays(w.best[0], w.best[k]))
		}
	}
}

// ordered finds the unit's best attempt in ordered mode into w.best and
// returns its reach.
func (w *unitWalker) ordered() int {
	bestReach := 0
	for _, t0 := range w.steps[0] {
		if t0 < w.start || t0 >= w.end {
			continue
		}
		// Step k is the first event of step k at or after step k-1. These
		// times only move forward as t0 does, so the pointers never go back.
		w.chain[0] = t0
		reach, deadline := 1, t0+w.win
		for k := 1; k < w.n; k++ {
			l := w.steps[k]
			p := w.ptr[k]
			for p < len(l) && l[p] < w.chain[k-1] {
				p++
			}
			w.ptr[k] = p
			if p == len(l) || l[p] > deadline {
				// Later steps keep their pointers: they are behind, never
				// ahead of, where a later attempt's chain will need them.
				break
			}
			w.chain[k] = l[p]
			reach++
		}
		if reach <= bestReach || w.void(reach, deadline) {
			continue
		}
		bestReach = reach
		copy(w.best, w.chain[:reach])
		if reach == w.n {
			break
		}
	}
	return bestReach
}

// anyOrder finds the unit's best attempt in any-order mode into w.best and
// returns its reach: every event of a step in the period starts an
// attempt; the attempt's times are, per step, the first event of the step
// at or after the start and within the window, in time order. The
// pointers only move forward as the start does.
func (w *unitWalker) anyOrder(run []fastRow, first uint32) int {
	bestReach := 0
	last := int64(math.MinInt64)
	for _, r := range run {
		if r.mask&first == 0 || r.t < w.start || r.t >= w.end || r.t == last {
			continue // an attempt at the same instant is the same attempt
		}
		last = r.t
		s, deadline := r.t, r.t+w.win
		reach := 0
		for k := 0; k < w.n; k++ {
			l := w.steps[k]
			p := w.ptr[k]
			for p < len(l) && l[p] < s {
				p++
			}
			w.ptr[k] = p
			if p < len(l) && l[p] <= deadline {
				// Insert in time order.
				i := reach
				for i > 0 && w.chain[i-1] > l[p] {
					w.chain[i] = w.chain[i-1]
					i--
				}
				w.chain[i] = l[p]
				reach++
			}
		}
		if reach <= bestReach || w.void(reach, deadline) {
			continue
		}
		bestReach = reach
		copy(w.best, w.chain[:reach])
		if reach == w.n {
			break
		}
	}
	return bestReach
}

// void reports whether an exclusion event falls strictly between the
// exclusion's steps in the attempt in w.chain that reached reach steps
// (to the deadline when the later step was not reached).
func (w *unitWalker) void(reach int, deadline int64) bool {
	for j, x := range w.req.Exclusions {
		if reach < x.From {
			continue
		}
		lo, hi := w.chain[x.From-1], deadline
		if reach >= x.To {
			hi = w.chain[x.To-1]
		}
		l := w.excl[j]
		i := sort.Search(len(l), func(i int) bool { return l[i] > lo })
		if i < len(l) && l[i] < hi {
			return true
		}
	}
	return false
}

// secondsDays is daysBetween in Go: whole seconds from a to b (µs since
// the epoch, truncated as DuckDB's date_diff('second', …)), in days.
func secondsDays(a, b int64) float64 {
	return float64(b/1e6-a/1e6) / 86400.0
}

// quantilesOf computes Quantiles in Go as quantileSQL does in SQL
// (quantile_cont's interpolation, the mean, the DurationEdges buckets) of
// durations in days that are whole seconds.
func quantilesOf(xs []float64) Quantiles {
	counts := make([]int64, len(DurationEdges))
	// The mean adds whole seconds as integers (every x is secondsDays of
	// whole seconds), so that it does not depend on the order of xs, which
	// follows the units' hash order and so changes between processes.
	var secs int64
	for _, x := range xs {
		secs += int64(math.Round(x * 86400))
		i := len(DurationEdges) - 1
		for i > 0 && x < DurationEdges[i] {
			i--
		}
		counts[i]++
	}
	q := Quantiles{N: int64(len(xs)), Distribution: durationBuckets(counts)}
	if len(xs) == 0 {
		return q
	}
	s := slices.Clone(xs)
	// The values at the ranks quantile_cont interpolates between, found by
	// selection (linear) rather than a sort: ranks are asked in increasing
	// order, each selection within the part right of the previous rank.
	done := 0
	rank := func(k int) float64 {
		if k > done || done == 0 {
			selectRank(s[done:], k-done)
			done = k
		}
		return s[k]
	}
	at := func(p float64) *float64 {
		pos := p * float64(len(s)-1)
		lo := math.Floor(pos)
		hi := math.Ceil(pos)
		a := rank(int(lo))
		b := rank(int(hi))
		v := a + (pos-lo)*(b-a)
		return &v
	}
	mean := float64(secs) / 86400 / float64(len(s))
	q.Median, q.P75, q.P90, q.Mean = at(0.5), at(0.75), at(0.9), &mean
	return q
}

// selectRank reorders s so that s[k] holds the value of rank k (from 0)
// in sorted order, with no greater value before it and no smaller after.
func selectRank(s []float64, k int) {
	lo, hi := 0, len(s)-1
	for hi > lo {
		if hi-lo < 16 {
			slices.Sort(s[lo : hi+1])
			return
		}
		// Median of three as the pivot; a three-way partition, so that runs
		// of equal values (whole seconds, often the same) end the search.
		mid := lo + (hi-lo)/2
		a, b, c := s[lo], s[mid], s[hi]
		p := max(min(a, b), min(max(a, b), c))
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch {
			case s[i] < p:
				s[lt], s[i] = s[i], s[lt]
				lt++
				i++
			case s[i] > p:
				s[i], s[gt] = s[gt], s[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return
		}
	}
}
