// Package bgnbd fits the beta-geometric/negative-binomial (BG/NBD) model of
// repeat buying in a non-contractual setting (Fader, Hardie & Lee 2005) by
// maximum likelihood, and computes its forecasts: expected purchases of a
// new customer, conditional expected purchases and the probability of being
// alive given a customer's history, and the calibration/hold-out checks of
// the paper.
//
// While active, a customer buys at the times of a Poisson process of rate
// λ; after each repeat purchase the customer becomes inactive for good with
// probability p. Across customers λ ~ Gamma(r, α) (shape r, rate α) and
// p ~ Beta(a, b). A customer's history in a calibration period is
// summarised by x (repeat purchases, the first purchase not counted), tx
// (the time of the last repeat purchase, 0 when x = 0) and T (the time
// since the first purchase). Time is in any unit (days, weeks) as long as
// the same unit is used throughout; α is in that unit.
//
// Reference: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "'Counting
// your customers' the easy way: an alternative to the Pareto/NBD model",
// Marketing Science 24(2), 275–284. Equation numbers below are the paper's.
//
// The package is pure: it imports no database and does no I/O.
package bgnbd

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/mathext"

	"github.com/bowtie-analytics/bowtie/model/internal/mle"
)

// Customer is one customer's calibration summary, or a group of Count
// customers with the same summary (the store may collapse identical
// (X, TX, T) rows). X is a whole number ≥ 0; 0 ≤ TX ≤ T; TX = 0 when X = 0.
type Customer struct {
	X     float64 `json:"x"`
	TX    float64 `json:"tx"`
	T     float64 `json:"T"`
	Count float64 `json:"count"` // customers with this summary; zero means 1
}

// Params are the four BG/NBD parameters, all positive: R and Alpha (shape
// and rate of the Gamma distribution of purchase rates) and A and B (of the
// Beta distribution of dropout probabilities).
type Params struct {
	R     float64 `json:"r"`
	Alpha float64 `json:"alpha"`
	A     float64 `json:"a"`
	B     float64 `json:"b"`
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
	// Note reports a boundary solution: with a + b above 1e4 the dropout
	// probability is the same for every customer (the Beta(a, b) has
	// collapsed onto π = a/(a+b)); a and b are then not identified, only
	// their ratio, and the fit's a and b are just large. With π below
	// 1e-4 as well, no dropout is seen at all (the NBD).
	Note string `json:"note,omitempty"`
}

// boundaryNote returns the fit's Note for parameters p (see Fit.Note).
func boundaryNote(p Params) string {
	if p.A+p.B <= 1e4 {
		return ""
	}
	if pi := p.A / (p.A + p.B); pi < 1e-4 {
		return fmt.Sprintf("dropout is indistinguishable from none: a/(a+b) = %.3g with a + b = %.3g (a → 0, b → ∞); the fit is the NBD's, every customer stays alive after each purchase", pi, p.A+p.B)
	}
	return fmt.Sprintf("dropout is homogeneous: a and b run to infinity (a + b = %.3g) with a/(a+b) = %.4g fixed, so every customer drops out with that probability after each repeat purchase; a and b are not identified separately", p.A+p.B, p.A/(p.A+p.B))
}

// warmRows is the size of the sample fitted first to start the full fit.
const warmRows = 20000

// ErrNoData is returned by FitCustomers when there is no customer.
var ErrNoData = errors.New("bgnbd: no customer to fit")

// ErrNoRepeat is returned by FitCustomers when no customer made a repeat
// purchase: the parameters are then not identified.
var ErrNoRepeat = errors.New("bgnbd: no customer made a repeat purchase; the model cannot be fitted")

// data is the fitting form of the customers: structure of arrays, with the
// x values replaced by an index into the table of distinct x values.
type data struct {
	xs    []float64 // distinct x values
	nx    []float64 // weighted customers per distinct x
	xi    []int32   // per row: index into xs
	x     []float64 // per row
	tx, T []float64 // per row
	c     []float64 // per row: count
	n     float64
}

