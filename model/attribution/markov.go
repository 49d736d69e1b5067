package attribution

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// MarkovOptions are the settings of the Markov chain model.
type MarkovOptions struct {
	// Order is the chain's order k, 1 to 3 (0 means 1): a state is the
	// last k channels of the path.
	Order int `json:"order"`
	// Collapse replaces each run of consecutive touches of the same
	// channel by one touch before the states are built (A > A > B becomes
	// A > B); without it a repeat is a self-transition (order 1) or its own
	// state (A>A, order 2 and 3).
	Collapse bool `json:"collapse"`
}

// Transition is one non-zero entry of the Markov chain's transition
// matrix: the probability of going from state From to state To (indexes
// into MarkovResult.States) and the path-weighted count it was estimated
// from.
type Transition struct {
	From  int     `json:"from"`
	To    int     `json:"to"`
	P     float64 `json:"p"`
	Count float64 `json:"count"`
}

// MarkovResult is the fitted chain and the credits it gives.
type MarkovResult struct {
	Order int `json:"order"`
	// Channels are the channels of the paths, sorted; RemovalEffect[i] is
	// 1 − P(conversion | Channels[i] removed) / P(conversion).
	Channels      []string  `json:"channels"`
	RemovalEffect []float64 `json:"removal_effect"`
	// Credit splits the paths' conversions and value over Channels in
	// proportion to the removal effects (Campaign "").
	Credit []Credit `json:"credit"`
	// ConversionProb is P(conversion) from the start state.
	ConversionProb float64 `json:"conversion_prob"`
	// States are the chain's states: 0 "start", 1 "conv", 2 "null", then
	// the channel tuples ("A", "A>B", ...) sorted by channel.
	States []string `json:"states"`
	// Transitions is the transition matrix, sorted by From, then To.
	Transitions []Transition `json:"transitions"`
	// Sweeps is the number of Gauss–Seidel sweeps the largest solve took.
	Sweeps int `json:"sweeps"`
}

// State indexes fixed in every chain.
const (
	stateStart = 0
	stateConv  = 1
	stateNull  = 2
)

// maxMarkovChannels bounds the distinct channels (channel ids are 16-bit).
const maxMarkovChannels = 1<<16 - 1

// solveTol is the relative width of the bracket around P(conversion) at
// which the solver stops (see solveChain).
const solveTol = 1e-13

// stallTol is the relative bracket accepted when rounding stalls the
// sweeps before solveTol is reached.
const stallTol = 1e-11

// maxSweeps bounds the Gauss–Seidel sweeps of one solve.
const maxSweeps = 1_000_000

// RunMarkov fits the Markov chain of order o.Order to the paths and
// computes each channel's removal effect and credit (docs/models.md,
// "Markov chain removal effect"). A path with no touch is the one-touch
// path [DirectChannel]; a path with Conversions and Nulls both zero
// shapes no transition (its Value still counts in the total credited).
// It returns an error for an order outside 1–3, an invalid path
// (ValidatePaths), more than 65,535 channels, or a chain the solver
// cannot bring within its tolerance.
func RunMarkov(paths []Path, o MarkovOptions) (*MarkovResult, error) {
	k := o.Order
	if k == 0 {
		k = 1
	}
	if k < 1 || k > 3 {
		return nil, fmt.Errorf("attribution: Markov order %d: the order must be 1, 2 or 3", o.Order)
	}
	if err := ValidatePaths(paths); err != nil {
		return nil, err
	}
	agg, err := encodePaths(paths, o.Collapse)
	if err != nil {
		return nil, err
	}
	ch := countChain(agg, k)
	res := &MarkovResult{Order: k, Channels: agg.channels, States: ch.names}
	for i := range ch.rows {
		for _, e := range ch.rows[i] {
			res.Transitions = append(res.Transitions, Transition{From: ch.stateOf[i], To: e.to, P: e.p, Count: e.count})
		}
	}
	sort.Slice(res.Transitions, func(a, b int) bool {
		ta, tb := res.Transitions[a], res.Transitions[b]
		if ta.From != tb.From {
			return ta.From < tb.From
		}
		return ta.To < tb.To
	})

	s := newSolver(ch)
	p, sweeps, err := s.solve(-1)
	if err != nil {
		return nil, err
	}
	res.ConversionProb, res.Sweeps = p, sweeps
	res.RemovalEffect = make([]float64, len(agg.channels))
	sum := 0.0
	if p > 0 {
		for c := range agg.channels {
			pc, sw, err := s.solve(c)
			if err != nil {
				return nil, err
			}
			res.Sweeps = max(res.Sweeps, sw)
			re := 1 - pc/p
			if re < 0 { // rounding only: removal cannot raise P(conversion)
				re = 0
			}
			res.RemovalEffect[c] = re
			sum += re
		}
	}
	res.Credit = shareCredits(agg.channels, res.RemovalEffect, sum, agg.conversions, agg.value)
	return res, nil
}

