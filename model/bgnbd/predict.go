package bgnbd

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// ExpectedPurchases returns E[X(t)], the expected number of repeat
// purchases of a new customer in a period of length t after the first
// purchase (eq. 7):
//
//	E[X(t)] = (a+b−1)/(a−1) · [1 − (α/(α+t))^r · 2F1(r, b; a+b−1; t/(α+t))].
//
// See expectedAlive for how it is evaluated.
func (p Params) ExpectedPurchases(t float64) float64 {
	if t <= 0 {
		return 0
	}
	return expectedAlive(p.R, p.Alpha, p.A, p.B, t)
}

// ConditionalExpectedPurchases returns E[Y(t) | x, tx, T], the expected
// number of purchases in the next t time units of a customer whose
// calibration summary is (x, tx, T) (eq. 10):
//
//	(a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))]
//	/ [1 + δ(x>0)·a/(b+x−1)·((α+T)/(α+tx))^(r+x)],
//
// that is P(alive) times eq. 7 with the posterior parameters r+x, α+T, a
// and b+x of a customer still alive at T.
func (p Params) ConditionalExpectedPurchases(t, x, tx, T float64) float64 {
	return p.ExpectedPurchasesIfAlive(t, x, T) * p.PAlive(x, tx, T)
}

// ExpectedPurchasesIfAlive returns E[Y(t) | alive at T, x, T], the
// expected purchases in the next t time units of a customer with x repeat
// purchases in T who is still active: eq. 7 with the posterior parameters
// r+x, α+T, a and b+x. It does not depend on tx, so callers forecasting many
// customers can compute it once per distinct (x, T) and multiply by
// PAlive(x, tx, T).
func (p Params) ExpectedPurchasesIfAlive(t, x, T float64) float64 {
	if t <= 0 {
		return 0
	}
	return expectedAlive(p.R+x, p.Alpha+T, p.A, p.B+x, t)
}

// expectedAlive returns eq. 7 for parameters (r, α, a, b): the closed form
// with gonum's 2F1 while r and b are below 40 (at a within 1e-6 of 1,
// where it is 0/0, the mean of its values at a = 1 ± 1e-5); otherwise, or
// when the closed form is not finite and positive, the integral over the
// dropout probability
//
//	E = ∫ Beta(p; a, b) · (1 − (α/(α+pt))^r) / p dp
//
// by Gauss–Legendre quadrature (given p, λ ~ Gamma(r, α) buys
// (1 − e^(−λpt))/p in expectation before dropping out). The tests compare
// the two where both apply.
func expectedAlive(r, al, a, b, t float64) float64 {
	if r < 40 && b < 40 {
		closed := func(a float64) float64 {
			z := t / (al + t)
			lead := math.Exp(r * math.Log(al/(al+t)))
			return (a + b - 1) / (a - 1) * (1 - lead*mathext.Hypergeo(r, b, a+b-1, z))
		}
		var v float64
		if math.Abs(a-1) < 1e-6 {
			v = (closed(1-1e-5) + closed(1+1e-5)) / 2
		} else {
			v = closed(a)
		}
		if v > 0 && !math.IsInf(v, 0) {
			return v
		}
	}
	return expectedByQuadrature(r, al, a, b, t)
}

// expectedByQuadrature integrates eq. 7's definition over p with the
// rule of betaRule: Σ_k w_k·g(p_k, t), g(p, t) = (1 − (α/(α+pt))^r)/p.
func expectedByQuadrature(r, al, a, b, t float64) float64 {
	ps, ws := betaRule(a, b)
	var s float64
	for k, p := range ps {
		s += ws[k] * gAlive(r, al, p, t)
	}
	return s
}

// gAlive is the expected purchases before dropout, (1 − (α/(α+pt))^r)/p,
// of a customer with dropout probability p over t, averaged over λ ~
// Gamma(r, α).
func gAlive(r, al, p, t float64) float64 {
	if q := p * t / al; q < 1e-8 {
		return r * t / al * (1 - (r+1)/2*q) // series of (1 − (1+q)^−r)/p
	}
	return -math.Expm1(-r*math.Log1p(p*t/al)) / p
}

