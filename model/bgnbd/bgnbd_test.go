package bgnbd

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/integrate/quad"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !(math.Abs(got-want) <= tol) {
		t.Errorf("%s = %.8g, want %.8g ± %.3g", what, got, want, tol)
	}
}

var cdnowPublished = Params{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}

// naiveLL is the textbook likelihood (eq. 6) written directly, one customer
// at a time, without logs: the reference for the fast evaluator.
func naiveLL(cs []Customer, p Params) float64 {
	var ll float64
	for _, c := range cs {
		w := c.Count
		if w == 0 {
			w = 1
		}
		g1, _ := math.Lgamma(p.R + c.X)
		g0, _ := math.Lgamma(p.R)
		common := math.Exp(g1 - g0 + p.R*math.Log(p.Alpha))
		betaRatio := math.Exp(lbeta(p.A, p.B+c.X) - lbeta(p.A, p.B))
		l := betaRatio * common / math.Pow(p.Alpha+c.T, p.R+c.X)
		if c.X > 0 {
			l += math.Exp(lbeta(p.A+1, p.B+c.X-1)-lbeta(p.A, p.B)) * common / math.Pow(p.Alpha+c.TX, p.R+c.X)
		}
		ll += w * math.Log(l)
	}
	return ll
}

func lbeta(a, b float64) float64 {
	x, _ := math.Lgamma(a)
	y, _ := math.Lgamma(b)
	z, _ := math.Lgamma(a + b)
	return x + y - z
}

// Hand-computed: one customer with x = 0, T = 2 under r = α = a = 1, b = 2
// has L = B(1,2)/B(1,2)·Γ(1)·1/(1+2)^1 = 1/3; one with x = 1, tx = 1, T = 2
// has L = B(1,3)/B(1,2)·1/(3^2) + B(2,2)/B(1,2)·1/(2^2)
// = (2/3)/9 + (1/3)/4 = 2/27 + 1/12.
func TestLogLik_HandComputed(t *testing.T) {
	p := Params{R: 1, Alpha: 1, A: 1, B: 2}
	ll, err := LogLik([]Customer{{X: 0, T: 2}, {X: 1, TX: 1, T: 2, Count: 2}}, p)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "LL", ll, math.Log(1.0/3)+2*math.Log(2.0/27+1.0/12), 1e-12)
}

// The fast evaluator (per-x tables, logs, parallel rows) equals the naive
// likelihood, and its gradient equals central differences.
func TestNegLL_AgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cs := Simulate(rng, cdnowPublished, 50000, 39)
	for i := range cs {
		cs[i].Count = float64(1 + i%3)
	}
	d, err := prepare(cs)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Params{cdnowPublished, {R: 2, Alpha: 10, A: 1.5, B: 0.7}} {
		ev := newEvaluator(d)
		if ev.workers < 2 {
			ev.workers = 2 // exercise the parallel path even on one core
		}
		theta := []float64{math.Log(p.R), math.Log(p.Alpha), math.Log(p.A), math.Log(p.B)}
		g := make([]float64, 4)
		got := -ev.negLL(theta, g) * d.n
		want := naiveLL(cs, p)
		near(t, "LL", got, want, 1e-9*math.Abs(want))
		for i := range theta {
			h := 1e-5
			tp := append([]float64(nil), theta...)
			tm := append([]float64(nil), theta...)
			tp[i] += h
			tm[i] -= h
			num := (ev.negLL(tp, nil) - ev.negLL(tm, nil)) / (2 * h)
			near(t, "gradient", g[i], num, 1e-6)
		}
	}
}

