// Package sbg fits the shifted-beta-geometric (sBG) model of contractual
// retention (Fader & Hardie 2007) by maximum likelihood and projects
// survival, retention rates and discounted expected lifetimes (Fader &
// Hardie 2010).
//
// Each customer renews at the end of every contract period with a
// probability 1−θ that stays the same over time; θ varies across customers
// as Beta(α, β). The period T in which a customer churns then follows
//
//	P(T = t) = B(α+1, β+t−1) / B(α, β),  t = 1, 2, …
//	S(t)     = B(α, β+t) / B(α, β)       (still active after t renewals)
//
// References: P. S. Fader and B. G. S. Hardie (2007), "How to project
// customer retention", Journal of Interactive Marketing 21(1), 76–90;
// P. S. Fader and B. G. S. Hardie (2010), "Customer-base valuation in a
// contractual setting: the perils of ignoring heterogeneity", Marketing
// Science 29(1), 85–93.
//
// The package is pure: it imports no database and does no I/O.
package sbg

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

// Cohort is the survival record of customers who started together.
// Alive[0] is the number of customers at the start and Alive[t] the number
// still active after t renewals (at the start of period t+1); the counts
// must not increase. The last entry is right-censored: those customers are
// known to have survived at least len(Alive)−1 renewals. Cohorts of
// different lengths may be fitted together.
type Cohort struct {
	Alive []float64
	// Weight multiplies every count of the cohort; zero means 1.
	Weight float64
}

// Params are the parameters of the Beta distribution of churn
// probabilities; both are positive.
type Params struct {
	Alpha float64 `json:"alpha"`
	Beta  float64 `json:"beta"`
}

// Fit is the result of FitCohorts.
type Fit struct {
	Params
	// SE holds the asymptotic standard errors of Alpha and Beta (inverse
	// observed information); NaN when the Hessian is not positive definite.
	SE         Params  `json:"se"`
	LogLik     float64 `json:"log_lik"`
	N          int     `json:"n"`       // customers at the start, summed over cohorts (weighted, rounded)
	Periods    int     `json:"periods"` // the longest cohort's number of observed renewals
	Converged  bool    `json:"converged"`
	Iterations int     `json:"iterations"`
}

// ErrNoData is returned by FitCohorts when the cohorts hold no customer or
// no cohort was observed for at least one renewal.
var ErrNoData = errors.New("sbg: no customer observed for at least one renewal")

// ErrDegenerate is returned by FitCohorts when the data cannot identify
// both parameters: nobody churned, or nobody renewed, or no cohort was
// observed for two renewals or more.
var ErrDegenerate = errors.New("sbg: the data do not identify both parameters (no churn, no renewal, or fewer than two observed renewals)")

type cell struct {
	t        int     // period index (1-based)
	churned  float64 // weighted customers lost in period t
	survived float64 // weighted customers censored after t renewals (only at a cohort's end)
}