// betaRule returns nodes p_k in (0, 1) and weights w_k such that
// ∫ Beta(p; a, b)·f(p) dp ≈ Σ_k w_k·f(p_k) for f smooth on [0, 1]. The
// weights are computed in logs, so any a, b > 0 give finite weights.
//
// With a and b both at least 20 the density is a single smooth bump: the
// rule covers its mean ± 15 standard deviations (clipped to [0, 1]) with
// 30 panels of 8 Gauss–Legendre nodes, and the weights are normalised to
// sum to 1 (so log B(a, b), which loses digits for a, b ~ 1e7, is not
// needed). This is the case of homogeneous dropout, where the fit sends a
// and b to 1e5–1e7 with a/(a+b) fixed.
//
// Otherwise the integral is split into p in [0, ½] and 1−p in [0, ½],
// each cut into panels that halve towards the end point (40 panels of 8
// nodes), so that the density's factors p^(a−1) and (1−p)^(b−1) are
// smooth on every panel; the last, innermost panel uses u = p^a (v =
// (1−p)^b), where those factors become constants. The part near p = 1 is
// skipped when (1−p)^(b−1) is below e^(−60) there.
func betaRule(a, b float64) (ps, ws []float64) {
	ps, ws = betaNodes(a, b)
	// Nodes of negligible weight (g is bounded by g(0), the weights sum
	// to 1) are dropped.
	k := 0
	for i := range ps {
		if ws[i] > 1e-20 {
			ps[k], ws[k] = ps[i], ws[i]
			k++
		}
	}
	return ps[:k], ws[:k]
}

func betaNodes(a, b float64) (ps, ws []float64) {
	const n = 8
	x, w := make([]float64, n), make([]float64, n)
	if a >= 20 && b >= 20 {
		m := a / (a + b)
		sd := math.Sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)))
		lo, hi := math.Max(m-15*sd, 0), math.Min(m+15*sd, 1)
		const panels = 30
		var lmax float64 = math.Inf(-1)
		var ls []float64
		for k := 0; k < panels; k++ {
			quad.Legendre{}.FixedLocations(x, w, lo+(hi-lo)*float64(k)/panels, lo+(hi-lo)*float64(k+1)/panels)
			for i := range x {
				l := math.Log(w[i]) + (a-1)*math.Log(x[i]) + (b-1)*math.Log1p(-x[i])
				ps, ls = append(ps, x[i]), append(ls, l)
				lmax = math.Max(lmax, l)
			}
		}
		var sum float64
		ws = make([]float64, len(ls))
		for k, l := range ls {
			ws[k] = math.Exp(l - lmax)
			sum += ws[k]
		}
		for k := range ws {
			ws[k] /= sum
		}
		return ps, ws
	}
	lb := mathext.Lbeta(a, b)
	// part adds the nodes over d = distance from the end point in (0, ½]:
	// the density is d^(e−1)·other(p)/B(a, b), e the exponent at that end.
	part := func(e float64, toP func(d float64) float64, lother func(p float64) float64) {
		const levels = 40
		hi := 0.5
		for k := 0; k < levels; k++ {
			lo := hi / 2
			quad.Legendre{}.FixedLocations(x, w, lo, hi)
			for i, d := range x {
				p := toP(d)
				ps = append(ps, p)
				ws = append(ws, math.Exp(math.Log(w[i])+lother(p)+(e-1)*math.Log(d)-lb))
			}
			hi = lo
		}
		// Innermost panel, d in (0, hi]: u = d^e, d^(e−1)·dd = du/e.
		top := math.Pow(hi, e)
		if !(top > 0) {
			return // the density is 0 there
		}
		quad.Legendre{}.FixedLocations(x, w, 0, top)
		for i, u := range x {
			p := toP(math.Pow(u, 1/e))
			ps = append(ps, p)
			ws = append(ws, math.Exp(math.Log(w[i]/e)+lother(p)-lb))
		}
	}
	part(a, func(d float64) float64 { return d }, func(p float64) float64 { return (b - 1) * math.Log1p(-p) })
	if b <= 1 || (b-1)*math.Log(2) < 60 {
		part(b, func(d float64) float64 { return 1 - d }, func(p float64) float64 { return (a - 1) * math.Log(p) })
	}
	return ps, ws
}

