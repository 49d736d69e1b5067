package demo

import (
	"math"
	"math/rand/v2"
)

// rnd is a reseedable PCG stream. Every entity draws from a stream seeded by
// (seed, stream, index) alone, so its data does not depend on the order in
// which entities are generated or on what other tables need.
type rnd struct {
	src *rand.PCG
	*rand.Rand
}

func newRnd() *rnd {
	p := rand.NewPCG(0, 0)
	return &rnd{src: p, Rand: rand.New(p)}
}

// Streams: one per kind of draw, so adding draws to one never shifts another.
const (
	stPlan uint64 = iota + 1
	stEvents
	stSiblings
	stOrders
	stSurveys
	stSpend
	stFX
	stChild
)

// seed points r at the stream of entity idx.
func (r *rnd) seed(seed, stream, idx uint64) {
	r.src.Seed(mix(seed^mix(stream*0x9e3779b97f4a7c15+idx)), mix(idx^mix(seed+stream)))
}

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// chance reports true with probability p.
func (r *rnd) chance(p float64) bool { return r.Float64() < p }

// between returns a uniform float in [a, b).
func (r *rnd) between(a, b float64) float64 { return a + (b-a)*r.Float64() }

// intBetween returns a uniform int in [a, b].
func (r *rnd) intBetween(a, b int) int { return a + r.IntN(b-a+1) }

// lognormal returns median·e^(σ·N(0,1)).
func (r *rnd) lognormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

// geom returns the number of failures before the first success of a
// Bernoulli(p) sequence.
func (r *rnd) geom(p float64) int {
	if p >= 1 {
		return 0
	}
	u := r.Float64()
	if u == 0 {
		u = 1e-300
	}
	return int(math.Log(u) / math.Log1p(-p))
}

// poisson draws a Poisson count with mean lambda.
func (r *rnd) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		n := int(math.Round(lambda + math.Sqrt(lambda)*r.NormFloat64()))
		if n < 0 {
			return 0
		}
		return n
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// pick returns an index drawn with the given cumulative weights.
func (r *rnd) pick(cum []float64) int {
	u := r.Float64() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > u {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// cumulative turns weights into cumulative weights.
func cumulative(w ...float64) []float64 {
	out := make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		out[i] = s
	}
	return out
}
