package gammagamma

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// Hand-computed limit: with one ν for everyone a mean of x values is
// Gamma(px, xν); p = 1, ν = 2, x = 1, z̄ = 1 gives 2e⁻²; x = 2, z̄ = 0.5
// gives Gamma(2, 4) at 0.5: 4²·0.5·e⁻²/Γ(2) = 8e⁻².
func TestLogLik_Homogeneous(t *testing.T) {
	p := Params{P: 1, Q: math.Inf(1), Gamma: math.Inf(1), Nu: 2}
	ll, err := LogLik([]Customer{{X: 1, Mean: 1}, {X: 2, Mean: 0.5}}, p)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "LL", ll, math.Log(2)-2+math.Log(8)-2, 1e-12)
	// The three-parameter likelihood approaches the limit along q/γ = ν.
	cs := Simulate(rand.New(rand.NewPCG(9, 9)), Params{P: 3, Q: 5, Gamma: 100}, []int{1, 2, 3, 4, 7})
	p = Params{P: 3, Q: math.Inf(1), Gamma: math.Inf(1), Nu: 0.05}
	lim, _ := LogLik(cs, p)
	prev := math.Inf(1)
	for _, q := range []float64{1e2, 1e3, 1e4, 1e5} {
		l, _ := LogLik(cs, Params{P: 3, Q: q, Gamma: q / 0.05})
		if d := math.Abs(l - lim); !(d < prev/5) {
			t.Errorf("q = %g: |LL − limit| = %.3g, want below %.3g", q, d, prev/5)
		} else {
			prev = d
		}
	}
	if v := p.ConditionalExpectedValue(3, 1000); v != 60 || p.MeanValue() != 60 {
		t.Errorf("E[Z] at the boundary = %v, mean %v; want p/ν = 60 for everyone", v, p.MeanValue())
	}
}

// Simulate-and-recover at the boundary: every customer's spend has the same
// rate ν, so q and γ run to infinity; the fit reports the limit with p and
// ν within 3 SE, at a size fitted directly and at one fitted from a sample
// first (more than 80,000 rows).
func TestFitCustomers_Homogeneous(t *testing.T) {
	truth := Params{P: 2.5, Q: math.Inf(1), Gamma: math.Inf(1), Nu: 0.04}
	rng := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{5000, 100000} {
		if testing.Short() && n > 10000 {
			continue
		}
		xs := make([]int, n)
		for j := range xs {
			xs[j] = 1 + rng.IntN(12)
		}
		f, err := FitCustomers(Simulate(rng, truth, xs))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("n=%d %+v", n, f)
		if !f.Homogeneous() || !f.Converged || f.Note == "" || !math.IsNaN(f.SE.Q) {
			t.Fatalf("n=%d: not reported as the homogeneous boundary: %+v", n, f)
		}
		near(t, "p", f.P, truth.P, 3*f.SE.P)
		near(t, "nu", f.Nu, truth.Nu, 3*f.SE.Nu)
		near(t, "mean", f.MeanValue(), f.P/f.Nu, 0)
	}
}

// Customers whose repeat purchases all have the same value but whose values
// differ (a subscription price per customer) run p to infinity, not q: the
// fit must not be mistaken for the homogeneous boundary.
func TestFitCustomers_ConstantPerCustomer(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	var cs []Customer
	for i := 0; i < 3000; i++ {
		cs = append(cs, Customer{X: float64(1 + rng.IntN(6)), Mean: []float64{9.99, 14.99, 29.99}[rng.IntN(3)] * (1 + 0.01*rng.Float64())})
	}
	f, err := FitCustomers(cs)
	if err != nil {
		t.Fatal(err)
	}
	if f.Homogeneous() {
		t.Errorf("heterogeneous constant spend fitted as homogeneous: %+v", f)
	}
}

// negLL sums the rows in chunks on several goroutines: the result must not
// depend on the number of cores (bit for bit), and must agree with one
// plain loop over the rows.
func TestNegLL_Chunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	xs := make([]int, 3*chunkRows+123)
	for i := range xs {
		xs[i] = 1 + rng.IntN(20)
	}
	d, err := prepare(Simulate(rng, Params{P: 6, Q: 4, Gamma: 15}, xs))
	if err != nil {
		t.Fatal(err)
	}
	theta := []float64{math.Log(5), math.Log(3), math.Log(20)}
	g1, g2 := make([]float64, 3), make([]float64, 3)
	old := runtime.GOMAXPROCS(1)
	f1 := negLL(d, theta, g1)
	runtime.GOMAXPROCS(max(old, 4))
	f2 := negLL(d, theta, g2)
	runtime.GOMAXPROCS(old)
	if f1 != f2 || g1[0] != g2[0] || g1[1] != g2[1] || g1[2] != g2[2] {
		t.Errorf("one core %v %v, several %v %v", f1, g1, f2, g2)
	}
	// Reference: the per-customer density summed in one loop.
	p, q, g := 5.0, 3.0, 20.0
	var ll float64
	for i, x := range d.x {
		a, _ := math.Lgamma(p*x + q)
		b, _ := math.Lgamma(p * x)
		c, _ := math.Lgamma(q)
		ll += a - b - c + q*math.Log(g) + p*x*math.Log(x) + (p*x-1)*math.Log(d.z[i]) - (p*x+q)*math.Log(g+x*d.z[i])
	}
	near(t, "−LL/n", f1, -ll/d.n, 1e-12*math.Abs(ll/d.n))
}