func prepare(cs []Customer) (*data, error) {
	d := &data{}
	idx := map[float64]int32{}
	type key struct{ x, tx, T float64 }
	// Rows already in strictly increasing (X, TX, T) order (a store's
	// grouped summary, sorted) have no duplicates to merge: the map is
	// then not needed.
	sorted := true
	for i := 1; i < len(cs) && sorted; i++ {
		a, b := cs[i-1], cs[i]
		sorted = a.X < b.X || a.X == b.X && (a.TX < b.TX || a.TX == b.TX && a.T < b.T)
	}
	var rowOf map[key]int
	if !sorted {
		rowOf = make(map[key]int, min(len(cs), 1<<16))
	}
	anyRepeat := false
	for i, c := range cs {
		w := c.Count
		if w == 0 {
			w = 1
		}
		switch {
		case !(w > 0) || math.IsInf(w, 0):
			return nil, fmt.Errorf("bgnbd: customer %d: Count = %v, want a positive number", i, c.Count)
		case !(c.X >= 0) || c.X != math.Trunc(c.X) || math.IsInf(c.X, 0):
			return nil, fmt.Errorf("bgnbd: customer %d: X = %v, want a whole number ≥ 0", i, c.X)
		case !(c.T >= 0) || math.IsInf(c.T, 0):
			return nil, fmt.Errorf("bgnbd: customer %d: T = %v, want a finite number ≥ 0", i, c.T)
		case !(c.TX >= 0) || c.TX > c.T:
			return nil, fmt.Errorf("bgnbd: customer %d: TX = %v, want 0 ≤ TX ≤ T = %v", i, c.TX, c.T)
		case c.X == 0 && c.TX != 0:
			return nil, fmt.Errorf("bgnbd: customer %d: TX = %v with X = 0, want TX = 0", i, c.TX)
		case c.X > 0 && c.TX == 0:
			return nil, fmt.Errorf("bgnbd: customer %d: X = %v repeat purchases at TX = 0, want TX > 0", i, c.X)
		}
		k, ok := idx[c.X]
		if !ok {
			k = int32(len(d.xs))
			idx[c.X] = k
			d.xs = append(d.xs, c.X)
			d.nx = append(d.nx, 0)
		}
		d.nx[k] += w
		d.n += w
		anyRepeat = anyRepeat || c.X > 0
		// Identical summaries are merged into one row: customers without
		// repeat purchases share few ages, and times in whole days or
		// weeks repeat.
		if !sorted {
			kk := key{c.X, c.TX, c.T}
			if j, ok := rowOf[kk]; ok {
				d.c[j] += w
				continue
			}
			rowOf[kk] = len(d.x)
		}
		d.xi = append(d.xi, k)
		d.x = append(d.x, c.X)
		d.tx = append(d.tx, c.TX)
		d.T = append(d.T, c.T)
		d.c = append(d.c, w)
	}
	if d.n == 0 {
		return nil, ErrNoData
	}
	if !anyRepeat {
		return nil, ErrNoRepeat
	}
	return d, nil
}