// Simulate-and-recover at 1k, 10k, 100k and 1M customers (T = 39 or 78
// weeks, CDNOW-like parameters): every estimate within 3 standard errors
// of the truth, and standard errors shrinking like 1/sqrt(n) from 10k up
// (ratio 2.4–4.2 for a tenfold size).
func TestFitCustomers_SimulateRecover(t *testing.T) {
	truth := cdnowPublished
	rng := rand.New(rand.NewPCG(7, 8))
	var prev Fit
	sizes := []int{1000, 10000, 100000, 1000000}
	if testing.Short() {
		sizes = sizes[:3]
	}
	for i, n := range sizes {
		ages := make([]float64, n)
		for j := range ages {
			ages[j] = 39 + 39*float64(j%2)
		}
		hs := SimulateHoldout(rng, truth, ages, 0)
		cs := make([]Customer, n)
		for j := range hs {
			cs[j] = hs[j].Customer
		}
		f, err := FitCustomers(cs)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("n=%d r=%.4f±%.4f alpha=%.3f±%.3f a=%.4f±%.4f b=%.3f±%.3f LL=%.1f iter=%d conv=%v",
			n, f.R, f.SE.R, f.Alpha, f.SE.Alpha, f.A, f.SE.A, f.B, f.SE.B, f.LogLik, f.Iterations, f.Converged)
		if !f.Converged {
			t.Errorf("n=%d: not converged", n)
		}
		near(t, "r", f.R, truth.R, 3*f.SE.R)
		near(t, "alpha", f.Alpha, truth.Alpha, 3*f.SE.Alpha)
		near(t, "a", f.A, truth.A, 3*f.SE.A)
		near(t, "b", f.B, truth.B, 3*f.SE.B)
		if i > 1 { // from 10k up; at 1k the likelihood is far from quadratic in a and b
			for _, r := range []float64{prev.SE.R / f.SE.R, prev.SE.Alpha / f.SE.Alpha, prev.SE.A / f.SE.A, prev.SE.B / f.SE.B} {
				if r < 2.4 || r > 4.2 {
					t.Errorf("SE ratio n=%v → n=%v is %.2f, want about 3.16", prev.N, f.N, r)
				}
			}
		}
		prev = f
	}
}

// Grouping identical rows changes neither the estimates nor the
// log-likelihood.
func TestFitCustomers_CollapseInvariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	cs := Simulate(rng, Params{R: 0.5, Alpha: 8, A: 0.6, B: 2}, 20000, 52)
	for i := range cs { // whole weeks, as the store would give
		cs[i].TX = math.Ceil(cs[i].TX)
	}
	g := Collapse(cs)
	if len(g) >= len(cs)/2 {
		t.Fatalf("Collapse left %d of %d rows", len(g), len(cs))
	}
	f1, err1 := FitCustomers(cs)
	f2, err2 := FitCustomers(g)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	near(t, "LL", f2.LogLik, f1.LogLik, 1e-6*math.Abs(f1.LogLik))
	near(t, "r", f2.R, f1.R, 1e-4*f1.R)
	near(t, "b", f2.B, f1.B, 1e-4*f1.B)
	near(t, "N", f2.N, f1.N, 0)
}

// hypSeries is the defining series of 2F1, the reference for gonum's.
func hypSeries(a, b, c, z float64) float64 {
	s, term := 1.0, 1.0
	for k := 0; k < 1000000; k++ {
		term *= (a + float64(k)) * (b + float64(k)) / ((c + float64(k)) * float64(k+1)) * z
		s += term
		if math.Abs(term) < 1e-17*math.Abs(s) {
			break
		}
	}
	return s
}