// shareCredits splits conversions and value over channels in proportion
// to weights (which sum to sum); all zero when sum is zero.
func shareCredits(channels []string, weights []float64, sum, conversions, value float64) []Credit {
	cr := make([]Credit, len(channels))
	for i, c := range channels {
		cr[i].Channel = c
		if sum != 0 {
			cr[i].Conversions = conversions * weights[i] / sum
			cr[i].Value = value * weights[i] / sum
		}
	}
	return cr
}

// encoded holds the paths that shape the chain as channel ids: path i is
// ids[end[i-1]:end[i]] (collapsed when asked; [DirectChannel] for a path
// with no touch), with its conversions and nulls.
type encoded struct {
	channels    []string // sorted; ids index it
	ids         []uint16
	end         []int32
	conv, nulls []float64
	// conversions and value are the totals over all paths.
	conversions, value float64
}

func (e *encoded) path(i int) []uint16 {
	lo := int32(0)
	if i > 0 {
		lo = e.end[i-1]
	}
	return e.ids[lo:e.end[i]]
}

// encodePaths interns the channels (ids in sorted order of the names) and
// encodes the paths with conversions or nulls.
func encodePaths(paths []Path, collapse bool) (*encoded, error) {
	idOf := make(map[string]uint16)
	var names []string
	nt := 0
	for i := range paths {
		nt += len(paths[i].Touches)
	}
	e := &encoded{ids: make([]uint16, 0, nt+len(paths)), end: make([]int32, 0, len(paths)),
		conv: make([]float64, 0, len(paths)), nulls: make([]float64, 0, len(paths))}
	var last string
	var lastID uint16
	intern := func(c string) (uint16, error) {
		if len(names) > 0 && c == last {
			return lastID, nil
		}
		id, ok := idOf[c]
		if !ok {
			if len(names) == maxMarkovChannels {
				return 0, fmt.Errorf("attribution: Markov chain: more than %d distinct channels", maxMarkovChannels)
			}
			id = uint16(len(names))
			idOf[c] = id
			names = append(names, c)
		}
		last, lastID = c, id
		return id, nil
	}
	for i := range paths {
		p := &paths[i]
		e.conversions += p.Conversions
		e.value += p.Value
		if p.Conversions == 0 && p.Nulls == 0 {
			continue
		}
		start := len(e.ids)
		if len(p.Touches) == 0 {
			id, err := intern(DirectChannel)
			if err != nil {
				return nil, err
			}
			e.ids = append(e.ids, id)
		}
		for j := range p.Touches {
			id, err := intern(p.Touches[j].Channel)
			if err != nil {
				return nil, err
			}
			if collapse && len(e.ids) > start && e.ids[len(e.ids)-1] == id {
				continue
			}
			e.ids = append(e.ids, id)
		}
		e.end = append(e.end, int32(len(e.ids)))
		e.conv = append(e.conv, p.Conversions)
		e.nulls = append(e.nulls, p.Nulls)
	}
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return names[order[a]] < names[order[b]] })
	remap := make([]uint16, len(names))
	e.channels = make([]string, len(names))
	for newID, old := range order {
		remap[old] = uint16(newID)
		e.channels[newID] = names[old]
	}
	for i, id := range e.ids {
		e.ids[i] = remap[id]
	}
	return e, nil
}