// FitCohorts estimates α and β by maximum likelihood. The log-likelihood
// is Σ_cohorts w·[Σ_{t=1..n} (Alive[t−1]−Alive[t])·log P(T=t) +
// Alive[n]·log S(n)], maximised with BFGS over (log α, log β) from α = β =
// 1. It returns an error naming the cohort and period for negative,
// non-finite or increasing counts.
func FitCohorts(cs []Cohort) (Fit, error) {
	maxT := 0
	var churnAt, surviveAt []float64 // indexed by t
	var n0, churned, renewed float64
	for ci, c := range cs {
		w := c.Weight
		if w == 0 {
			w = 1
		}
		if !(w > 0) || math.IsInf(w, 0) {
			return Fit{}, fmt.Errorf("sbg: cohort %d: weight %v, want a positive number", ci, c.Weight)
		}
		for t, a := range c.Alive {
			if !(a >= 0) || math.IsInf(a, 0) {
				return Fit{}, fmt.Errorf("sbg: cohort %d: Alive[%d] = %v, want a finite count ≥ 0", ci, t, a)
			}
			if t > 0 && a > c.Alive[t-1] {
				return Fit{}, fmt.Errorf("sbg: cohort %d: Alive[%d] = %v exceeds Alive[%d] = %v (survivors cannot increase)", ci, t, a, t-1, c.Alive[t-1])
			}
		}
		n := len(c.Alive) - 1
		if n < 1 || c.Alive[0] == 0 {
			continue
		}
		for len(churnAt) <= n {
			churnAt = append(churnAt, 0)
			surviveAt = append(surviveAt, 0)
		}
		for t := 1; t <= n; t++ {
			d := w * (c.Alive[t-1] - c.Alive[t])
			churnAt[t] += d
			churned += d
		}
		surviveAt[n] += w * c.Alive[n]
		renewed += w * c.Alive[1]
		n0 += w * c.Alive[0]
		if n > maxT {
			maxT = n
		}
	}
	if n0 == 0 {
		return Fit{}, ErrNoData
	}
	if churned == 0 || renewed == 0 || maxT < 2 {
		return Fit{}, ErrDegenerate
	}
	cells := make([]cell, 0, maxT)
	for t := 1; t <= maxT; t++ {
		if churnAt[t] != 0 || surviveAt[t] != 0 {
			cells = append(cells, cell{t: t, churned: churnAt[t], survived: surviveAt[t]})
		}
	}
	obj := mle.Objective{Scale: n0, NegLL: func(theta, grad []float64) float64 {
		return negLL(cells, n0, theta, grad)
	}}
	r, err := mle.Fit(obj, []float64{1, 1})
	if err != nil {
		return Fit{}, fmt.Errorf("sbg: %w", err)
	}
	return Fit{
		Params:     Params{Alpha: r.Params[0], Beta: r.Params[1]},
		SE:         Params{Alpha: r.SE[0], Beta: r.SE[1]},
		LogLik:     r.LogLik,
		N:          int(math.Round(n0)),
		Periods:    maxT,
		Converged:  r.Converged,
		Iterations: r.Iterations,
	}, nil
}

// LogLik returns the log-likelihood of the cohorts at p (unweighted cohorts
// count 1). It is the function FitCohorts maximises.
func LogLik(cs []Cohort, p Params) float64 {
	var ll float64
	for _, c := range cs {
		w := c.Weight
		if w == 0 {
			w = 1
		}
		n := len(c.Alive) - 1
		for t := 1; t <= n; t++ {
			if d := c.Alive[t-1] - c.Alive[t]; d != 0 {
				ll += w * d * math.Log(p.Churn(t))
			}
		}
		if n >= 1 && c.Alive[n] != 0 {
			ll += w * c.Alive[n] * math.Log(p.Survival(n))
		}
	}
	return ll
}

// negLL is the negative log-likelihood per customer in log parameters, with
// its analytic gradient:
//
//	log P(t) = lbeta(α+1, β+t−1) − lbeta(α, β)
//	log S(t) = lbeta(α, β+t) − lbeta(α, β)
//
// and ∂lbeta(x, y)/∂x = ψ(x) − ψ(x+y).
func negLL(cells []cell, scale float64, theta, grad []float64) float64 {
	a, b := math.Exp(theta[0]), math.Exp(theta[1])
	lb0 := mathext.Lbeta(a, b)
	var ll, ga, gb float64
	var dab0, dbb0 float64
	if grad != nil {
		psab := mathext.Digamma(a + b)
		dab0 = mathext.Digamma(a) - psab
		dbb0 = mathext.Digamma(b) - psab
	}
	for _, c := range cells {
		t := float64(c.t)
		if c.churned != 0 {
			ll += c.churned * (mathext.Lbeta(a+1, b+t-1) - lb0)
			if grad != nil {
				ps := mathext.Digamma(a + b + t)
				ga += c.churned * (mathext.Digamma(a+1) - ps - dab0)
				gb += c.churned * (mathext.Digamma(b+t-1) - ps - dbb0)
			}
		}
		if c.survived != 0 {
			ll += c.survived * (mathext.Lbeta(a, b+t) - lb0)
			if grad != nil {
				ps := mathext.Digamma(a + b + t)
				ga += c.survived * (mathext.Digamma(a) - ps - dab0)
				gb += c.survived * (mathext.Digamma(b+t) - ps - dbb0)
			}
		}
	}
	if grad != nil {
		grad[0] = -ga * a / scale
		grad[1] = -gb * b / scale
	}
	return -ll / scale
}

// Churn returns P(T = t), the probability that a new customer churns in
// period t (after t−1 renewals), for t ≥ 1; zero for t < 1.
func (p Params) Churn(t int) float64 {
	if t < 1 {
		return 0
	}
	return math.Exp(mathext.Lbeta(p.Alpha+1, p.Beta+float64(t)-1) - mathext.Lbeta(p.Alpha, p.Beta))
}