// ExpectedPurchasesIfAliveAt returns ExpectedPurchasesIfAlive(t, x, T) for
// every t in ts, sharing the work: the closed form where it applies,
// otherwise one quadrature rule for all the horizons.
func (p Params) ExpectedPurchasesIfAliveAt(ts []float64, x, T float64) []float64 {
	return p.ExpectedPurchasesIfAliveGrid(ts, x, []float64{T})[0]
}

// ExpectedPurchasesIfAliveGrid returns, for every T in Ts, the values of
// ExpectedPurchasesIfAliveAt(ts, x, T): customers with the same x share
// the quadrature rule (it depends on a and b + x only).
//
// On the quadrature path, the nodes p so small that r·p·t/(α+T) ≤ 1/20
// for every t and T of the call are not evaluated one by one: there g is
// the power series Σ_{n≥1} (−1)^(n+1)·(r)_n/n!·(t/α)^n·p^(n−1), so their
// part of the sum is Σ_n (−1)^(n+1)·(r)_n/n!·(t/α)^n·M_(n−1) with the
// moments M_m = Σ w_k·p_k^m of those nodes, computed once (terms shrink
// by 1/20 or faster; the series is cut when a term is below 1e-18 of the
// sum).
func (p Params) ExpectedPurchasesIfAliveGrid(ts []float64, x float64, Ts []float64) [][]float64 {
	r, a, b := p.R+x, p.A, p.B+x
	out := make([][]float64, len(Ts))
	var ps, ws []float64
	var moments []float64
	for j, T := range Ts {
		al := p.Alpha + T
		row := make([]float64, len(ts))
		out[j] = row
		for i, t := range ts {
			if t <= 0 {
				continue
			}
			if r < 40 && b < 40 {
				row[i] = expectedAlive(r, al, a, b, t)
				continue
			}
			if ps == nil {
				ps, ws, moments = splitRule(r, p.Alpha, ts, Ts, a, b)
			}
			var s float64
			for k, q := range ps {
				s += ws[k] * gAlive(r, al, q, t)
			}
			row[i] = s + seriesPart(r, t/al, moments)
		}
	}
	return out
}

// splitRule returns betaRule(a, b)'s nodes and weights without the nodes
// p ≤ p0 = (α + min T)/(20·r·max t), and the moments M_m = Σ w_k·p_k^m,
// m = 0..maxMoments−1, of the nodes left out (nil when none is).
func splitRule(r, alpha float64, ts, Ts []float64, a, b float64) (ps, ws, moments []float64) {
	all, allW := betaRule(a, b)
	tmax, Tmin := 0.0, math.Inf(1)
	for _, t := range ts {
		tmax = math.Max(tmax, t)
	}
	for _, T := range Ts {
		Tmin = math.Min(Tmin, T)
	}
	p0 := (alpha + Tmin) / (20 * r * tmax)
	for k, q := range all {
		if q > p0 || !(p0 > 0) {
			ps, ws = append(ps, q), append(ws, allW[k])
			continue
		}
		if moments == nil {
			moments = make([]float64, maxMoments)
		}
		pw := allW[k]
		for m := range moments {
			moments[m] += pw
			pw *= q
		}
	}
	return ps, ws, moments
}

// maxMoments bounds the terms of seriesPart: with r·p·t/α ≤ 1/20 the
// n-th term is below (1/20)^n of the first.
const maxMoments = 24

// seriesPart returns Σ_{n≥1} (−1)^(n+1)·(r)_n/n!·u^n·M_(n−1), u = t/α,
// the expected purchases contributed by the nodes of the moments M.
func seriesPart(r, u float64, moments []float64) float64 {
	var s float64
	c := 1.0 // (r)_n/n!·u^n
	for n := 1; n <= len(moments); n++ {
		c *= (r + float64(n) - 1) / float64(n) * u
		term := c * moments[n-1]
		if n%2 == 0 {
			term = -term
		}
		s += term
		if math.Abs(term) < 1e-18*math.Abs(s) {
			break
		}
	}
	return s
}