// FitCustomers estimates the parameters by maximum likelihood (eq. 6 summed
// over customers, each weighted by its Count), with BFGS over the logs of
// the parameters and an analytic gradient. Starting values: r = 1, α =
// ΣT/Σx (so that the mean purchase rate r/α matches the data), a = 1,
// b = 3; with more than 80,000 distinct rows, the fit of a systematic
// sample of 20,000 of them is the start instead, and the Hessian there
// preconditions the full fit. Rows with identical (X, TX, T) are merged first (their counts
// added), and the sum over the remaining rows runs on all cores
// (GOMAXPROCS). Invalid rows are reported with their index.
func FitCustomers(cs []Customer) (Fit, error) {
	d, err := prepare(cs)
	if err != nil {
		return Fit{}, err
	}
	var sx, sT float64
	for i := range d.x {
		sx += d.c[i] * d.x[i]
		sT += d.c[i] * d.T[i]
	}
	alpha0 := sT / sx
	if !(alpha0 > 0) || math.IsInf(alpha0, 0) {
		alpha0 = 1
	}
	start := []float64{1, alpha0, 1, 3}
	var hess *mat.SymDense
	if len(d.x) > 4*warmRows {
		// Warm start: fit a systematic sample of the rows first, so that
		// the fit on all rows starts near the maximum and needs fewer
		// passes over them.
		step := len(d.x) / warmRows
		s := &data{xs: d.xs, nx: make([]float64, len(d.xs))}
		for i := 0; i < len(d.x); i += step {
			s.xi = append(s.xi, d.xi[i])
			s.x = append(s.x, d.x[i])
			s.tx = append(s.tx, d.tx[i])
			s.T = append(s.T, d.T[i])
			s.c = append(s.c, d.c[i])
			s.nx[d.xi[i]] += d.c[i]
			s.n += d.c[i]
		}
		so := mle.Objective{Scale: s.n, NegLL: newEvaluator(s).negLL}
		if ws, err := mle.Fit(so, start); err == nil {
			start = ws.Params
			hess, _ = mle.Hessian(so, ws.Theta)
		}
	}
	ev := newEvaluator(d)
	r, err := mle.FitFrom(mle.Objective{Scale: d.n, NegLL: ev.negLL}, start, hess)
	if err != nil {
		return Fit{}, fmt.Errorf("bgnbd: %w", err)
	}
	fp := Params{R: r.Params[0], Alpha: r.Params[1], A: r.Params[2], B: r.Params[3]}
	return Fit{
		Params:     fp,
		Note:       boundaryNote(fp),
		SE:         Params{R: r.SE[0], Alpha: r.SE[1], A: r.SE[2], B: r.SE[3]},
		LogLik:     r.LogLik,
		N:          d.n,
		Converged:  r.Converged,
		Iterations: r.Iterations,
	}, nil
}

// LogLik returns the BG/NBD log-likelihood of the customers at p (eq. 6,
// weighted by Count), the function FitCustomers maximises.
func LogLik(cs []Customer, p Params) (float64, error) {
	d, err := prepare(cs)
	if err != nil && !errors.Is(err, ErrNoRepeat) {
		return 0, err
	}
	if d == nil {
		return 0, err
	}
	theta := []float64{math.Log(p.R), math.Log(p.Alpha), math.Log(p.A), math.Log(p.B)}
	return -newEvaluator(d).negLL(theta, nil) * d.n, nil
}

type evaluator struct {
	d       *data
	workers int
	// per-x tables, rebuilt at every evaluation
	lab []float64 // log a − log(b+x−1) for x > 0
	ibx []float64 // 1/(b+x−1) for x > 0
}

func newEvaluator(d *data) *evaluator {
	w := runtime.GOMAXPROCS(0)
	if len(d.x) < 20000 {
		w = 1
	}
	return &evaluator{d: d, workers: w, lab: make([]float64, len(d.xs)), ibx: make([]float64, len(d.xs))}
}

// partial sums over rows, for one worker
type partial struct {
	ll   float64 // Σ c·logsumexp(A3, A4)
	gLog float64 // Σ c·[(1−w)·log(α+T) + w·log(α+tx)]
	gA   float64 // Σ c·(r+x)·[(1−w)/(α+T) + w/(α+tx)]
	w    float64 // Σ c·w
	wb   float64 // Σ c·w/(b+x−1)
	_    [3]float64
}

