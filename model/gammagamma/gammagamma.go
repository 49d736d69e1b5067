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
type Params struct {
	P     float64 `json:"p"`
	Q     float64 `json:"q"`
	Gamma float64 `json:"gamma"`
}

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

// FitCustomers estimates p, q and γ by maximum likelihood with BFGS over
// their logs and an analytic gradient, from p = 1, q = 2 and γ = the mean
// of the customers' means (so that the implied mean spend pγ/(q−1) starts
// at the observed one). Invalid rows are reported with their index.
func FitCustomers(cs []Customer) (Fit, error) {
	d, err := prepare(cs)
	if err != nil {
		return Fit{}, err
	}
	var sz float64
	for i := range d.z {
		sz += d.c[i] * d.z[i]
	}
	r, err := mle.Fit(mle.Objective{Scale: d.n, NegLL: func(theta, grad []float64) float64 {
		return negLL(d, theta, grad)
	}}, []float64{1, 2, sz / d.n})
	if err != nil {
		return Fit{}, fmt.Errorf("gammagamma: %w", err)
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

// LogLik returns the log-likelihood of the customers at p, the function
// FitCustomers maximises.
func LogLik(cs []Customer, p Params) (float64, error) {
	d, err := prepare(cs)
	if err != nil {
		return 0, err
	}
	return -negLL(d, []float64{math.Log(p.P), math.Log(p.Q), math.Log(p.Gamma)}, nil) * d.n, nil
}

// negLL returns −LL/n and its gradient in θ = log(p, q, γ). The terms in
// x alone (lnΓ(px+q) − lnΓ(px) + px·ln x) are summed per distinct x.
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
	for i, x := range d.x {
		c := d.c[i]
		l := math.Log(g + x*d.z[i])
		ll += c * ((p*x-1)*d.lz[i] - (p*x+q)*l)
		if grad != nil {
			gp += c * x * (d.lz[i] - l)
			gq -= c * l
			gg -= c * (p*x + q) / (g + x*d.z[i])
		}
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
func (p Params) ConditionalExpectedValue(x, mean float64) float64 {
	den := p.P*x + p.Q - 1
	if !(den > 0) {
		return math.NaN()
	}
	if x <= 0 {
		return p.P * p.Gamma / den
	}
	return p.P * (p.Gamma + x*mean) / den
}

// MeanValue returns pγ/(q−1), the mean transaction value across customers;
// NaN when q ≤ 1.
func (p Params) MeanValue() float64 { return p.ConditionalExpectedValue(0, 0) }

// Simulate draws one customer per entry of xs (their numbers of repeat
// transactions, each ≥ 1): ν ~ Gamma(q, γ), then the x transaction values
// are Gamma(p, ν) and Mean is their mean.
func Simulate(rng *rand.Rand, p Params, xs []int) []Customer {
	nu := distuv.Gamma{Alpha: p.Q, Beta: p.Gamma, Src: rng}
	out := make([]Customer, len(xs))
	for i, x := range xs {
		v := nu.Rand()
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
	}
	pj := func(p Params) params {
		return params{mle.JSONFloat(p.P), mle.JSONFloat(p.Q), mle.JSONFloat(p.Gamma)}
	}
	return json.Marshal(struct {
		params
		SE         params   `json:"se"`
		LogLik     *float64 `json:"log_lik"`
		N          float64  `json:"n"`
		Converged  bool     `json:"converged"`
		Iterations int      `json:"iterations"`
	}{pj(f.Params), pj(f.SE), mle.JSONFloat(f.LogLik), f.N, f.Converged, f.Iterations})
}
