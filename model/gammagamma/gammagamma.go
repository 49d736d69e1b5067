// Package gammagamma fits the Gamma-Gamma model of the monetary value of
// repeat transactions (Fader, Hardie & Lee 2005; Fader & Hardie 2013) by
// maximum likelihood and computes the expected value of a customer's
// transactions given their observed mean.
//
// The value of each of a customer's transactions is Gamma(p, ν) (shape p,
// rate ν), so their mean transaction value is p/ν; across customers
// ν ~ Gamma(q, γ). Given x transactions of mean value z̄, the likelihood of a
// customer is the density of z̄:
//
//	f(z̄ | x) = Γ(px+q) / (Γ(px)·Γ(q)) · γ^q · x^(px) · z̄^(px−1) / (γ + x·z̄)^(px+q).
//
// The model assumes that spend is independent of the number of
// transactions; check the correlation of x and z̄ before use (Fader &
// Hardie 2013, section 3).
//
// References: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "RFM and
// CLV: using iso-value curves for customer base analysis", Journal of
// Marketing Research 42(4), 415–430; P. S. Fader and B. G. S. Hardie
// (2013), "The Gamma-Gamma model of monetary value", note,
// brucehardie.com/notes/025.
//
// The package is pure: it imports no database and does no I/O.
package gammagamma

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/mat"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/bowtie-analytics/bowtie/model/internal/mle"
)

// Customer is a customer with X ≥ 1 repeat transactions of mean value
// Mean > 0, or a group of Count such customers (zero means 1). Customers
// without repeat transactions are left out of the fit.
type Customer struct {
	X     float64 `json:"x"`
	Mean  float64 `json:"mean"`
	Count float64 `json:"count"`
}

// Params are the three positive parameters: P (shape of a transaction's
// value), Q and Gamma (shape and rate of the Gamma distribution of ν).
//
// Nu is zero except at the boundary of homogeneous spend, where Q and
// Gamma are +Inf: ν is then the same for every customer, Nu (the limit
// of Q/Gamma), and a transaction's value is Gamma(P, Nu) for everyone.
type Params struct {
	P     float64 `json:"p"`
	Q     float64 `json:"q"`
	Gamma float64 `json:"gamma"`
	Nu    float64 `json:"nu,omitempty"`
}

// Homogeneous reports whether p is the boundary of homogeneous spend
// (Q and Gamma infinite, ν = Nu for every customer).
func (p Params) Homogeneous() bool { return math.IsInf(p.Q, 1) }

// Fit is the result of FitCustomers.
type Fit struct {
	Params
	// SE holds asymptotic standard errors (inverse observed information);
	// NaN when the Hessian is not positive definite.
	SE         Params  `json:"se"`
	LogLik     float64 `json:"log_lik"`
	N          float64 `json:"n"` // customers (sum of counts)
	Converged  bool    `json:"converged"`
	Iterations int     `json:"iterations"`
	// Note reports the boundary of homogeneous spend (see FitCustomers).
	Note string `json:"note,omitempty"`
}

// ErrNoData is returned by FitCustomers when no customer is given.
var ErrNoData = errors.New("gammagamma: no customer with repeat transactions to fit")

type data struct {
	xs  []float64 // distinct x
	nx  []float64 // weighted customers per distinct x
	xi  []int32
	x   []float64
	lz  []float64 // log z̄
	z   []float64
	c   []float64
	n   float64
	con float64 // Σ c·(−log z̄), constant part
}

