package attribution

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func pathOf(s string, conv, nulls, value float64) Path {
	p := Path{Conversions: conv, Nulls: nulls, Value: value}
	if s != "" {
		for i, c := range strings.Split(s, ">") {
			p.Touches = append(p.Touches, Touch{Channel: c, At: int64(i)})
		}
	}
	return p
}

// TestRunMarkov_Hand: the three-path example worked by hand.
// start→C1 2/3, start→C2 1/3; C1→C2 1/2, C1→null 1/2; C2→C3 1;
// C3→conv 1/2, C3→null 1/2. P(C3) = P(C2) = 1/2, P(C1) = 1/4, so
// P(conv) = 2/3·1/4 + 1/3·1/2 = 1/3. Without C1: 1/3·1/2 = 1/6, removal
// effect 1/2; without C2 or C3 nothing converts: 1. Credits 0.2, 0.4, 0.4.
func TestRunMarkov_Hand(t *testing.T) {
	paths := []Path{pathOf("C1>C2>C3", 1, 0, 100), pathOf("C1", 0, 1, 0), pathOf("C2>C3", 0, 1, 0)}
	r, err := RunMarkov(paths, MarkovOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Order != 1 || strings.Join(r.Channels, ",") != "C1,C2,C3" || !near(r.ConversionProb, 1./3, 1e-12) {
		t.Fatalf("result %+v", r)
	}
	wantRE := []float64{.5, 1, 1}
	wantCr := []float64{.2, .4, .4}
	for i := range wantRE {
		if !near(r.RemovalEffect[i], wantRE[i], 1e-12) || !near(r.Credit[i].Conversions, wantCr[i], 1e-12) || !near(r.Credit[i].Value, 100*wantCr[i], 1e-10) || r.Credit[i].Channel != r.Channels[i] {
			t.Fatalf("removal effects %v credits %+v", r.RemovalEffect, r.Credit)
		}
	}
	if strings.Join(r.States, ",") != "start,conv,null,C1,C2,C3" {
		t.Fatalf("states %v", r.States)
	}
	want := []Transition{{0, 3, 2. / 3, 2}, {0, 4, 1. / 3, 1}, {3, 2, .5, 1}, {3, 4, .5, 1}, {4, 5, 1, 2}, {5, 1, .5, 1}, {5, 2, .5, 1}}
	if len(r.Transitions) != len(want) {
		t.Fatalf("transitions %+v", r.Transitions)
	}
	for i, w := range want {
		g := r.Transitions[i]
		if g.From != w.From || g.To != w.To || g.Count != w.Count || !near(g.P, w.P, 1e-15) {
			t.Fatalf("transition %d = %+v, want %+v", i, g, w)
		}
	}
}

// TestRunMarkov_HandRepeatsAndDirect: repeated channels (self-loop or
// collapsed), a direct conversion with no touch, and the second order.
func TestRunMarkov_HandRepeatsAndDirect(t *testing.T) {
	// A>A>B converts, A does not, two direct conversions (no touch).
	paths := []Path{pathOf("A>A>B", 1, 0, 10), pathOf("A", 0, 1, 0), pathOf("", 2, 0, 4)}
	// Order 1, no collapse: start→A 2/4, start→Direct 2/4; A→A 1/3, A→B 1/3,
	// A→null 1/3, so P(A) = 1/2; P(conv) = 1/2·1/2 + 1/2 = 3/4.
	// Without A: 1/2 (RE 1/3); without B: P(A) = 0, 1/2 (RE 1/3); without
	// Direct: 1/4 (RE 2/3). Credits of 3 conversions: 3/4, 3/4, 3/2.
	r, err := RunMarkov(paths, MarkovOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(r *MarkovResult, p float64, re, cr []float64) {
		t.Helper()
		if !near(r.ConversionProb, p, 1e-12) {
			t.Fatalf("P = %v, want %v", r.ConversionProb, p)
		}
		for i := range re {
			if !near(r.RemovalEffect[i], re[i], 1e-12) || !near(r.Credit[i].Conversions, cr[i], 1e-12) || !near(r.Credit[i].Value, 14*cr[i]/3, 1e-12) {
				t.Fatalf("%v: removal effects %v credits %+v, want %v %v", r.Channels, r.RemovalEffect, r.Credit, re, cr)
			}
		}
	}
	check(r, .75, []float64{1. / 3, 1. / 3, 2. / 3}, []float64{.75, .75, 1.5})
	// Collapsed: A>B converts, A not: P(A) = 1/2 again, same figures.
	r, err = RunMarkov(paths, MarkovOptions{Collapse: true})
	if err != nil {
		t.Fatal(err)
	}
	check(r, .75, []float64{1. / 3, 1. / 3, 2. / 3}, []float64{.75, .75, 1.5})
	// Order 2, no collapse: states A, A>A, A>B, Direct. A→A>A 1/2,
	// A→null 1/2; A>A→A>B 1; A>B→conv. P(A) = 1/2, as before.
	r, err = RunMarkov(paths, MarkovOptions{Order: 2})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.States, ",") != "start,conv,null,A,A>A,A>B,Direct" {
		t.Fatalf("states %v", r.States)
	}
	check(r, .75, []float64{1. / 3, 1. / 3, 2. / 3}, []float64{.75, .75, 1.5})
}

// refMarkov is an independent computation: states named by joining the
// last k channels, a dense transition matrix, and (I − Q) x = r solved by
// LU (gonum mat) for the full chain and for each removal.
func refMarkov(t *testing.T, paths []Path, k int, collapse bool) (channels []string, p float64, re []float64, trans map[[2]string]float64) {
	t.Helper()
	count := map[string]map[string]float64{}
	add := func(a, b string, w float64) {
		if count[a] == nil {
			count[a] = map[string]float64{}
		}
		count[a][b] += w
	}
	chSet := map[string]bool{}
	for _, p := range paths {
		if p.Conversions+p.Nulls == 0 {
			continue
		}
		var seq []string
		for _, tc := range p.Touches {
			if collapse && len(seq) > 0 && seq[len(seq)-1] == tc.Channel {
				continue
			}
			seq = append(seq, tc.Channel)
		}
		if len(seq) == 0 {
			seq = []string{DirectChannel}
		}
		prev := "start"
		for j := range seq {
			chSet[seq[j]] = true
			st := strings.Join(seq[max(0, j-k+1):j+1], ">")
			add(prev, st, p.Conversions+p.Nulls)
			prev = st
		}
		if p.Conversions > 0 {
			add(prev, "conv", p.Conversions)
		}
		if p.Nulls > 0 {
			add(prev, "null", p.Nulls)
		}
	}
	for c := range chSet {
		channels = append(channels, c)
	}
	sort.Strings(channels)
	var states []string
	for s := range count {
		states = append(states, s)
	}
	sort.Strings(states)
	idx := map[string]int{}
	for i, s := range states {
		idx[s] = i
	}
	trans = map[[2]string]float64{}
	for a, row := range count {
		tot := 0.0
		for _, w := range row {
			tot += w
		}
		for b, w := range row {
			trans[[2]string{a, b}] = w / tot
		}
	}
	solve := func(removed string) float64 {
		n := len(states)
		A := mat.NewDense(n, n, nil)
		rhs := mat.NewVecDense(n, nil)
		gone := func(s string) bool {
			if removed == "" || s == "start" {
				return false
			}
			for _, c := range strings.Split(s, ">") {
				if c == removed {
					return true
				}
			}
			return false
		}
		for i, a := range states {
			A.Set(i, i, 1)
			if gone(a) {
				continue
			}
			for b, q := range trans {
				if b[0] != a {
					continue
				}
				switch {
				case b[1] == "conv":
					rhs.SetVec(i, rhs.AtVec(i)+q)
				case b[1] == "null" || gone(b[1]):
				default:
					j := idx[b[1]]
					A.Set(i, j, A.At(i, j)-q)
				}
			}
		}
		var x mat.VecDense
		if err := x.SolveVec(A, rhs); err != nil {
			t.Fatalf("dense solve: %v", err)
		}
		return x.AtVec(idx["start"])
	}
	p = solve("")
	for _, c := range channels {
		re = append(re, 1-solve(c)/p)
	}
	return channels, p, re, trans
}

// TestRunMarkov_Reference compares RunMarkov with refMarkov on small
// random path sets, orders 1–3, with and without collapsing, and checks
// that the credits sum to the conversions and value.
func TestRunMarkov_Reference(t *testing.T) {
	defer func(m int) { maxDense = m }(maxDense)
	rng := rand.New(rand.NewPCG(3, 5))
	for it := 0; it < 80; it++ {
		maxDense = 1 << 22
		if it%2 == 1 {
			maxDense = 0 // the sparse tables
		}
		nch := 2 + rng.IntN(4)
		paths := randomPaths(rng, 5+rng.IntN(60), nch, 6)
		var convs, value float64
		for _, p := range paths {
			convs += p.Conversions
			value += p.Value
		}
		for k := 1; k <= 3; k++ {
			for _, collapse := range []bool{false, true} {
				r, err := RunMarkov(paths, MarkovOptions{Order: k, Collapse: collapse})
				if err != nil {
					t.Fatal(err)
				}
				chs, p, re, trans := refMarkov(t, paths, k, collapse)
				if strings.Join(chs, ",") != strings.Join(r.Channels, ",") || !near(p, r.ConversionProb, 1e-11) {
					t.Fatalf("it %d k %d: channels %v P %v, reference %v %v", it, k, r.Channels, r.ConversionProb, chs, p)
				}
				sum := 0.0
				for i := range re {
					if math.Abs(re[i]-r.RemovalEffect[i]) > 1e-10 {
						t.Fatalf("it %d k %d collapse %v: removal effects %v, reference %v", it, k, collapse, r.RemovalEffect, re)
					}
					sum += r.RemovalEffect[i]
				}
				if len(r.Transitions) != len(trans) {
					t.Fatalf("%d transitions, reference %d", len(r.Transitions), len(trans))
				}
				for _, tr := range r.Transitions {
					q, ok := trans[[2]string{r.States[tr.From], r.States[tr.To]}]
					if !ok || !near(q, tr.P, 1e-14) {
						t.Fatalf("transition %s→%s %v, reference %v", r.States[tr.From], r.States[tr.To], tr.P, q)
					}
				}
				var c, v float64
				for _, cr := range r.Credit {
					c += cr.Conversions
					v += cr.Value
				}
				if !near(c, convs, 1e-9) || !near(v, value, 1e-9) {
					t.Fatalf("credits sum to %v, %v; paths hold %v, %v", c, v, convs, value)
				}
			}
		}
	}
}

// plantedPaths simulates people who each see 1–4 touches drawn uniformly
// from channels A–D and convert with probability
// 0.02 + 0.2·[saw A] + 0.04·[saw B] + 0.04·[saw C] (D has no effect).
func plantedPaths(rng *rand.Rand, n int) []Path {
	chs := []string{"A", "B", "C", "D"}
	pick := []float64{.25, .25, .25, .25}
	paths := make([]Path, n)
	for i := range paths {
		nt := 1 + rng.IntN(4)
		saw := map[string]bool{}
		var p Path
		for j := 0; j < nt; j++ {
			u, c := rng.Float64(), 0
			for u > pick[c] {
				u -= pick[c]
				c++
			}
			p.Touches = append(p.Touches, Touch{Channel: chs[c], At: int64(j)})
			saw[chs[c]] = true
		}
		q := .02
		if saw["A"] {
			q += .2
		}
		if saw["B"] {
			q += .04
		}
		if saw["C"] {
			q += .04
		}
		if rng.Float64() < q {
			p.Conversions, p.Value = 1, 30
		} else {
			p.Nulls = 1
		}
		paths[i] = p
	}
	return paths
}

// TestRunMarkov_PlantedEffect: with equal exposure, the channel with the
// planted large effect gets the largest removal effect at every order.
func TestRunMarkov_PlantedEffect(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 19))
	paths := plantedPaths(rng, 40000)
	for k := 1; k <= 3; k++ {
		r, err := RunMarkov(paths, MarkovOptions{Order: k})
		if err != nil {
			t.Fatal(err)
		}
		re := map[string]float64{}
		for i, c := range r.Channels {
			re[c] = r.RemovalEffect[i]
		}
		t.Logf("order %d: removal effects %v", k, re)
		if !(re["A"] > re["B"] && re["A"] > re["C"] && re["A"] > re["D"]) {
			t.Errorf("order %d: removal effects %v: A not first", k, re)
		}
		if !(re["D"] < re["B"] && re["D"] < re["C"]) {
			t.Errorf("order %d: removal effects %v: D (no effect) not last", k, re)
		}
	}
}