// The closed forms (eqs. 7 and 10) agree with numerical integration of
// their definitions over the posterior, the hypergeometric function with
// its series, and E[X(t)] with the conditional expectation of a customer
// who has just joined.
func TestForecasts(t *testing.T) {
	p := cdnowPublished
	for _, tc := range []struct{ x, tx, T, t float64 }{
		{0, 0, 39, 39}, {1, 2, 39, 39}, {2, 30.43, 38.86, 39}, {7, 29.43, 38.86, 52}, {25, 27.29, 36.86, 39}, {60, 36, 38, 78},
	} {
		rx := p.R + tc.x
		z := tc.t / (p.Alpha + tc.T + tc.t)
		want2F1 := hypSeries(rx, p.B+tc.x, p.A+p.B+tc.x-1, z)
		near(t, "2F1", hypGonum(rx, p.B+tc.x, p.A+p.B+tc.x-1, z), want2F1, 1e-10*want2F1)
		got := p.ConditionalExpectedPurchases(tc.t, tc.x, tc.tx, tc.T)
		want := condExpectedByIntegration(p, tc.t, tc.x, tc.tx, tc.T)
		near(t, "E[Y(t)|x,tx,T]", got, want, 1e-6*math.Max(1, want))
	}
	for _, tt := range []float64{1, 10, 39, 78} {
		near(t, "E[X(t)] vs conditional at birth", p.ExpectedPurchases(tt), p.ConditionalExpectedPurchases(tt, 0, 0, 0), 1e-10)
		// Σ_x x·P(X(t)=x) = E[X(t)], Σ_x P = 1.
		var s, m float64
		for x := 0; x < 2000; x++ {
			q := p.ProbPurchases(x, tt)
			s += q
			m += float64(x) * q
		}
		near(t, "ΣP(X=x)", s, 1, 1e-8)
		near(t, "Σx·P(X=x)", m, p.ExpectedPurchases(tt), 1e-6)
	}
	// a = 1 exactly: the limit is continuous.
	q := Params{R: 0.5, Alpha: 5, A: 1, B: 2}
	lo, hi := q, q
	lo.A, hi.A = 0.999, 1.001
	near(t, "E[X] at a=1", q.ExpectedPurchases(20), (lo.ExpectedPurchases(20)+hi.ExpectedPurchases(20))/2, 1e-5)
	for _, a := range []float64{0.8, 1.3} {
		p := Params{R: 1.2, Alpha: 3, A: a, B: 2.5}
		for _, c := range []struct{ x, tx, T, t float64 }{{3, 10, 20, 15}, {0, 0, 5, 40}} {
			rx := p.R + c.x
			zz := c.t / (p.Alpha + c.T + c.t)
			near(t, "Hypergeo vs series", hypGonum(rx, p.B+c.x, p.A+p.B+c.x-1, zz), hypSeries(rx, p.B+c.x, p.A+p.B+c.x-1, zz), 1e-10*hypSeries(rx, p.B+c.x, p.A+p.B+c.x-1, zz))
			near(t, "E[Y|...] integration", p.ConditionalExpectedPurchases(c.t, c.x, c.tx, c.T), condExpectedByIntegration(p, c.t, c.x, c.tx, c.T), 1e-6)
		}
	}
}

// condExpectedByIntegration computes E[Y(t)|x,tx,T] from its definition.
// Given p, the purchase rate of a customer still alive has posterior
// Gamma(r+x, α+T), so E[1 − e^{−λpt}] = 1 − ((α+T)/(α+T+pt))^{r+x};
// with E[Y(t)|λ, p, alive] = (1 − e^{−λpt})/p this leaves one integral over
// p, done by Gauss–Legendre quadrature after substitutions that remove the
// endpoint singularities of the Beta density. The denominator is the
// customer's likelihood (eq. 6) written out.
func condExpectedByIntegration(pr Params, t, x, tx, T float64) float64 {
	lg0, _ := math.Lgamma(pr.R)
	lg1, _ := math.Lgamma(pr.R + x)
	c := math.Exp(lg1 - lg0 + pr.R*math.Log(pr.Alpha) - lbeta(pr.A, pr.B))
	aliveL := c / math.Pow(pr.Alpha+T, pr.R+x)
	// f(p)·p^{1−a}·(1−p)^{1−(b+x)}: the smooth part of the integrand.
	smooth := func(p float64) float64 {
		return aliveL * (1 - math.Pow((pr.Alpha+T)/(pr.Alpha+T+p*t), pr.R+x)) / p
	}
	e := pr.B + x
	// p in (0, 1/2): p = u^{1/a}, p^{a−1}dp = du/a.
	f1 := func(u float64) float64 {
		p := math.Pow(u, 1/pr.A)
		return smooth(p) * math.Pow(1-p, e-1) / pr.A
	}
	// p in (1/2, 1): 1−p = s^{1/e}, (1−p)^{e−1}dp = ds/e.
	f2 := func(s float64) float64 {
		p := 1 - math.Pow(s, 1/e)
		return smooth(p) * math.Pow(p, pr.A-1) / e
	}
	num := quad.Fixed(f1, 0, math.Pow(0.5, pr.A), 2000, nil, 0) + quad.Fixed(f2, 0, math.Pow(0.5, e), 2000, nil, 0)
	den := math.Exp(lbeta(pr.A, pr.B+x)) * aliveL
	if x > 0 {
		den += math.Exp(lbeta(pr.A+1, pr.B+x-1)) * c / math.Pow(pr.Alpha+tx, pr.R+x)
	}
	return num / den
}