func prepare(cs []Customer) (*data, error) {
	d := &data{}
	idx := map[float64]int32{}
	for i, c := range cs {
		w := c.Count
		if w == 0 {
			w = 1
		}
		switch {
		case !(w > 0) || math.IsInf(w, 0):
			return nil, fmt.Errorf("gammagamma: customer %d: Count = %v, want a positive number", i, c.Count)
		case !(c.X >= 1) || c.X != math.Trunc(c.X) || math.IsInf(c.X, 0):
			return nil, fmt.Errorf("gammagamma: customer %d: X = %v, want a whole number ≥ 1", i, c.X)
		case !(c.Mean > 0) || math.IsInf(c.Mean, 0):
			return nil, fmt.Errorf("gammagamma: customer %d: Mean = %v, want a positive value", i, c.Mean)
		}
		k, ok := idx[c.X]
		if !ok {
			k = int32(len(d.xs))
			idx[c.X] = k
			d.xs = append(d.xs, c.X)
			d.nx = append(d.nx, 0)
		}
		d.nx[k] += w
		d.xi = append(d.xi, k)
		d.x = append(d.x, c.X)
		d.lz = append(d.lz, math.Log(c.Mean))
		d.z = append(d.z, c.Mean)
		d.c = append(d.c, w)
		d.n += w
	}
	if d.n == 0 {
		return nil, ErrNoData
	}
	return d, nil
}

// warmRows is the size of the systematic sample fitted first to start a
// fit on more than 4·warmRows rows.
const warmRows = 20000

// qBoundary is the q beyond which a fit is taken to run to the
// homogeneous boundary (see FitCustomers).
const qBoundary = 1e5

// chunkRows is the number of rows one goroutine sums at a time in negLL.
// The partial sums are added in chunk order, so the result does not
// depend on the number of cores; up to chunkRows rows the sum runs in one
// chunk, in row order.
const chunkRows = 1 << 15

// FitCustomers estimates p, q and γ by maximum likelihood with BFGS over
// their logs and an analytic gradient, from p = 1, q = 2 and γ = the mean
// of the customers' means (so that the implied mean spend pγ/(q−1) starts
// at the observed one). With more than 80,000 rows, the fit of a
// systematic sample of 20,000 of them is the start instead, and the
// Hessian there preconditions the full fit (as in model/bgnbd). Invalid
// rows are reported with their index.
//
// Boundary: when the spend of all customers has one rate ν (q, γ → ∞
// with q/γ → ν), the likelihood keeps rising as q grows and has no finite
// maximum; beyond q ≈ 1e6 its evaluation in double precision is noise, and
// the optimiser wanders there without converging. So when the fit (or,
// with a sample, the sample's fit) ends with q > 1e5, FitCustomers fits
// that limit, where the means are Gamma(px, xν) (two parameters, p and ν),
// and evaluates the score of 1/q there: d log L/d(1/q) at 1/q = 0 is
// ½·Σ [x²(p − ν·z̄)² − p·x] (the variance of ν is ν²/q, and a small
// variance adds ½·Var(ν)·∂²g/∂ν² to the density g of z̄). When it is not
// positive the likelihood does not rise into finite q, and the fit is the
// limit: Params.Q and Params.Gamma are +Inf, Params.Nu is ν, Converged is
// true and Note says so.
func FitCustomers(cs []Customer) (Fit, error) {
	d, err := prepare(cs)
	if err != nil {
		return Fit{}, err
	}
	var sz float64
	for i := range d.z {
		sz += d.c[i] * d.z[i]
	}
	start := []float64{1, 2, sz / d.n}
	var hess *mat.SymDense
	if len(d.x) > 4*warmRows {
		s := d.sample(len(d.x) / warmRows)
		so := mle.Objective{Scale: s.n, NegLL: func(theta, grad []float64) float64 { return negLL(s, theta, grad) }}
		if ws, err := mle.Fit(so, start); err == nil {
			if ws.Params[1] > qBoundary {
				if f, ok := fitHomogeneous(d); ok {
					return f, nil
				}
			}
			start = ws.Params
			hess, _ = mle.Hessian(so, ws.Theta)
		}
	}
	r, err := mle.FitFrom(mle.Objective{Scale: d.n, NegLL: func(theta, grad []float64) float64 {
		return negLL(d, theta, grad)
	}}, start, hess)
	if err != nil {
		return Fit{}, fmt.Errorf("gammagamma: %w", err)
	}
	if r.Params[1] > qBoundary {
		if f, ok := fitHomogeneous(d); ok {
			return f, nil
		}
	}
	return Fit{
		Params:     Params{P: r.Params[0], Q: r.Params[1], Gamma: r.Params[2]},
		SE:         Params{P: r.SE[0], Q: r.SE[1], Gamma: r.SE[2]},
		LogLik:     r.LogLik,
		N:          d.n,
		Converged:  r.Converged,
		Iterations: r.Iterations,
	}, nil
}