// PAlive returns the probability that a customer with summary (x, tx, T) is
// still active at T (Fader, Hardie & Lee 2005, eq. 11):
//
//	1 / [1 + δ(x>0)·a/(b+x−1)·((α+T)/(α+tx))^(r+x)],
//
// evaluated in logs. A customer without repeat purchases is alive with
// probability 1: in the BG/NBD, dropout happens only right after a repeat
// purchase.
func (p Params) PAlive(x, tx, T float64) float64 {
	if x <= 0 {
		return 1
	}
	l := math.Log(p.A) - math.Log(p.B+x-1) + (p.R+x)*(math.Log(p.Alpha+T)-math.Log(p.Alpha+tx))
	if l > 0 {
		q := math.Exp(-l)
		return q / (1 + q)
	}
	return 1 / (1 + math.Exp(l))
}

// ProbPurchases returns P(X(t) = x), the probability that a new customer
// makes x repeat purchases in a period of length t (eq. 8). Summed over
// customers it gives the expected histogram of calibration frequencies, the
// paper's Figure 3 check.
func (p Params) ProbPurchases(x int, t float64) float64 {
	if x < 0 {
		return 0
	}
	fx := float64(x)
	lb0 := mathext.Lbeta(p.A, p.B)
	lgr, _ := math.Lgamma(p.R)
	lgrx, _ := math.Lgamma(p.R + fx)
	lfx, _ := math.Lgamma(fx + 1)
	q := p.Alpha / (p.Alpha + t)
	first := math.Exp(mathext.Lbeta(p.A, p.B+fx) - lb0 + lgrx - lgr - lfx + p.R*math.Log(q) + nanToZero(fx*math.Log(t/(p.Alpha+t))))
	if x == 0 {
		return first
	}
	// 1 − q^r·Σ_{j<x} Γ(r+j)/(Γ(r) j!)·(t/(α+t))^j, the NBD's P(X ≥ x).
	var sum float64
	term := math.Exp(p.R * math.Log(q))
	for j := 0; j < x; j++ {
		sum += term
		term *= (p.R + float64(j)) / float64(j+1) * (t / (p.Alpha + t))
	}
	second := math.Exp(mathext.Lbeta(p.A+1, p.B+fx-1)-lb0) * (1 - sum)
	return first + second
}

func nanToZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// HoldoutCustomer is a customer's calibration summary with what happened
// next: HoldoutX repeat purchases in the Holdout time units that followed
// the calibration period.
type HoldoutCustomer struct {
	Customer
	Holdout  float64 `json:"holdout"`
	HoldoutX float64 `json:"holdout_x"`
}

// FrequencyRow is one line of the calibration/hold-out check: the
// customers who made X repeat purchases in the calibration period (X or
// more when Plus), their actual mean number of purchases in the hold-out
// period, and the model's conditional expectation averaged over them.
type FrequencyRow struct {
	X         int     `json:"x"`
	Plus      bool    `json:"plus"`
	Customers float64 `json:"customers"`
	Actual    float64 `json:"actual"`
	Predicted float64 `json:"predicted"`
}

// ExpectedRepeatByFrequency groups the customers by calibration frequency
// 0, 1, …, maxX−1 and maxX-or-more, and returns per group the actual and
// the predicted mean number of hold-out purchases (Fader, Hardie & Lee
// 2005, Figure 5; the prediction for each customer is
// ConditionalExpectedPurchases(Holdout, X, TX, T)). Groups without
// customers are left out. Counts weight the means.
func (p Params) ExpectedRepeatByFrequency(cs []HoldoutCustomer, maxX int) []FrequencyRow {
	if maxX < 0 {
		maxX = 0
	}
	rows := make([]FrequencyRow, maxX+1)
	for i := range rows {
		rows[i].X = i
	}
	rows[maxX].Plus = true
	// The expectation for a customer alive at T depends on (x, T, hold-out
	// length) only: computed once per distinct triple.
	type key struct{ x, T, h float64 }
	memo := make(map[key]float64, 1024)
	for _, c := range cs {
		w := c.Count
		if w == 0 {
			w = 1
		}
		k := int(math.Min(c.X, float64(maxX)))
		rows[k].Customers += w
		rows[k].Actual += w * c.HoldoutX
		kk := key{c.X, c.T, c.Holdout}
		e, ok := memo[kk]
		if !ok {
			e = p.ExpectedPurchasesIfAlive(c.Holdout, c.X, c.T)
			memo[kk] = e
		}
		rows[k].Predicted += w * e * p.PAlive(c.X, c.TX, c.T)
	}
	out := rows[:0]
	for _, r := range rows {
		if r.Customers > 0 {
			r.Actual /= r.Customers
			r.Predicted /= r.Customers
			out = append(out, r)
		}
	}
	return out
}