// The calibration/hold-out check on simulated data: for each calibration
// frequency group the predicted mean number of hold-out purchases (at the
// true parameters) is within 4 standard errors of the actual mean, and the
// groups' weighted predictions add up to the total.
func TestExpectedRepeatByFrequency_Simulated(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	ages := make([]float64, 100000)
	for i := range ages {
		ages[i] = 26 + float64(i%13) // joined over 13 weeks, 39-week calibration
	}
	hs := SimulateHoldout(rng, cdnowPublished, ages, 39)
	rows := cdnowPublished.ExpectedRepeatByFrequency(hs, 7)
	if len(rows) != 8 || !rows[7].Plus || rows[0].X != 0 {
		t.Fatalf("rows %+v", rows)
	}
	var total, n float64
	for _, r := range rows {
		// Standard error of the actual mean, from the group's sample variance.
		var s2 float64
		for _, h := range hs {
			if int(math.Min(h.X, 7)) == r.X {
				d := h.HoldoutX - r.Actual
				s2 += d * d
			}
		}
		se := math.Sqrt(s2/(r.Customers-1)) / math.Sqrt(r.Customers)
		t.Logf("x=%d%s n=%.0f actual=%.3f predicted=%.3f (se %.3f)", r.X, map[bool]string{true: "+"}[r.Plus], r.Customers, r.Actual, r.Predicted, se)
		near(t, "predicted vs actual", r.Predicted, r.Actual, 4*se+1e-9)
		total += r.Predicted * r.Customers
		n += r.Customers
	}
	var want float64
	for _, h := range hs {
		want += cdnowPublished.ConditionalExpectedPurchases(39, h.X, h.TX, h.T)
	}
	near(t, "total", total, want, 1e-6*want)
	near(t, "customers", n, float64(len(hs)), 0)
}

// The tracking check: the expected cumulative repeat purchases of a
// population that joined over 12 weeks match the simulated cumulative
// counts within 4 standard errors, at several dates.
func TestExpectedCumulativeRepeat_Simulated(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const perWeek = 2000
	var starts []Start
	times := []float64{13, 26, 39, 52, 78}
	actual := make([]float64, len(times))
	var varSum = make([]float64, len(times))
	for w := 0; w < 12; w++ {
		starts = append(starts, Start{At: float64(w), Count: perWeek})
		// Each customer observed up to the last date: T = 78 − w, hold-out 0;
		// the purchase times are not kept, so simulate per date separately
		// via the memoryless process on [0, τ − w].
		for k, tau := range times {
			ages := make([]float64, perWeek)
			for i := range ages {
				ages[i] = tau - float64(w)
			}
			for _, h := range SimulateHoldout(rng, cdnowPublished, ages, 0) {
				actual[k] += h.X
				varSum[k] += h.X * h.X
			}
		}
	}
	got := cdnowPublished.ExpectedCumulativeRepeat(starts, times)
	n := float64(12 * perWeek)
	for k := range times {
		mean := actual[k] / n
		se := math.Sqrt((varSum[k]/n-mean*mean)/n) * n
		t.Logf("τ=%v expected=%.0f simulated=%.0f ± %.0f", times[k], got[k], actual[k], se)
		near(t, "cumulative repeat", got[k], actual[k], 4*se)
	}
	if c := cdnowPublished.ExpectedCumulativeRepeat(starts, []float64{0}); c[0] != 0 {
		t.Errorf("at τ = 0: %v", c[0])
	}
}