// sample returns every step-th row of d, with the per-x counts of those
// rows.
func (d *data) sample(step int) *data {
	s := &data{xs: d.xs, nx: make([]float64, len(d.xs))}
	for i := 0; i < len(d.x); i += step {
		s.xi = append(s.xi, d.xi[i])
		s.x = append(s.x, d.x[i])
		s.lz = append(s.lz, d.lz[i])
		s.z = append(s.z, d.z[i])
		s.c = append(s.c, d.c[i])
		s.nx[d.xi[i]] += d.c[i]
		s.n += d.c[i]
	}
	return s
}

// fitHomogeneous fits the limit q, γ → ∞ (every customer's ν the same)
// and returns it with ok true when the score of 1/q there is not positive
// (see FitCustomers). In the limit the mean of x values is Gamma(px, xν):
//
//	log L = Σ c·[px·log(xν) − lnΓ(px) + (px−1)·log z̄ − xν·z̄],
//
// maximised over ν at ν = p·Σcx / Σcxz̄; the profile in p is concave and
// is maximised with gonum's BFGS in log p (mle.Fit), whose Hessian gives
// the standard errors of p and ν.
func fitHomogeneous(d *data) (Fit, bool) {
	// Sums over rows: Σcx·log x is per distinct x; Σcx·log z̄, Σc·log z̄, Σcxz̄.
	var sx, sxlx, sxlz, slz, sxz float64
	for k, x := range d.xs {
		sx += d.nx[k] * x
		sxlx += d.nx[k] * x * math.Log(x)
	}
	for i, x := range d.x {
		c := d.c[i]
		sxlz += c * x * d.lz[i]
		slz += c * d.lz[i]
		sxz += c * x * d.z[i]
	}
	// negLL in θ = (log p, log ν), per customer.
	nll := func(theta, grad []float64) float64 {
		p, nu := math.Exp(theta[0]), math.Exp(theta[1])
		ll := p*sxlx + p*sx*math.Log(nu) + p*sxlz - slz - nu*sxz
		var gp float64
		for k, x := range d.xs {
			lg, _ := math.Lgamma(p * x)
			ll -= d.nx[k] * lg
			if grad != nil {
				gp -= d.nx[k] * x * mathext.Digamma(p*x)
			}
		}
		if grad != nil {
			gp += sxlx + sx*math.Log(nu) + sxlz
			grad[0] = -gp * p / d.n
			grad[1] = -(p*sx/nu - sxz) * nu / d.n
		}
		return -ll / d.n
	}
	r, err := mle.Fit(mle.Objective{Scale: d.n, NegLL: nll}, []float64{1, sx / sxz})
	if err != nil || !r.Converged {
		return Fit{}, false
	}
	p, nu := r.Params[0], r.Params[1]
	// The score of 1/q at the limit, in the units of log L.
	var score float64
	for i, x := range d.x {
		e := x * (p - nu*d.z[i])
		score += d.c[i] * (e*e - p*x)
	}
	if score > 0 {
		return Fit{}, false
	}
	inf := math.Inf(1)
	return Fit{
		Params:     Params{P: p, Q: inf, Gamma: inf, Nu: nu},
		SE:         Params{P: r.SE[0], Q: math.NaN(), Gamma: math.NaN(), Nu: r.SE[1]},
		LogLik:     r.LogLik,
		N:          d.n,
		Converged:  true,
		Iterations: r.Iterations,
		Note: fmt.Sprintf("spend is homogeneous: the likelihood rises as q and γ run to infinity with q/γ → ν = %.6g (score of 1/q at the limit %.4g ≤ 0), so every customer's transactions are Gamma(p, ν) and E[Z | x, z̄] = p/ν = %.6g whatever the customer's own mean; q and γ are not finite",
			nu, score/2, p/nu),
	}, true
}