// edge is one transition out of a transient state.
type edge struct {
	to    int // state index (MarkovResult.States)
	p     float64
	count float64
}

// chain is the fitted chain. Transient states are start and the channel
// tuples; rows[i] are the transitions out of transient state i, whose
// state index is stateOf[i] (row 0 is start).
type chain struct {
	names    []string
	rows     [][]edge
	stateOf  []int
	contains [][]int32 // per channel: the transient rows whose tuple holds it
}

// tupleCounts are the transition counts out of the channel tuples: a
// tuple's outgoing counts are per slot, slot d < nch the next channel d,
// slot nch conversion, slot nch+1 null. They are kept in a dense table
// over all possible tuples when it is small enough (maxDense entries),
// else in maps.
type tupleCounts struct {
	nch, k int
	pow    [4]int // nch^j
	off    [4]int // dense index of the first tuple of length j
	dense  []float64
	states map[uint64]int32 // sparse: tuple key → row of sparse
	keys   []uint64
	sparse map[uint64]float64 // sparse: row<<17 | slot → count
	start  []float64          // start → tuple (d)
}

// maxDense bounds the dense transition table (entries); a variable so
// that tests can force the sparse tables.
var maxDense = 1 << 22

func newTupleCounts(nch, k int) *tupleCounts {
	t := &tupleCounts{nch: nch, k: k, start: make([]float64, nch)}
	t.pow[0] = 1
	size := 0
	for j := 1; j <= k; j++ {
		t.pow[j] = t.pow[j-1] * nch
		t.off[j] = size
		size += t.pow[j]
		if size*(nch+2) > maxDense {
			size = -1
			break
		}
	}
	if size >= 0 {
		t.dense = make([]float64, size*(nch+2))
	} else {
		t.states = make(map[uint64]int32)
		t.sparse = make(map[uint64]float64)
	}
	return t
}

// row returns the count row (dense) or sparse row number of tuple tp.
func (t *tupleCounts) row(tp []uint16) int {
	if t.dense != nil {
		x := 0
		for _, c := range tp {
			x = x*t.nch + int(c)
		}
		return t.off[len(tp)] + x
	}
	key := tupleKey(tp)
	r, ok := t.states[key]
	if !ok {
		r = int32(len(t.keys))
		t.states[key] = r
		t.keys = append(t.keys, key)
	}
	return int(r)
}

func (t *tupleCounts) add(row, slot int, w float64) {
	if t.dense != nil {
		t.dense[row*(t.nch+2)+slot] += w
		return
	}
	t.sparse[uint64(row)<<17|uint64(slot)] += w
}

// tuple decodes a row back into its tuple.
func (t *tupleCounts) tuple(row int, buf []uint16) []uint16 {
	if t.dense == nil {
		key := t.keys[row]
		n := int(key >> 48)
		buf = buf[:n]
		for i := range buf {
			buf[i] = uint16(key >> (16 * (2 - i)))
		}
		return buf
	}
	j := t.k
	for j > 1 && row < t.off[j] {
		j--
	}
	x := row - t.off[j]
	buf = buf[:j]
	for i := j - 1; i >= 0; i-- {
		buf[i] = uint16(x % t.nch)
		x /= t.nch
	}
	return buf
}

// tupleKey packs a tuple of up to three 16-bit channel ids and its length.
func tupleKey(t []uint16) uint64 {
	k := uint64(len(t)) << 48
	for i, c := range t {
		k |= uint64(c) << (16 * (2 - i))
	}
	return k
}