// Start is a group of Count customers whose first purchase was at time At.
type Start struct {
	At    float64 `json:"at"`
	Count float64 `json:"count"`
}

// ExpectedCumulativeRepeat returns, for each time τ in times, the expected
// cumulative number of repeat purchases made by τ by customers who joined
// at the given start times: Σ Count·E[X(τ − At)] over starts with At < τ
// (Fader, Hardie & Lee 2005, Figure 2, the "tracking" check). Times and
// starts are on the same clock.
func (p Params) ExpectedCumulativeRepeat(starts []Start, times []float64) []float64 {
	out := make([]float64, len(times))
	memo := make(map[float64]float64, 1024) // E[X(age)] by age
	for i, tau := range times {
		var s float64
		for _, st := range starts {
			if tau > st.At {
				w := st.Count
				if w == 0 {
					w = 1
				}
				age := tau - st.At
				e, ok := memo[age]
				if !ok {
					e = p.ExpectedPurchases(age)
					memo[age] = e
				}
				s += w * e
			}
		}
		out[i] = s
	}
	return out
}

// Simulate draws n customers aged T from the BG/NBD with parameters p.
func Simulate(rng *rand.Rand, p Params, n int, T float64) []Customer {
	ages := make([]float64, n)
	for i := range ages {
		ages[i] = T
	}
	hs := SimulateHoldout(rng, p, ages, 0)
	out := make([]Customer, n)
	for i, h := range hs {
		out[i] = h.Customer
	}
	return out
}

// SimulateHoldout draws one customer per age in ages (the customer's T)
// and follows each for holdout more time units: each customer has a
// purchase rate λ ~ Gamma(r, α) and a dropout probability p ~ Beta(a, b),
// buys at the times of a Poisson process of rate λ and drops out for good
// with probability p right after each repeat purchase. HoldoutX counts the
// purchases in (T, T+holdout].
func SimulateHoldout(rng *rand.Rand, p Params, ages []float64, holdout float64) []HoldoutCustomer {
	gam := distuv.Gamma{Alpha: p.R, Beta: p.Alpha, Src: rng}
	bet := distuv.Beta{Alpha: p.A, Beta: p.B, Src: rng}
	out := make([]HoldoutCustomer, len(ages))
	for i, T := range ages {
		lambda, drop := gam.Rand(), bet.Rand()
		c := HoldoutCustomer{Customer: Customer{T: T, Count: 1}, Holdout: holdout}
		t := 0.0
		for {
			t += rng.ExpFloat64() / lambda
			if t > T+holdout || math.IsInf(t, 0) || math.IsNaN(t) {
				break
			}
			if t <= T {
				c.X++
				c.TX = t
			} else {
				c.HoldoutX++
			}
			if rng.Float64() < drop {
				break
			}
		}
		out[i] = c
	}
	return out
}

// Collapse merges customers with identical (X, TX, T), adding their counts.
// The fit's result does not change; its cost falls with the number of rows.
func Collapse(cs []Customer) []Customer {
	type key struct{ x, tx, T float64 }
	idx := make(map[key]int, len(cs)/4)
	out := make([]Customer, 0, len(cs)/4)
	for _, c := range cs {
		w := c.Count
		if w == 0 {
			w = 1
		}
		k := key{c.X, c.TX, c.T}
		if j, ok := idx[k]; ok {
			out[j].Count += w
			continue
		}
		idx[k] = len(out)
		c.Count = w
		out = append(out, c)
	}
	return out
}

func hypGonum(a, b, c, z float64) float64 { return mathext.Hypergeo(a, b, c, z) }
