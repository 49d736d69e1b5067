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
