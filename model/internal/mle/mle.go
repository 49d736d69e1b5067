// Package mle maximises a log-likelihood over log-transformed positive
// parameters with gonum's optimizers and computes standard errors from a
// numerical Hessian. It is shared by the lifetime-value models under model/.
package mle

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// Objective is a negative log-likelihood written in log parameters
// theta = log(params). NegLL returns the negative log-likelihood divided by
// Scale and, when grad is not nil, stores its gradient with respect to theta
// (also divided by Scale) in grad.
type Objective struct {
	NegLL func(theta, grad []float64) float64
	// Scale is the total weight of the data (the number of customers); the
	// objective is minimised per unit of weight so that convergence
	// thresholds do not depend on the sample size.
	Scale float64
}

// Result is the outcome of Fit.
type Result struct {
	Params     []float64 // the estimates, exp(theta)
	SE         []float64 // standard errors of Params; NaN where the Hessian is not positive definite
	LogLik     float64   // the maximised log-likelihood (not divided by Scale)
	Converged  bool      // the gradient or function-value convergence test was met
	Iterations int       // major iterations of the optimizer
	Theta      []float64 // log(Params), where the Hessian was evaluated
}

// Fit minimises o from the starting parameters start (positive, natural
// scale) with BFGS and falls back to Nelder-Mead followed by BFGS when BFGS
// fails. Standard errors come from the inverse of the Hessian of the
// negative log-likelihood, obtained by central differences of the analytic
// gradient in log parameters and mapped to natural parameters by the delta
// method (SE(p) = p·SE(log p)).
func Fit(o Objective, start []float64) (Result, error) {
	return FitFrom(o, start, nil)
}

// FitFrom is Fit with a preconditioner: hess, when not nil, is an estimate
// of the Hessian of the objective (per unit of weight, in log parameters)
// near the start, for instance from a fit on a sample of the data. The
// optimizer then works in coordinates z with θ = θ0 + L⁻ᵀz (hess = LLᵀ),
// where the objective's curvature is close to the identity that BFGS
// starts from, and needs fewer iterations.
func FitFrom(o Objective, start []float64, hess *mat.SymDense) (Result, error) {
	n := len(start)
	x0 := make([]float64, n)
	for i, s := range start {
		if !(s > 0) || math.IsInf(s, 0) {
			return Result{}, fmt.Errorf("mle: starting value %d is %v, want a positive finite number", i, s)
		}
		x0[i] = math.Log(s)
	}
	// m maps z to θ − θ0 (identity without a preconditioner).
	m := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		m.Set(i, i, 1)
	}
	if hess != nil {
		var ch mat.Cholesky
		if ch.Factorize(hess) {
			var l mat.TriDense
			ch.LTo(&l)
			var li mat.TriDense
			if err := li.InverseTri(&l); err == nil {
				m.CloneFrom(li.T()) // L⁻ᵀ
			}
		}
	}
	theta := func(z []float64) []float64 {
		t := make([]float64, n)
		for i := 0; i < n; i++ {
			t[i] = x0[i]
			for j := 0; j < n; j++ {
				t[i] += m.At(i, j) * z[j]
			}
		}
		return t
	}
	gt := make([]float64, n)
	p := optimize.Problem{
		Func: func(z []float64) float64 {
			x := theta(z)
			if !inRange(x) {
				return math.Inf(1)
			}
			return o.NegLL(x, nil)
		},
		Grad: func(grad, z []float64) {
			x := theta(z)
			if !inRange(x) {
				for i := range grad {
					grad[i] = math.NaN()
				}
				return
			}
			o.NegLL(x, gt)
			// ∂f/∂z = mᵀ·∂f/∂θ.
			for j := 0; j < n; j++ {
				grad[j] = 0
				for i := 0; i < n; i++ {
					grad[j] += m.At(i, j) * gt[i]
				}
			}
		},
	}
	z0 := make([]float64, n)
	settings := &optimize.Settings{
		GradientThreshold: 1e-7,
		MajorIterations:   1000,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-13, Relative: 1e-13, Iterations: 30},
	}
	res, err := optimize.Minimize(p, z0, settings, &optimize.BFGS{})
	iters := 0
	if res != nil {
		iters = res.Stats.MajorIterations
	}
	// Near the optimum BFGS's line search can fail on rounding noise in the
	// likelihood; a stationary point is then accepted as converged.
	gradOK := func(x []float64) bool {
		g := make([]float64, n)
		p.Grad(g, x)
		for _, v := range g {
			if !(math.Abs(v) <= gradTol) {
				return false
			}
		}
		return true
	}
	if err != nil && res != nil && finite(res.F) && gradOK(res.X) {
		err = nil
		res.Status = optimize.GradientThreshold
	}
	if err != nil || res == nil || !finite(res.F) {
		// Nelder-Mead needs no gradient and survives regions where the
		// likelihood overflows; polish its answer with BFGS.
		nm, nmErr := optimize.Minimize(optimize.Problem{Func: p.Func}, z0,
			&optimize.Settings{MajorIterations: 5000, Converger: &optimize.FunctionConverge{Absolute: 1e-12, Iterations: 200}},
			&optimize.NelderMead{})
		if nmErr != nil && (nm == nil || !finite(nm.F)) {
			return Result{}, fmt.Errorf("mle: optimisation failed: %v; Nelder-Mead: %w", err, nmErr)
		}
		iters += nm.Stats.MajorIterations
		res2, err2 := optimize.Minimize(p, nm.X, settings, &optimize.BFGS{})
		if err2 != nil && res2 != nil && finite(res2.F) && gradOK(res2.X) {
			err2 = nil
			res2.Status = optimize.GradientThreshold
		}
		if err2 == nil && res2 != nil && finite(res2.F) && res2.F <= nm.F {
			res, err = res2, nil
			iters += res2.Stats.MajorIterations
		} else {
			res, err = nm, err2
		}
	}
	r := Result{
		Params:     make([]float64, n),
		SE:         make([]float64, n),
		LogLik:     -res.F * o.Scale,
		Converged:  err == nil && (res.Status == optimize.GradientThreshold || res.Status == optimize.FunctionConvergence || res.Status == optimize.Success),
		Iterations: iters,
	}
	thetaHat := theta(res.X)
	for i, x := range thetaHat {
		r.Params[i] = math.Exp(x)
	}
	r.Theta = thetaHat
	se, herr := StdErrors(o, thetaHat)
	if herr != nil {
		for i := range r.SE {
			r.SE[i] = math.NaN()
		}
	} else {
		copy(r.SE, se)
	}
	return r, nil
}

