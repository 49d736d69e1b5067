package sbg

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !(math.Abs(got-want) <= tol) {
		t.Errorf("%s = %.6g, want %.6g ± %.3g", what, got, want, tol)
	}
}

// Hand-computed: α = 1, β = 2 gives P(1) = 1/3, P(2) = 2/4·1/3 = 1/6,
// S(1) = 2/3, S(2) = 1/2, r_1 = 2/3, r_2 = 3/4.
func TestParams_HandComputed(t *testing.T) {
	p := Params{Alpha: 1, Beta: 2}
	near(t, "P(1)", p.Churn(1), 1.0/3, 1e-12)
	near(t, "P(2)", p.Churn(2), 1.0/6, 1e-12)
	near(t, "S(1)", p.Survival(1), 2.0/3, 1e-12)
	near(t, "S(2)", p.Survival(2), 0.5, 1e-12)
	near(t, "r1", p.RetentionRate(1), 2.0/3, 1e-12)
	near(t, "r2", p.RetentionRate(2), 0.75, 1e-12)
	near(t, "S(0)", p.Survival(0), 1, 0)
	// Cohort 10 → 6 → 4: 4 churn in period 1, 2 in period 2, 4 survive two renewals.
	c := []Cohort{{Alive: []float64{10, 6, 4}}}
	want := 4*math.Log(1.0/3) + 2*math.Log(1.0/6) + 4*math.Log(0.5)
	near(t, "LogLik", LogLik(c, p), want, 1e-12)
	// Weight 2 doubles it.
	near(t, "LogLik weighted", LogLik([]Cohort{{Alive: []float64{10, 6, 4}, Weight: 2}}, p), 2*want, 1e-12)
}

// The closed-form MLE of the tiny case satisfies the score equations; the
// fit's log-likelihood is at least that of nearby points, and equals
// LogLik at the estimates.
func TestFitCohorts_Tiny(t *testing.T) {
	cs := []Cohort{{Alive: []float64{10, 6, 4}}, {Alive: []float64{20, 15, 12, 10}}}
	f, err := FitCohorts(cs)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Converged {
		t.Errorf("not converged: %+v", f)
	}
	near(t, "LogLik", f.LogLik, LogLik(cs, f.Params), 1e-9)
	for _, d := range [][2]float64{{1e-3, 0}, {-1e-3, 0}, {0, 1e-3}, {0, -1e-3}} {
		q := Params{Alpha: f.Alpha * (1 + d[0]), Beta: f.Beta * (1 + d[1])}
		if LogLik(cs, q) > f.LogLik+1e-9 {
			t.Errorf("LogLik at %+v = %v exceeds the fit's %v", q, LogLik(cs, q), f.LogLik)
		}
	}
	if f.N != 30 || f.Periods != 3 {
		t.Errorf("N, Periods = %d, %d; want 30, 3", f.N, f.Periods)
	}
}

// The analytic gradient agrees with central differences of the likelihood.
func TestNegLL_Gradient(t *testing.T) {
	cells := []cell{{t: 1, churned: 4}, {t: 2, churned: 2, survived: 4}, {t: 5, churned: 3, survived: 7}}
	theta := []float64{math.Log(0.7), math.Log(2.3)}
	g := make([]float64, 2)
	negLL(cells, 1, theta, g)
	for i := range theta {
		h := 1e-6
		tp := append([]float64(nil), theta...)
		tm := append([]float64(nil), theta...)
		tp[i] += h
		tm[i] -= h
		num := (negLL(cells, 1, tp, nil) - negLL(cells, 1, tm, nil)) / (2 * h)
		near(t, "gradient", g[i], num, 1e-6)
	}
}

// Fader & Hardie (2007), Table 1: survivors of 1000 customers of the
// "regular" and "high end" segments, years 0–12 (data from Berry & Linoff
// 2004). The paper fits the first 7 renewals (years 0–7) and reports
// α = 0.704, β = 1.182 (regular) and α = 0.668, β = 3.806 (high end).
var (
	regular = []float64{1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173}
	highEnd = []float64{1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394}
)

func TestFitCohorts_FaderHardie2007(t *testing.T) {
	for _, tc := range []struct {
		name        string
		alive       []float64
		alpha, beta float64
	}{
		{"regular", regular, 0.704, 1.182},
		{"high end", highEnd, 0.668, 3.806},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := FitCohorts([]Cohort{{Alive: tc.alive[:8]}})
			if err != nil {
				t.Fatal(err)
			}
			near(t, "alpha", f.Alpha, tc.alpha, 0.0015)
			near(t, "beta", f.Beta, tc.beta, 0.0015)
			if !f.Converged || !(f.SE.Alpha > 0) || !(f.SE.Beta > 0) {
				t.Errorf("fit %+v", f)
			}
			// The paper's point: the projection of years 8–12 from the
			// 7-year fit is close to the actual survivors (within 2.5 %
			// of the cohort).
			for y := 8; y <= 12; y++ {
				near(t, "projected survivors", 1000*f.Survival(y), tc.alive[y], 25)
			}
		})
	}
}