func TestFit_MarshalJSON(t *testing.T) {
	b, err := json.Marshal(Fit{Params: Params{R: 1, Alpha: 2, A: 3, B: 4}, SE: Params{R: math.NaN(), Alpha: 0.5, A: math.Inf(1), B: 1}, LogLik: -5, N: 10, Converged: true, Iterations: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"r":1,"alpha":2,"a":3,"b":4,"se":{"r":null,"alpha":0.5,"a":null,"b":1},"log_lik":-5,"n":10,"converged":true,"iterations":3}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

// The quadrature path of eq. 7 (used for large r+x or b+x, and where the
// closed form fails) agrees with the closed form where both apply, for
// a and b on either side of 1, and gives finite, increasing forecasts for
// customers with thousands of purchases.
func TestExpectedAlive_QuadratureVsClosedForm(t *testing.T) {
	for _, p := range []Params{cdnowPublished, {R: 2, Alpha: 1, A: 3, B: 0.5}, {R: 0.5, Alpha: 5, A: 1.5, B: 0.3}, {R: 1, Alpha: 5, A: 0.6, B: 4}} {
		for _, c := range [][4]float64{{39, 0, 0, 39}, {39, 2, 30, 39}, {100, 20, 50, 100}, {39, 35, 38, 39}, {365, 30, 300, 365}} {
			r, al, a, b := p.R+c[1], p.Alpha+c[3], p.A, p.B+c[1]
			closed := (a + b - 1) / (a - 1) * (1 - math.Pow(al/(al+c[0]), r)*hypGonum(r, b, a+b-1, c[0]/(al+c[0])))
			near(t, "quadrature vs closed form", expectedByQuadrature(r, al, a, b, c[0]), closed, 1e-8*closed)
		}
	}
	// a = 1: the closed form's limit.
	q := Params{R: 1, Alpha: 5, A: 1, B: 2}
	near(t, "a=1", expectedByQuadrature(q.R, q.Alpha, q.A, q.B, 39), q.ExpectedPurchases(39), 1e-8)
	prev := 0.0
	for _, tt := range []float64{30, 90, 365} {
		v := cdnowPublished.ConditionalExpectedPurchases(tt, 5000, 364, 365)
		if !(v > prev) || math.IsInf(v, 0) {
			t.Errorf("E[Y(%v) | x = 5000] = %v after %v", tt, v, prev)
		}
		prev = v
	}
}

// Homogeneous dropout: the fit can send a and b to 1e5–1e8 with a/(a+b)
// fixed. Eq. 7 and eq. 10 stay finite there and agree with a naive
// trapezoid over the Beta density (normalised numerically, 200,001
// points over the mean ± 20 sd) and with the limit a, b → ∞, where p is
// the constant π = a/(a+b): E[X(t)] = (1 − (α/(α+πt))^r)/π. At moderate
// a, b (25, 35) the bulk rule agrees with the closed form.
func TestExpectedAlive_LargeAB(t *testing.T) {
	naive := func(r, al, a, b, tt float64) float64 {
		m := a / (a + b)
		sd := math.Sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)))
		lo, hi := math.Max(m-20*sd, 1e-300), math.Min(m+20*sd, 1-1e-16)
		const n = 200000
		h := (hi - lo) / n
		var num, den, lmax float64
		lmax = math.Inf(-1)
		logf := func(p float64) float64 { return (a-1)*math.Log(p) + (b-1)*math.Log1p(-p) }
		for i := 0; i <= n; i++ {
			lmax = math.Max(lmax, logf(lo+float64(i)*h))
		}
		for i := 0; i <= n; i++ {
			p := lo + float64(i)*h
			w := math.Exp(logf(p) - lmax)
			if i == 0 || i == n {
				w /= 2
			}
			num += w * (1 - math.Pow(al/(al+p*tt), r)) / p
			den += w
		}
		return num / den
	}
	for _, ab := range [][2]float64{{1e5, 1e6}, {1e7, 1e8}, {3e4, 2e6}} {
		p := Params{R: 0.8, Alpha: 12, A: ab[0], B: ab[1]}
		pi := p.A / (p.A + p.B)
		for _, tt := range []float64{7, 30, 365, 1096} {
			got := p.ExpectedPurchases(tt)
			near(t, "E[X(t)] large a, b vs naive", got, naive(p.R, p.Alpha, p.A, p.B, tt), 1e-7*got)
			limit := (1 - math.Pow(p.Alpha/(p.Alpha+pi*tt), p.R)) / pi
			near(t, "E[X(t)] large a, b vs limit", got, limit, 1e-3*limit)
			for _, c := range [][3]float64{{0, 0, 100}, {3, 40, 100}, {60, 90, 100}, {500, 700, 730}} {
				e := p.ConditionalExpectedPurchases(tt, c[0], c[1], c[2])
				want := naive(p.R+c[0], p.Alpha+c[2], p.A, p.B+c[0], tt) * p.PAlive(c[0], c[1], c[2])
				near(t, "E[Y(t) | x, tx, T] large a, b", e, want, 1e-7*want)
				at := p.ExpectedPurchasesIfAliveAt([]float64{tt, 2 * tt}, c[0], c[2])
				near(t, "IfAliveAt", at[0], p.ExpectedPurchasesIfAlive(tt, c[0], c[2]), 1e-12*at[0])
				near(t, "IfAliveAt 2t", at[1], p.ExpectedPurchasesIfAlive(2*tt, c[0], c[2]), 1e-12*at[1])
			}
		}
	}
	// Continuity: the bulk rule (a, b ≥ 20) against the closed form.
	for _, p := range []Params{{R: 0.8, Alpha: 12, A: 25, B: 35}, {R: 3, Alpha: 40, A: 20, B: 20}} {
		for _, tt := range []float64{7, 30, 365} {
			closed := (p.A + p.B - 1) / (p.A - 1) * (1 - math.Pow(p.Alpha/(p.Alpha+tt), p.R)*hypGonum(p.R, p.B, p.A+p.B-1, tt/(p.Alpha+tt)))
			near(t, "bulk rule vs closed form", expectedByQuadrature(p.R, p.Alpha, p.A, p.B, tt), closed, 1e-9*closed)
		}
	}
}