// gradTol is the largest gradient component, per unit of weight and in log
// parameters, at which a point is taken as the maximum when the line search
// cannot make further progress.
const gradTol = 1e-6

// ErrSingular is returned by StdErrors when the Hessian is not positive
// definite (the maximum is flat or not a maximum in some direction).
var ErrSingular = errors.New("mle: Hessian of the negative log-likelihood is not positive definite")

// StdErrors returns the standard errors of exp(theta) at theta, the
// maximum of the likelihood: the square roots of the diagonal of the inverse
// observed information, computed in log parameters and mapped by the delta
// method.
func StdErrors(o Objective, theta []float64) ([]float64, error) {
	n := len(theta)
	h, err := Hessian(o, theta)
	if err != nil {
		return nil, err
	}
	h.ScaleSym(o.Scale, h)
	var ch mat.Cholesky
	if !ch.Factorize(h) {
		return nil, ErrSingular
	}
	cov := mat.NewSymDense(n, nil)
	if err := ch.InverseTo(cov); err != nil {
		return nil, ErrSingular
	}
	se := make([]float64, n)
	for i := range se {
		v := cov.At(i, i)
		if !(v > 0) {
			return nil, ErrSingular
		}
		se[i] = math.Exp(theta[i]) * math.Sqrt(v)
	}
	return se, nil
}

// Hessian returns the Hessian of o's objective (per unit of weight) at
// theta, by central differences of the analytic gradient, symmetrised.
func Hessian(o Objective, theta []float64) (*mat.SymDense, error) {
	n := len(theta)
	jac := mat.NewDense(n, n, nil)
	fd.Jacobian(jac, func(y, x []float64) { o.NegLL(x, y) }, theta, &fd.JacobianSettings{
		Formula: fd.Central,
		Step:    1e-5,
	})
	h := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := 0.5 * (jac.At(i, j) + jac.At(j, i))
			if !finite(v) {
				return nil, ErrSingular
			}
			h.SetSym(i, j, v)
		}
	}
	return h, nil
}

// inRange keeps the optimizer away from parameters whose exponentials
// overflow or vanish.
func inRange(x []float64) bool {
	for _, v := range x {
		if !(v > -30 && v < 30) {
			return false
		}
	}
	return true
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// JSONFloat returns v for JSON encoding: nil (null) when v is NaN or
// infinite, which encoding/json cannot encode.
func JSONFloat(v float64) *float64 {
	if !finite(v) {
		return nil
	}
	return &v
}