// DEL and DERL in closed form agree with their defining series.
func TestDEL_DERL_Series(t *testing.T) {
	for _, p := range []Params{{0.704, 1.182}, {0.668, 3.806}, {2.5, 0.8}, {1, 1}} {
		for _, d := range []float64{0.01, 0.1, 0.25} {
			z := 1 / (1 + d)
			var del float64
			s, zt := 1.0, 1.0
			for tt := 0; tt < 200000 && s*zt > 1e-16; tt++ {
				del += s * zt
				s *= p.RetentionRate(tt + 1)
				zt *= z
			}
			near(t, "DEL", p.DEL(d), del, 1e-9*del)
			for _, n := range []int{0, 1, 4, 10} {
				// Σ_{k≥0} z^k S(n+1+k)/S(n).
				var derl float64
				zk := 1.0
				r := p.RetentionRate(n + 1)
				for k := 0; k < 200000 && r*zk > 1e-16; k++ {
					derl += r * zk
					r *= p.RetentionRate(n + 2 + k)
					zk *= z
				}
				near(t, "DERL", p.DERL(d, n), derl, 1e-9*derl)
			}
			// A new customer's residual lifetime after the first payment.
			near(t, "DERL(0) vs DEL", p.DERL(d, 0), (p.DEL(d)-1)*(1+d), 1e-9*p.DEL(d))
		}
	}
	if !math.IsNaN(Params{1, 1}.DEL(0)) || !math.IsNaN(Params{1, 1}.DERL(0, 0)) {
		t.Error("DEL or DERL at d = 0 is not NaN")
	}
}

// Simulate-and-recover: at 1k, 10k and 100k customers the estimates are
// within 3 standard errors of the truth and the standard errors shrink like
// 1/sqrt(n) (ratio of consecutive sizes within 2.6–3.8 of sqrt(10) = 3.16).
func TestFitCohorts_SimulateRecover(t *testing.T) {
	truth := Params{Alpha: 0.7, Beta: 1.9}
	rng := rand.New(rand.NewPCG(1, 2))
	var prev Fit
	for i, n := range []int{1000, 10000, 100000} {
		if testing.Short() && n > 10000 {
			break
		}
		// Three cohorts observed for 8, 5 and 3 renewals (right-censored at
		// different times).
		cs := []Cohort{Simulate(rng, truth, n/2, 8), Simulate(rng, truth, n/4, 5), Simulate(rng, truth, n/4, 3)}
		f, err := FitCohorts(cs)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("n=%d alpha=%.4f±%.4f beta=%.4f±%.4f LL=%.1f iter=%d", n, f.Alpha, f.SE.Alpha, f.Beta, f.SE.Beta, f.LogLik, f.Iterations)
		near(t, "alpha", f.Alpha, truth.Alpha, 3*f.SE.Alpha)
		near(t, "beta", f.Beta, truth.Beta, 3*f.SE.Beta)
		if i > 0 {
			for _, r := range []float64{prev.SE.Alpha / f.SE.Alpha, prev.SE.Beta / f.SE.Beta} {
				if r < 2.6 || r > 3.8 {
					t.Errorf("SE ratio between n=%d and n=%d is %.2f, want about 3.16", prev.N, f.N, r)
				}
			}
		}
		prev = f
	}
}

func TestFitCohorts_Errors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cs   []Cohort
		want error
	}{
		{"ErrEmpty", nil, ErrNoData},
		{"ErrNoRenewalObserved", []Cohort{{Alive: []float64{100}}}, ErrNoData},
		{"ErrNoChurn", []Cohort{{Alive: []float64{100, 100, 100}}}, ErrDegenerate},
		{"ErrNoRenewal", []Cohort{{Alive: []float64{100, 0, 0}}}, ErrDegenerate},
		{"ErrOnePeriod", []Cohort{{Alive: []float64{100, 50}}}, ErrDegenerate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := FitCohorts(tc.cs); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	for _, cs := range [][]Cohort{
		{{Alive: []float64{100, 120, 50}}},
		{{Alive: []float64{100, -1}}},
		{{Alive: []float64{100, math.NaN()}}},
		{{Alive: []float64{100, 50, 20}, Weight: -1}},
	} {
		if _, err := FitCohorts(cs); err == nil || errors.Is(err, ErrDegenerate) || errors.Is(err, ErrNoData) {
			t.Errorf("FitCohorts(%v) err = %v, want an input error", cs, err)
		}
	}
}

// BenchmarkFitCohorts fits the regular cohort (8 points) and a simulated
// 36-month cohort; the baseline is the same fit with Nelder-Mead.
func BenchmarkFitCohorts(b *testing.B) {
	monthly := Simulate(rand.New(rand.NewPCG(3, 4)), Params{0.9, 6}, 100000, 36)
	for _, bc := range []struct {
		name string
		cs   []Cohort
	}{{"regular-8", []Cohort{{Alive: regular[:8]}}}, {"monthly-36", []Cohort{monthly}}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := FitCohorts(bc.cs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A fit encodes as JSON with the parameters at the top level and NaN
// standard errors as null.
func TestFit_MarshalJSON(t *testing.T) {
	b, err := json.Marshal(Fit{Params: Params{Alpha: 0.5, Beta: 2}, SE: Params{Alpha: math.NaN(), Beta: 0.1}, LogLik: -10, N: 3, Periods: 2, Converged: true, Iterations: 7})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"alpha":0.5,"beta":2,"se":{"alpha":null,"beta":0.1},"log_lik":-10,"n":3,"periods":2,"converged":true,"iterations":7}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}
