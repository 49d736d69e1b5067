package gammagamma

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bowtie-analytics/bowtie/model/internal/cdnow"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !(math.Abs(got-want) <= tol) {
		t.Errorf("%s = %.8g, want %.8g ± %.3g", what, got, want, tol)
	}
}

// Hand-computed: p = 1, q = 2, γ = 3 and one customer with x = 1, z̄ = 1:
// f = Γ(3)/(Γ(1)Γ(2))·3²·1·1⁰/(3+1)³ = 2·9/64.
func TestLogLik_HandComputed(t *testing.T) {
	ll, err := LogLik([]Customer{{X: 1, Mean: 1}, {X: 2, Mean: 0.5, Count: 3}}, Params{P: 1, Q: 2, Gamma: 3})
	if err != nil {
		t.Fatal(err)
	}
	// x = 2, z̄ = 0.5: Γ(4)/(Γ(2)Γ(2))·9·2²·0.5¹/(3+1)⁴ = 6·9·4·0.5/256.
	near(t, "LL", ll, math.Log(18.0/64)+3*math.Log(6*9*4*0.5/256), 1e-12)
}

func TestNegLL_Gradient(t *testing.T) {
	cs := Simulate(rand.New(rand.NewPCG(1, 1)), Params{P: 6, Q: 4, Gamma: 15}, []int{1, 2, 3, 5, 8, 1, 1, 2})
	d, err := prepare(cs)
	if err != nil {
		t.Fatal(err)
	}
	theta := []float64{math.Log(5), math.Log(3), math.Log(20)}
	g := make([]float64, 3)
	negLL(d, theta, g)
	for i := range theta {
		h := 1e-6
		tp := append([]float64(nil), theta...)
		tm := append([]float64(nil), theta...)
		tp[i] += h
		tm[i] -= h
		near(t, "gradient", g[i], (negLL(d, tp, nil)-negLL(d, tm, nil))/(2*h), 1e-6)
	}
}

// Fader & Hardie (2013), "The Gamma-Gamma model of monetary value": on the
// 946 CDNOW customers with repeat purchases (x and the mean z̄ of their
// repeat transactions, model/testdata/cdnow_summary.txt) the estimates are
// p = 6.25, q = 3.74, γ = 15.44.
func TestFitCustomers_CDNOW(t *testing.T) {
	rows, err := cdnow.Load("../testdata/cdnow_summary.txt")
	if err != nil {
		t.Fatal(err)
	}
	var cs []Customer
	for _, r := range rows {
		if r.X > 0 {
			cs = append(cs, Customer{X: r.X, Mean: r.Zbar})
		}
	}
	if len(cs) != 946 {
		t.Fatalf("%d customers with repeat purchases, want 946", len(cs))
	}
	f, err := FitCustomers(cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fit: %+v", f)
	near(t, "p", f.P, 6.25, 0.006)
	near(t, "q", f.Q, 3.74, 0.006)
	// γ's likelihood is flat (its SE is about 4): 15.448 here rounds to
	// 15.45, and the data's values are rounded to cents; 0.01 is 0.25 % of
	// one standard error.
	near(t, "gamma", f.Gamma, 15.44, 0.01)
	if !f.Converged {
		t.Error("not converged")
	}
	// The mean spend implied by the model, pγ/(q−1), is close to the
	// customers' average mean (about $35): the model fits the level.
	var avg float64
	for _, c := range cs {
		avg += c.Mean / float64(len(cs))
	}
	near(t, "MeanValue", f.MeanValue(), avg, 0.1*avg)
}

// ConditionalExpectedValue is the weighted mean of the population mean and
// the customer's mean, with weight px/(px+q−1) on the latter.
func TestConditionalExpectedValue(t *testing.T) {
	p := Params{P: 6.25, Q: 3.74, Gamma: 15.44}
	for _, c := range []struct{ x, m float64 }{{1, 10}, {2, 30}, {10, 100}} {
		w := p.P * c.x / (p.P*c.x + p.Q - 1)
		near(t, "E[Z|x,m]", p.ConditionalExpectedValue(c.x, c.m), (1-w)*p.MeanValue()+w*c.m, 1e-9)
	}
	near(t, "E[Z|0]", p.ConditionalExpectedValue(0, 0), p.P*p.Gamma/(p.Q-1), 1e-12)
	if !math.IsNaN((Params{P: 1, Q: 0.5, Gamma: 1}).MeanValue()) {
		t.Error("MeanValue with q < 1 is not NaN")
	}
}

// Simulate-and-recover at 1k, 10k and 100k customers with 1–10 repeat
// transactions: estimates within 3 SE; SE ratio for a tenfold size within
// 2.4–4.2 (about sqrt(10)).
func TestFitCustomers_SimulateRecover(t *testing.T) {
	truth := Params{P: 6.25, Q: 3.74, Gamma: 15.44}
	rng := rand.New(rand.NewPCG(3, 3))
	var prev Fit
	for i, n := range []int{1000, 10000, 100000} {
		xs := make([]int, n)
		for j := range xs {
			xs[j] = 1 + rng.IntN(10)
		}
		f, err := FitCustomers(Simulate(rng, truth, xs))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("n=%d p=%.3f±%.3f q=%.3f±%.3f gamma=%.3f±%.3f iter=%d", n, f.P, f.SE.P, f.Q, f.SE.Q, f.Gamma, f.SE.Gamma, f.Iterations)
		near(t, "p", f.P, truth.P, 3*f.SE.P)
		near(t, "q", f.Q, truth.Q, 3*f.SE.Q)
		near(t, "gamma", f.Gamma, truth.Gamma, 3*f.SE.Gamma)
		if i > 0 {
			for _, r := range []float64{prev.SE.P / f.SE.P, prev.SE.Q / f.SE.Q, prev.SE.Gamma / f.SE.Gamma} {
				if r < 2.4 || r > 4.2 {
					t.Errorf("SE ratio %.2f, want about 3.16", r)
				}
			}
		}
		prev = f
	}
}

func TestFitCustomers_Errors(t *testing.T) {
	for _, cs := range [][]Customer{nil, {{X: 0, Mean: 1}}, {{X: 1.5, Mean: 1}}, {{X: 1, Mean: 0}}, {{X: 1, Mean: -3}}, {{X: 1, Mean: 1, Count: -1}}} {
		if _, err := FitCustomers(cs); err == nil {
			t.Errorf("FitCustomers(%v): no error", cs)
		}
	}
}

func TestFit_MarshalJSON(t *testing.T) {
	b, err := json.Marshal(Fit{Params: Params{P: 1, Q: 2, Gamma: 3}, SE: Params{P: math.NaN(), Q: 0.5, Gamma: 1}, LogLik: -5, N: 10, Iterations: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"p":1,"q":2,"gamma":3,"se":{"p":null,"q":0.5,"gamma":1},"log_lik":-5,"n":10,"converged":false,"iterations":3}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}