// LogLik returns the log-likelihood of the customers at p, the function
// FitCustomers maximises (at the homogeneous boundary, the limit's).
func LogLik(cs []Customer, p Params) (float64, error) {
	d, err := prepare(cs)
	if err != nil {
		return 0, err
	}
	if p.Homogeneous() {
		var ll float64
		for i, x := range d.x {
			lg, _ := math.Lgamma(p.P * x)
			ll += d.c[i] * (p.P*x*math.Log(x*p.Nu) - lg + (p.P*x-1)*d.lz[i] - x*p.Nu*d.z[i])
		}
		return ll, nil
	}
	return -negLL(d, []float64{math.Log(p.P), math.Log(p.Q), math.Log(p.Gamma)}, nil) * d.n, nil
}

// ggPartial holds one chunk's sums in negLL.
type ggPartial struct {
	ll, gp, gq, gg float64
	_              [4]float64 // keeps chunks on separate cache lines
}

// negLL returns −LL/n and its gradient in θ = log(p, q, γ). The terms in
// x alone (lnΓ(px+q) − lnΓ(px) + px·ln x) are summed per distinct x; the
// rows in chunks of chunkRows on up to GOMAXPROCS goroutines, added in
// chunk order.
func negLL(d *data, theta, grad []float64) float64 {
	p, q, g := math.Exp(theta[0]), math.Exp(theta[1]), math.Exp(theta[2])
	lgq, _ := math.Lgamma(q)
	lg := math.Log(g)
	var ll, gp, gq, gg float64
	psq := mathext.Digamma(q)
	for k, x := range d.xs {
		n := d.nx[k]
		a, _ := math.Lgamma(p*x + q)
		b, _ := math.Lgamma(p * x)
		ll += n * (a - b - lgq + q*lg + p*x*math.Log(x))
		if grad != nil {
			ps1, ps2 := mathext.Digamma(p*x+q), mathext.Digamma(p*x)
			gp += n * x * (ps1 - ps2 + math.Log(x))
			gq += n * (ps1 - psq + lg)
			gg += n * q / g
		}
	}
	chunks := (len(d.x) + chunkRows - 1) / chunkRows
	parts := make([]ggPartial, max(chunks, 1))
	// Chunk 0 continues the per-x sums, so that up to chunkRows rows the
	// order of additions is that of one loop.
	parts[0] = ggPartial{ll: ll, gp: gp, gq: gq, gg: gg}
	sumChunk := func(ci int) {
		pt := &parts[ci]
		ll, gp, gq, gg := pt.ll, pt.gp, pt.gq, pt.gg
		for i := ci * chunkRows; i < min((ci+1)*chunkRows, len(d.x)); i++ {
			x, c := d.x[i], d.c[i]
			l := math.Log(g + x*d.z[i])
			ll += c * ((p*x-1)*d.lz[i] - (p*x+q)*l)
			if grad != nil {
				gp += c * x * (d.lz[i] - l)
				gq -= c * l
				gg -= c * (p*x + q) / (g + x*d.z[i])
			}
		}
		pt.ll, pt.gp, pt.gq, pt.gg = ll, gp, gq, gg
	}
	if workers := min(runtime.GOMAXPROCS(0), chunks); workers <= 1 {
		for ci := 0; ci < chunks; ci++ {
			sumChunk(ci)
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ci := int(next.Add(1) - 1); ci < chunks; ci = int(next.Add(1) - 1) {
					sumChunk(ci)
				}
			}()
		}
		wg.Wait()
	}
	ll, gp, gq, gg = parts[0].ll, parts[0].gp, parts[0].gq, parts[0].gg
	for _, pt := range parts[1:] {
		ll += pt.ll
		gp += pt.gp
		gq += pt.gq
		gg += pt.gg
	}
	if grad != nil {
		grad[0] = -gp * p / d.n
		grad[1] = -gq * q / d.n
		grad[2] = -gg * g / d.n
	}
	return -ll / d.n
}