// countChain counts the transitions of the order-k chain: a path's states
// are, at each touch, the tuple of its last k channels (fewer at the
// path's start), with start before the first and conv or null after the
// last.
func countChain(e *encoded, k int) *chain {
	nch := len(e.channels)
	tc := newTupleCounts(nch, k)
	for i := range e.conv {
		seq := e.path(i)
		w := e.conv[i] + e.nulls[i]
		tc.start[seq[0]] += w
		prev := tc.row(seq[:1])
		for j := 1; j < len(seq); j++ {
			tc.add(prev, int(seq[j]), w)
			prev = tc.row(seq[max(0, j-k+1) : j+1])
		}
		if e.conv[i] > 0 {
			tc.add(prev, nch, e.conv[i])
		}
		if e.nulls[i] > 0 {
			tc.add(prev, nch+1, e.nulls[i])
		}
	}
	// The tuples with counts, sorted by channel ids (a prefix first).
	type tupleRow struct {
		tp  []uint16
		row int
	}
	var rows []tupleRow
	if tc.dense != nil {
		w := nch + 2
		for r := 0; r*w < len(tc.dense); r++ {
			for _, x := range tc.dense[r*w : (r+1)*w] {
				if x != 0 {
					rows = append(rows, tupleRow{tc.tuple(r, make([]uint16, 0, k)), r})
					break
				}
			}
		}
	} else {
		for r := range tc.keys {
			rows = append(rows, tupleRow{tc.tuple(r, make([]uint16, 0, k)), r})
		}
	}
	sort.Slice(rows, func(a, b int) bool {
		ta, tb := rows[a].tp, rows[b].tp
		for i := 0; i < len(ta) && i < len(tb); i++ {
			if ta[i] != tb[i] {
				return ta[i] < tb[i]
			}
		}
		return len(ta) < len(tb)
	})
	c := &chain{names: []string{"start", "conv", "null"}, contains: make([][]int32, nch),
		stateOf: []int{stateStart}, rows: make([][]edge, 1, len(rows)+1)}
	stateOfTuple := make(map[uint64]int, len(rows))
	var b strings.Builder
	for i, r := range rows {
		b.Reset()
		for j, id := range r.tp {
			if j > 0 {
				b.WriteByte('>')
			}
			b.WriteString(e.channels[id])
			dup := false
			for _, x := range r.tp[:j] {
				dup = dup || x == id
			}
			if !dup {
				c.contains[id] = append(c.contains[id], int32(i+1))
			}
		}
		stateOfTuple[tupleKey(r.tp)] = len(c.names)
		c.stateOf = append(c.stateOf, len(c.names))
		c.names = append(c.names, b.String())
	}
	normalise := func(row []edge) []edge {
		sort.Slice(row, func(a, b int) bool { return row[a].to < row[b].to })
		tot := 0.0
		for _, x := range row {
			tot += x.count
		}
		for i := range row {
			row[i].p = row[i].count / tot
		}
		return row
	}
	var start []edge
	for d, x := range tc.start {
		if x != 0 {
			start = append(start, edge{to: stateOfTuple[tupleKey([]uint16{uint16(d)})], count: x})
		}
	}
	c.rows[0] = normalise(start)
	next := make([]uint16, 0, k+1)
	target := func(tp []uint16, slot int) int {
		switch slot {
		case nch:
			return stateConv
		case nch + 1:
			return stateNull
		}
		next = append(append(next[:0], tp...), uint16(slot))
		if len(next) > k {
			next = next[1:]
		}
		return stateOfTuple[tupleKey(next)]
	}
	var sparseRows [][]edge
	if tc.dense == nil {
		sparseRows = make([][]edge, len(tc.keys))
		for key, x := range tc.sparse {
			r, slot := int(key>>17), int(key&(1<<17-1))
			sparseRows[r] = append(sparseRows[r], edge{to: slot, count: x})
		}
	}
	for _, r := range rows {
		var row []edge
		if tc.dense != nil {
			w := nch + 2
			for slot, x := range tc.dense[r.row*w : (r.row+1)*w] {
				if x != 0 {
					row = append(row, edge{to: target(r.tp, slot), count: x})
				}
			}
		} else {
			row = sparseRows[r.row]
			for i := range row {
				row[i].to = target(r.tp, row[i].to)
			}
		}
		c.rows = append(c.rows, normalise(row))
	}
	return c
}

// solver solves for P(conversion) from start by Gauss–Seidel sweeps over
// the transient states, from below (x = 0) and from above (x = 1) at once.
type solver struct {
	c *chain
	// CSR over transient rows in sweep order: targets are transient rows
	// (≥ 0), or -1 for conv; null edges are dropped.
	order   []int32
	ptr     []int32
	to      []int32
	p       []float64
	self    []float64 // self-transition probability per row
	removed []bool
	lo, hi  []float64
}