// Customers who all drop out with the same probability: the fit's a and
// b run off to the boundary and the fit says so; the forecasts stay
// finite.
func TestFit_HomogeneousDropoutNote(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	cs := Simulate(rng, Params{R: 1.5, Alpha: 20, A: 2e6, B: 1.8e7}, 20000, 365)
	f, err := FitCustomers(cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a = %v, b = %v, note %q", f.A, f.B, f.Note)
	if f.A+f.B <= 1e4 || f.Note == "" {
		t.Errorf("a = %v, b = %v: expected the boundary and its note", f.A, f.B)
	}
	near(t, "a/(a+b)", f.A/(f.A+f.B), 0.1, 0.03)
	if v := f.ConditionalExpectedPurchases(365, 5, 300, 365); math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		t.Errorf("E[Y] = %v at a = %v, b = %v", v, f.A, f.B)
	}
	if n := boundaryNote(cdnowPublished); n != "" {
		t.Errorf("CDNOW fit has a note: %s", n)
	}
}

func TestBoundaryNote(t *testing.T) {
	for _, c := range []struct {
		p    Params
		want string
	}{{cdnowPublished, ""}, {Params{R: 1, Alpha: 10, A: 2e5, B: 4.5e6}, "homogeneous"}, {Params{R: 1, Alpha: 10, A: 1e-5, B: 6e4}, "none"}} {
		if n := boundaryNote(c.p); c.want == "" && n != "" || !strings.Contains(n, c.want) {
			t.Errorf("%+v: note %q, want %q", c.p, n, c.want)
		}
	}
}