// ConditionalExpectedValue returns E[Z | x, z̄], the expected value of a
// future transaction of a customer with x repeat transactions of mean value
// mean (Fader, Hardie & Lee 2005, eq. 5):
//
//	E[Z | x, z̄] = p·(γ + x·z̄) / (p·x + q − 1)
//	            = (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · z̄,
//
// a weighted mean of the population mean and the customer's own mean. For
// x = 0 it is the population mean pγ/(q−1). It returns NaN when px+q ≤ 1
// (the expectation does not exist).
//
// At the homogeneous boundary (Homogeneous) it is p/ν for every customer.
func (p Params) ConditionalExpectedValue(x, mean float64) float64 {
	if p.Homogeneous() {
		return p.P / p.Nu
	}
	den := p.P*x + p.Q - 1
	if !(den > 0) {
		return math.NaN()
	}
	if x <= 0 {
		return p.P * p.Gamma / den
	}
	return p.P * (p.Gamma + x*mean) / den
}

// MeanValue returns pγ/(q−1), the mean transaction value across customers
// (p/ν at the homogeneous boundary); NaN when q ≤ 1.
func (p Params) MeanValue() float64 { return p.ConditionalExpectedValue(0, 0) }

// Simulate draws one customer per entry of xs (their numbers of repeat
// transactions, each ≥ 1): ν ~ Gamma(q, γ) (ν = Nu at the homogeneous
// boundary), then the x transaction values
// are Gamma(p, ν) and Mean is their mean.
func Simulate(rng *rand.Rand, p Params, xs []int) []Customer {
	nu := distuv.Gamma{Alpha: p.Q, Beta: p.Gamma, Src: rng}
	out := make([]Customer, len(xs))
	for i, x := range xs {
		v := p.Nu
		if !p.Homogeneous() {
			v = nu.Rand()
		}
		// The sum of x Gamma(p, ν) values is Gamma(px, ν).
		s := distuv.Gamma{Alpha: p.P * float64(x), Beta: v, Src: rng}.Rand()
		out[i] = Customer{X: float64(x), Mean: s / float64(x), Count: 1}
	}
	return out
}

// MarshalJSON encodes the fit with the parameters at the top level and
// NaN standard errors (Hessian not positive definite) as null.
func (f Fit) MarshalJSON() ([]byte, error) {
	type params struct {
		P     *float64 `json:"p"`
		Q     *float64 `json:"q"`
		Gamma *float64 `json:"gamma"`
		Nu    *float64 `json:"nu,omitempty"`
	}
	pj := func(p Params) params {
		r := params{P: mle.JSONFloat(p.P), Q: mle.JSONFloat(p.Q), Gamma: mle.JSONFloat(p.Gamma)}
		if p.Nu != 0 {
			r.Nu = mle.JSONFloat(p.Nu)
		}
		return r
	}
	return json.Marshal(struct {
		params
		SE         params   `json:"se"`
		LogLik     *float64 `json:"log_lik"`
		N          float64  `json:"n"`
		Converged  bool     `json:"converged"`
		Iterations int      `json:"iterations"`
		Note       string   `json:"note,omitempty"`
	}{pj(f.Params), pj(f.SE), mle.JSONFloat(f.LogLik), f.N, f.Converged, f.Iterations, f.Note})
}