// Survival returns S(t), the probability that a new customer is still
// active after t renewals; S(0) = 1.
func (p Params) Survival(t int) float64 {
	if t <= 0 {
		return 1
	}
	return math.Exp(mathext.Lbeta(p.Alpha, p.Beta+float64(t)) - mathext.Lbeta(p.Alpha, p.Beta))
}

// RetentionRate returns r_t = S(t)/S(t−1) = (β+t−1)/(α+β+t−1), the share
// of the customers active in period t who renew at its end, for t ≥ 1. It
// rises with t: the customers who stay are those with low churn
// probabilities.
func (p Params) RetentionRate(t int) float64 {
	ft := float64(t)
	return (p.Beta + ft - 1) / (p.Alpha + p.Beta + ft - 1)
}

// DEL returns the discounted expected lifetime of a new customer, in
// periods: Σ_{t≥0} S(t)/(1+d)^t = 2F1(1, β; α+β; 1/(1+d)) (Fader & Hardie
// 2010, eq. 5). The first period counts undiscounted; multiplied by the
// margin per period, it is the expected discounted value of a customer at
// acquisition. d must be positive (with α ≤ 1 the undiscounted lifetime is
// infinite); DEL returns NaN otherwise.
func (p Params) DEL(d float64) float64 {
	if !(d > 0) {
		return math.NaN()
	}
	return hyp2f1Unit(p.Beta, p.Alpha+p.Beta, 1/(1+d))
}

// DERL returns the discounted expected residual lifetime (Fader & Hardie
// 2010, eq. 6) of a customer who has made n renewals, standing at the end
// of period n+1 just before the next renewal decision:
//
//	DERL = Σ_{k≥0} P(survives k+1 more renewals | n renewals) / (1+d)^k
//	     = (β+n)/(α+β+n) · 2F1(1, β+n+1; α+β+n+1; 1/(1+d)).
//
// The payment at the coming renewal counts undiscounted. For a customer
// who has just made the n-th renewal and whose payment for it is already
// counted, the expected discounted number of further payments is
// DERL(d, n)/(1+d). d must be positive; DERL returns NaN otherwise or for
// n < 0.
func (p Params) DERL(d float64, n int) float64 {
	if !(d > 0) || n < 0 {
		return math.NaN()
	}
	fn := float64(n)
	return (p.Beta + fn) / (p.Alpha + p.Beta + fn) * hyp2f1Unit(p.Beta+fn+1, p.Alpha+p.Beta+fn+1, 1/(1+d))
}

// hyp2f1Unit returns the Gaussian hypergeometric function 2F1(1, b; c; z)
// for 0 ≤ z < 1 (gonum's Hypergeo; the tests compare it with the series).
func hyp2f1Unit(b, c, z float64) float64 {
	return mathext.Hypergeo(1, b, c, z)
}

// Simulate draws a cohort of n new customers observed for the given number
// of renewals: each customer's churn probability θ is drawn from
// Beta(α, β), then the customer renews each period with probability 1−θ.
func Simulate(rng *rand.Rand, p Params, n, periods int) Cohort {
	alive := make([]float64, periods+1)
	beta := distuv.Beta{Alpha: p.Alpha, Beta: p.Beta, Src: rng}
	for i := 0; i < n; i++ {
		theta := beta.Rand()
		alive[0]++
		for t := 1; t <= periods; t++ {
			if rng.Float64() < theta {
				break
			}
			alive[t]++
		}
	}
	return Cohort{Alive: alive}
}

// MarshalJSON encodes the fit with the parameters at the top level and
// NaN standard errors (Hessian not positive definite) as null.
func (f Fit) MarshalJSON() ([]byte, error) {
	type se struct {
		Alpha *float64 `json:"alpha"`
		Beta  *float64 `json:"beta"`
	}
	return json.Marshal(struct {
		Alpha      *float64 `json:"alpha"`
		Beta       *float64 `json:"beta"`
		SE         se       `json:"se"`
		LogLik     *float64 `json:"log_lik"`
		N          int      `json:"n"`
		Periods    int      `json:"periods"`
		Converged  bool     `json:"converged"`
		Iterations int      `json:"iterations"`
	}{mle.JSONFloat(f.Alpha), mle.JSONFloat(f.Beta), se{mle.JSONFloat(f.SE.Alpha), mle.JSONFloat(f.SE.Beta)},
		mle.JSONFloat(f.LogLik), f.N, f.Periods, f.Converged, f.Iterations})
}