// prepare skips its merge map when the rows are strictly increasing in
// (X, TX, T); the data it builds must be the same as with the map (rows in
// reverse order), up to the order of the rows.
func TestPrepare_SortedInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	seen := map[[3]float64]bool{}
	var cs []Customer
	for len(cs) < 3000 {
		x := float64(rng.IntN(6))
		tx := 0.0
		if x > 0 {
			tx = float64(1 + rng.IntN(40))
		}
		c := Customer{X: x, TX: tx, T: tx + float64(rng.IntN(20)), Count: float64(1 + rng.IntN(3))}
		if k := [3]float64{c.X, c.TX, c.T}; !seen[k] {
			seen[k] = true
			cs = append(cs, c)
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		return a.X < b.X || a.X == b.X && (a.TX < b.TX || a.TX == b.TX && a.T < b.T)
	})
	rev := make([]Customer, len(cs))
	for i, c := range cs {
		rev[len(cs)-1-i] = c
	}
	d1, err1 := prepare(cs)
	d2, err2 := prepare(rev)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if len(d1.x) != len(cs) || len(d2.x) != len(cs) || d1.n != d2.n {
		t.Fatalf("rows %d and %d, n %v and %v, want %d rows", len(d1.x), len(d2.x), d1.n, d2.n, len(cs))
	}
	for i := range d1.x {
		j := len(cs) - 1 - i
		if d1.x[i] != d2.x[j] || d1.tx[i] != d2.tx[j] || d1.T[i] != d2.T[j] || d1.c[i] != d2.c[j] || d1.xs[d1.xi[i]] != d2.xs[d2.xi[j]] {
			t.Fatalf("row %d differs", i)
		}
	}
	// A duplicate breaks the order: it must still be merged.
	d3, err := prepare(append(cs[:len(cs):len(cs)], cs[0]))
	if err != nil || len(d3.x) != len(cs) || d3.n != d1.n+cs[0].Count {
		t.Fatalf("duplicate not merged: %d rows, n %v", len(d3.x), d3.n)
	}
}

// ExpectedPurchasesIfAliveGrid sums the nodes with r·p·t/α ≤ 1/20 as a
// power series over their moments: it must agree with the plain
// quadrature (every node evaluated) to 1e-12, for a below and above 1 and
// r + x from 40 to 300, and the series must actually take nodes.
func TestExpectedPurchasesIfAliveGrid_Series(t *testing.T) {
	ts := make([]float64, 36)
	for i := range ts {
		ts[i] = float64(i+1) * 30.4375 / 7
	}
	for _, p := range []Params{{R: 0.4, Alpha: 14, A: 0.35, B: 2.5}, {R: 0.24, Alpha: 4.4, A: 0.79, B: 2.43}, {R: 1.5, Alpha: 30, A: 2.5, B: 40}} {
		for _, x := range []float64{40, 41, 75, 150, 300} {
			Ts := []float64{x / 3, 20, 55.5, 104}
			grid := p.ExpectedPurchasesIfAliveGrid(ts, x, Ts)
			for j, T := range Ts {
				for i, tt := range ts {
					want := expectedByQuadrature(p.R+x, p.Alpha+T, p.A, p.B+x, tt)
					near(t, "grid vs plain quadrature", grid[j][i], want, 1e-12*want)
				}
			}
			if _, _, m := splitRule(p.R+x, p.Alpha, ts, Ts, p.A, p.B+x); m == nil || !(m[0] > 0) {
				t.Errorf("%+v x=%v: no node in the series", p, x)
			}
		}
	}
}
