package bgnbd

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"

	"gonum.org/v1/gonum/optimize"
)

// benchN is the number of customers of the benchmarks: BOWTIE_BENCH_CUSTOMERS
// or 1,000,000.
func benchN() int {
	if v, err := strconv.Atoi(os.Getenv("BOWTIE_BENCH_CUSTOMERS")); err == nil && v > 0 {
		return v
	}
	return 1000000
}

var (
	benchOnce  sync.Once
	benchCont  []Customer // times continuous (every row distinct: the worst case)
	benchDays  []Customer // the same customers with times in whole days
	benchWeeks []Customer // and in whole weeks
)

// benchData simulates CDNOW-like customers who joined uniformly over a
// year, observed at its end (times in days; the weekly version rounds tx
// and T up to whole weeks, as a store would summarise them).
func benchData() (cont, days, weeks []Customer) {
	benchOnce.Do(func() {
		n := benchN()
		rng := rand.New(rand.NewPCG(41, 42))
		ages := make([]float64, n)
		for i := range ages {
			ages[i] = 1 + 364*rng.Float64()
		}
		p := Params{R: 0.243, Alpha: 4.414 * 7, A: 0.793, B: 2.426} // α in days
		hs := SimulateHoldout(rng, p, ages, 0)
		benchCont = make([]Customer, n)
		benchDays = make([]Customer, n)
		benchWeeks = make([]Customer, n)
		for i, h := range hs {
			benchCont[i] = h.Customer
			dd := h.Customer
			dd.T = math.Ceil(dd.T)
			dd.TX = math.Ceil(dd.TX)
			benchDays[i] = dd
			w := h.Customer
			w.T = math.Ceil(w.T / 7)
			w.TX = math.Ceil(w.TX / 7)
			benchWeeks[i] = w
		}
	})
	return benchCont, benchDays, benchWeeks
}

// BenchmarkFitCustomers fits the BG/NBD to 1 M customers given one row
// each (FitCustomers merges identical rows itself): times in whole days,
// in whole weeks, and continuous (no two rows alike: the worst case).
func BenchmarkFitCustomers(b *testing.B) {
	cont, days, weeks := benchData()
	for _, bc := range []struct {
		name string
		cs   []Customer
	}{{"days", days}, {"weeks", weeks}, {"continuous", cont}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			rows := len(Collapse(bc.cs))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f, err := FitCustomers(bc.cs)
				if err != nil || !f.Converged {
					b.Fatal(err, f)
				}
				b.ReportMetric(float64(f.Iterations), "iterations")
			}
			b.ReportMetric(float64(rows), "rows")
		})
	}
}

// BenchmarkLogLik compares one evaluation of the log-likelihood and its
// gradient: the fast evaluator on all cores and on one, against the naive
// per-customer likelihood (lgamma and pow per row, no gradient).
func BenchmarkLogLik(b *testing.B) {
	days, _, _ := benchData()
	d, err := prepare(days)
	if err != nil {
		b.Fatal(err)
	}
	theta := []float64{math.Log(0.243), math.Log(30), math.Log(0.793), math.Log(2.426)}
	g := make([]float64, 4)
	b.Run("fast", func(b *testing.B) {
		ev := newEvaluator(d)
		for i := 0; i < b.N; i++ {
			ev.negLL(theta, g)
		}
	})
	b.Run("fast-1core", func(b *testing.B) {
		ev := newEvaluator(d)
		ev.workers = 1
		for i := 0; i < b.N; i++ {
			ev.negLL(theta, g)
		}
	})
	b.Run("naive-no-gradient", func(b *testing.B) {
		p := Params{R: 0.243, Alpha: 30, A: 0.793, B: 2.426}
		for i := 0; i < b.N; i++ {
			naiveLL(days, p)
		}
	})
}

// BenchmarkFitNelderMead is the baseline optimizer: gonum's Nelder-Mead
// (no gradient) on the same ungrouped likelihood.
func BenchmarkFitNelderMead(b *testing.B) {
	_, days, _ := benchData()
	d, _ := prepare(days)
	ev := newEvaluator(d)
	for i := 0; i < b.N; i++ {
		res, err := optimize.Minimize(optimize.Problem{Func: func(x []float64) float64 { return ev.negLL(x, nil) }},
			[]float64{0, math.Log(30), 0, math.Log(3)},
			&optimize.Settings{Converger: &optimize.FunctionConverge{Absolute: 1e-10, Iterations: 100}}, &optimize.NelderMead{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Stats.FuncEvaluations), "evaluations")
	}
}