// negLL returns −LL/n and its gradient in θ = log(r, α, a, b). With
//
//	A1 = lnΓ(r+x) − lnΓ(r) + r·ln α
//	A2 = lnB(a, b+x) − lnB(a, b)
//	A3 = −(r+x)·ln(α+T)
//	A4 = ln a − ln(b+x−1) − (r+x)·ln(α+tx)   (x > 0 only)
//
// a customer's log-likelihood is A1 + A2 + ln(e^A3 + δ(x>0)·e^A4). A1 and
// A2 depend on x only and are summed per distinct x; A3 and A4 are summed
// per row, in parallel.
func (e *evaluator) negLL(theta, grad []float64) float64 {
	d := e.d
	r, al, a, b := math.Exp(theta[0]), math.Exp(theta[1]), math.Exp(theta[2]), math.Exp(theta[3])
	la := math.Log(a)
	for k, x := range d.xs {
		if x > 0 {
			e.lab[k] = la - math.Log(b+x-1)
			e.ibx[k] = 1 / (b + x - 1)
		}
	}
	// Per-x part.
	lgr, _ := math.Lgamma(r)
	lgab, _ := math.Lgamma(a + b)
	lgb, _ := math.Lgamma(b)
	var ll, gr, ga, gb float64
	psr, psab, psb := mathext.Digamma(r), mathext.Digamma(a+b), mathext.Digamma(b)
	lal := math.Log(al)
	for k, x := range d.xs {
		n := d.nx[k]
		lg1, _ := math.Lgamma(r + x)
		lg2, _ := math.Lgamma(b + x)
		lg3, _ := math.Lgamma(a + b + x)
		ll += n * (lg1 - lgr + r*lal + lgab + lg2 - lgb - lg3)
		if grad != nil {
			psabx := mathext.Digamma(a + b + x)
			gr += n * (mathext.Digamma(r+x) - psr + lal)
			ga += n * (psab - psabx)
			gb += n * (psab + mathext.Digamma(b+x) - psb - psabx)
		}
	}
	// Per-row part.
	parts := make([]partial, e.workers)
	rows := len(d.x)
	if e.workers == 1 {
		e.rows(&parts[0], 0, rows, r, al, grad != nil)
	} else {
		var wg sync.WaitGroup
		chunk := (rows + e.workers - 1) / e.workers
		for w := 0; w < e.workers; w++ {
			lo, hi := w*chunk, min((w+1)*chunk, rows)
			wg.Add(1)
			go func(p *partial) {
				defer wg.Done()
				e.rows(p, lo, hi, r, al, grad != nil)
			}(&parts[w])
		}
		wg.Wait()
	}
	var s partial
	for _, p := range parts {
		s.ll += p.ll
		s.gLog += p.gLog
		s.gA += p.gA
		s.w += p.w
		s.wb += p.wb
	}
	ll += s.ll
	if grad != nil {
		gr -= s.gLog
		gal := r*d.n/al - s.gA
		ga += s.w / a
		gb -= s.wb
		grad[0] = -gr * r / d.n
		grad[1] = -gal * al / d.n
		grad[2] = -ga * a / d.n
		grad[3] = -gb * b / d.n
	}
	return -ll / d.n
}

func (e *evaluator) rows(p *partial, lo, hi int, r, al float64, wantGrad bool) {
	d := e.d
	var ll, gLog, gA, sw, swb float64
	for i := lo; i < hi; i++ {
		c, x := d.c[i], d.x[i]
		lT := math.Log(al + d.T[i])
		a3 := -(r + x) * lT
		if x == 0 {
			ll += c * a3
			if wantGrad {
				gLog += c * lT
				gA += c * r / (al + d.T[i])
			}
			continue
		}
		k := d.xi[i]
		ltx := math.Log(al + d.tx[i])
		a4 := e.lab[k] - (r+x)*ltx
		// logsumexp(a3, a4) and w = e^a4/(e^a3+e^a4).
		var lse, w float64
		if a4 > a3 {
			q := math.Exp(a3 - a4)
			lse = a4 + math.Log1p(q)
			w = 1 / (1 + q)
		} else {
			q := math.Exp(a4 - a3)
			lse = a3 + math.Log1p(q)
			w = q / (1 + q)
		}
		ll += c * lse
		if wantGrad {
			gLog += c * ((1-w)*lT + w*ltx)
			gA += c * (r + x) * ((1-w)/(al+d.T[i]) + w/(al+d.tx[i]))
			sw += c * w
			swb += c * w * e.ibx[k]
		}
	}
	p.ll, p.gLog, p.gA, p.w, p.wb = ll, gLog, gA, sw, swb
}

// MarshalJSON encodes the fit with the parameters at the top level and
// NaN standard errors (Hessian not positive definite) as null.
func (f Fit) MarshalJSON() ([]byte, error) {
	type params struct {
		R     *float64 `json:"r"`
		Alpha *float64 `json:"alpha"`
		A     *float64 `json:"a"`
		B     *float64 `json:"b"`
	}
	pj := func(p Params) params {
		return params{mle.JSONFloat(p.R), mle.JSONFloat(p.Alpha), mle.JSONFloat(p.A), mle.JSONFloat(p.B)}
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