func TestRunMarkov_Errors(t *testing.T) {
	if _, err := RunMarkov(nil, MarkovOptions{Order: 4}); err == nil || !strings.Contains(err.Error(), "order 4") {
		t.Errorf("order 4: %v", err)
	}
	if _, err := RunMarkov([]Path{{Nulls: -1}}, MarkovOptions{}); err == nil || !strings.Contains(err.Error(), "path 0") {
		t.Errorf("bad path: %v", err)
	}
	for _, ps := range [][]Path{nil, {{Value: 5}}, {pathOf("A", 0, 0, 3)}} {
		r, err := RunMarkov(ps, MarkovOptions{Order: 3})
		if err != nil || len(r.Channels) != 0 || r.ConversionProb != 0 {
			t.Errorf("%v: %+v %v", ps, r, err)
		}
	}
	// No conversion at all: removal effects and credits are zero.
	r, err := RunMarkov([]Path{pathOf("A>B", 0, 3, 0)}, MarkovOptions{})
	if err != nil || r.ConversionProb != 0 || r.RemovalEffect[0] != 0 || r.Credit[1].Conversions != 0 {
		t.Errorf("no conversions: %+v %v", r, err)
	}
}

// TestRunMarkov_LongCycle: a path that alternates A and B two thousand
// times makes the chain slow to absorb; the solver still meets the dense
// reference.
func TestRunMarkov_LongCycle(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 2000; i++ {
		if i > 0 {
			b.WriteByte('>')
		}
		b.WriteString([]string{"A", "B"}[i%2])
	}
	paths := []Path{pathOf(b.String(), 3, 1, 9), pathOf("B>C", 0, 5, 0), pathOf("C", 1, 2, 1)}
	for k := 1; k <= 3; k++ {
		r, err := RunMarkov(paths, MarkovOptions{Order: k})
		if err != nil {
			t.Fatal(err)
		}
		_, p, re, _ := refMarkov(t, paths, k, false)
		if !near(p, r.ConversionProb, 1e-11) {
			t.Fatalf("order %d: P %v, reference %v", k, r.ConversionProb, p)
		}
		for i := range re {
			if math.Abs(re[i]-r.RemovalEffect[i]) > 1e-10 {
				t.Fatalf("order %d: removal effects %v, reference %v", k, r.RemovalEffect, re)
			}
		}
		t.Logf("order %d: %d sweeps", k, r.Sweeps)
	}
}
