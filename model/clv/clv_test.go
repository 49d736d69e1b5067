package clv

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/bowtie-analytics/bowtie/model/bgnbd"
	"github.com/bowtie-analytics/bowtie/model/gammagamma"
)

var (
	bg = bgnbd.Params{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	gg = gammagamma.Params{P: 6.25, Q: 3.74, Gamma: 15.44}
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !(math.Abs(got-want) <= tol) {
		t.Errorf("%s = %.8g, want %.8g ± %.3g", what, got, want, tol)
	}
}

// Without discounting the sum telescopes to E[Y(H)]·E[Z|x,z̄]; one step is
// E[Y(L)]·E[Z]/(1+d); discounting lowers the value.
func TestForecast_HandComputed(t *testing.T) {
	c := Customer{X: 2, TX: 30.43, T: 38.86, Mean: 22.35}
	v, err := Forecast(bg, gg, c, Options{Periods: 12, PeriodLength: 52.0 / 12, Discount: 0})
	if err != nil {
		t.Fatal(err)
	}
	ey := bg.ConditionalExpectedPurchases(52, 2, 30.43, 38.86)
	ez := gg.ConditionalExpectedValue(2, 22.35)
	near(t, "CLV at d=0", v.CLV, ey*ez, 1e-9)
	near(t, "purchases", v.ExpectedPurchases, ey, 1e-9)
	near(t, "spend", v.ExpectedSpend, ez, 0)
	near(t, "P(alive)", v.PAlive, bg.PAlive(2, 30.43, 38.86), 0)
	one, _ := Forecast(bg, gg, c, Options{Periods: 1, PeriodLength: 10, Discount: 0.1})
	near(t, "one step", one.CLV, bg.ConditionalExpectedPurchases(10, 2, 30.43, 38.86)*ez/1.1, 1e-9)
	d, _ := Forecast(bg, gg, c, Options{Periods: 12, PeriodLength: 52.0 / 12, Discount: 0.01})
	if !(d.CLV < v.CLV && d.CLV > v.CLV/1.01/1.01/1.01/1.01/1.01/1.01/1.01/1.01/1.01/1.01/1.01/1.01) {
		t.Errorf("discounted CLV %v not between undiscounted %v and fully discounted", d.CLV, v.CLV)
	}
	for _, o := range []Options{{}, {Periods: 1}, {Periods: 1, PeriodLength: 1, Discount: -0.1}} {
		if _, err := Forecast(bg, gg, c, o); err == nil {
			t.Errorf("Forecast(%+v): no error", o)
		}
	}
}

// A new customer's CLV (x = tx = T = 0) against a simulation of the two
// models: 200,000 customers, each with a purchase rate, a dropout
// probability and a spend rate drawn from the mixing distributions, whose
// purchases over 12 monthly steps are valued and discounted at the end of
// their step. The mean simulated value is within 3 standard errors of
// Forecast's.
func TestForecast_Simulated(t *testing.T) {
	o := Options{Periods: 12, PeriodLength: 52.0 / 12, Discount: 0.02}
	v, err := Forecast(bg, gg, Customer{}, o)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	lamD := distuv.Gamma{Alpha: bg.R, Beta: bg.Alpha, Src: rng}
	pD := distuv.Beta{Alpha: bg.A, Beta: bg.B, Src: rng}
	nuD := distuv.Gamma{Alpha: gg.Q, Beta: gg.Gamma, Src: rng}
	n := 200000
	var sum, sum2 float64
	H := float64(o.Periods) * o.PeriodLength
	for i := 0; i < n; i++ {
		lam, p, nu := lamD.Rand(), pD.Rand(), nuD.Rand()
		z := distuv.Gamma{Alpha: gg.P, Beta: nu, Src: rng}
		var val, t0 float64
		for {
			t0 += rng.ExpFloat64() / lam
			if t0 > H {
				break
			}
			step := math.Ceil(t0 / o.PeriodLength)
			val += z.Rand() / math.Pow(1+o.Discount, step)
			if rng.Float64() < p {
				break
			}
		}
		sum += val
		sum2 += val * val
	}
	mean := sum / float64(n)
	se := math.Sqrt((sum2/float64(n) - mean*mean) / float64(n))
	t.Logf("CLV %.4f, simulated %.4f ± %.4f", v.CLV, mean, se)
	near(t, "CLV vs simulation", v.CLV, mean, 3*se)
}

// ForecastAll gives Forecast's values for every customer.
func TestForecastAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	bs := bgnbd.Simulate(rng, bg, 3000, 39)
	cs := make([]Customer, len(bs))
	for i, b := range bs {
		cs[i] = Customer{X: b.X, TX: b.TX, T: math.Ceil(b.T - float64(i%5)), Mean: 10 + float64(i%40)}
		if cs[i].TX > cs[i].T {
			cs[i].TX = cs[i].T
		}
	}
	o := Options{Periods: 6, PeriodLength: 4, Discount: 0.01}
	all, err := ForecastAll(bg, gg, cs, o)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cs {
		v, _ := Forecast(bg, gg, c, o)
		near(t, "CLV", all[i].CLV, v.CLV, 1e-9*math.Max(1, v.CLV))
		near(t, "purchases", all[i].ExpectedPurchases, v.ExpectedPurchases, 1e-9*math.Max(1, v.ExpectedPurchases))
		near(t, "P(alive)", all[i].PAlive, v.PAlive, 0)
		near(t, "spend", all[i].ExpectedSpend, v.ExpectedSpend, 0)
	}
	if _, err := ForecastAll(bg, gg, cs, Options{}); err == nil {
		t.Error("no error for empty options")
	}
}

// BenchmarkForecastAll forecasts 1 M customers (times in whole days, one
// year, 12 monthly steps); the baseline is Forecast customer by customer.
func BenchmarkForecastAll(b *testing.B) {
	rng := rand.New(rand.NewPCG(15, 16))
	p := bgnbd.Params{R: bg.R, Alpha: bg.Alpha * 7, A: bg.A, B: bg.B}
	ages := make([]float64, 1000000)
	for i := range ages {
		ages[i] = 1 + 364*rng.Float64()
	}
	hs := bgnbd.SimulateHoldout(rng, p, ages, 0)
	cs := make([]Customer, len(hs))
	for i, h := range hs {
		cs[i] = Customer{X: h.X, TX: math.Ceil(h.TX), T: math.Ceil(h.T), Mean: 20 + float64(i%50)}
	}
	o := Options{Periods: 12, PeriodLength: 30, Discount: 0.01}
	b.Run("all", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := ForecastAll(p, gg, cs, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-by-one-100k", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, c := range cs[:100000] {
				if _, err := Forecast(p, gg, c, o); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