func newSolver(c *chain) *solver {
	n := len(c.rows)
	rowOfState := make(map[int]int32, n)
	for r, st := range c.stateOf {
		rowOfState[st] = int32(r)
	}
	// Sweep order: farthest from start first (successors are then mostly
	// updated before their predecessors).
	depth := make([]int, n)
	for i := range depth {
		depth[i] = -1
	}
	depth[0] = 0
	queue := []int{0}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for _, e := range c.rows[r] {
			if t, ok := rowOfState[e.to]; ok && depth[t] < 0 {
				depth[t] = depth[r] + 1
				queue = append(queue, int(t))
			}
		}
	}
	s := &solver{c: c, order: make([]int32, n), self: make([]float64, n), removed: make([]bool, n),
		lo: make([]float64, n), hi: make([]float64, n)}
	for i := range s.order {
		s.order[i] = int32(i)
	}
	sort.SliceStable(s.order, func(a, b int) bool { return depth[s.order[a]] > depth[s.order[b]] })
	s.ptr = make([]int32, n+1)
	for r := 0; r < n; r++ {
		for _, e := range c.rows[r] {
			switch {
			case e.to == stateConv:
				s.to = append(s.to, -1)
				s.p = append(s.p, e.p)
			case e.to == stateNull:
				continue
			case int(rowOfState[e.to]) == r:
				s.self[r] += e.p
				continue
			default:
				s.to = append(s.to, rowOfState[e.to])
				s.p = append(s.p, e.p)
			}
		}
		s.ptr[r+1] = int32(len(s.to))
	}
	return s
}

var errNoConvergence = errors.New("attribution: Markov chain: the solver did not converge")

// solve returns P(conversion) from start with the states holding channel
// removeChannel redirected to null (none when removeChannel < 0), and the
// number of sweeps. Gauss–Seidel is run from the sub-solution 0 and the
// super-solution 1; for a non-negative substochastic matrix both sequences
// are monotone and bracket the exact solution at every sweep, so the
// solve stops when the bracket at start is narrower than solveTol
// relative to it (or both bounds are 0), or when a sweep no longer moves
// the bounds (rounding) and the bracket is within stallTol.
func (s *solver) solve(removeChannel int) (float64, int, error) {
	for i := range s.removed {
		s.removed[i] = false
		s.lo[i], s.hi[i] = 0, 1
	}
	if removeChannel >= 0 {
		for _, r := range s.c.contains[removeChannel] {
			s.removed[r] = true
			s.hi[r] = 0
		}
	}
	prevLo, prevHi := -1.0, -1.0
	for sweep := 1; sweep <= maxSweeps; sweep++ {
		for _, r := range s.order {
			if s.removed[r] {
				continue
			}
			var a, b float64
			for e := s.ptr[r]; e < s.ptr[r+1]; e++ {
				t := s.to[e]
				if t < 0 {
					a += s.p[e]
					b += s.p[e]
					continue
				}
				a += s.p[e] * s.lo[t]
				b += s.p[e] * s.hi[t]
			}
			if d := 1 - s.self[r]; d > 0 {
				a /= d
				b /= d
			} else {
				a, b = 0, 0 // a state that never leaves (cannot happen: every state ends some path)
			}
			s.lo[r], s.hi[r] = a, b
		}
		lo, hi := s.lo[0], s.hi[0]
		if hi-lo <= solveTol*hi {
			return (lo + hi) / 2, sweep, nil
		}
		// Rounding can stop the bounds a few ulps short of solveTol: when
		// a sweep moves neither, accept a bracket within stallTol.
		if lo == prevLo && hi == prevHi && hi-lo <= stallTol*hi {
			return (lo + hi) / 2, sweep, nil
		}
		prevLo, prevHi = lo, hi
	}
	return 0, maxSweeps, fmt.Errorf("%w within %d sweeps (bracket [%g, %g])", errNoConvergence, maxSweeps, s.lo[0], s.hi[0])
}
