package gammagamma

import (
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkFitCustomers fits the Gamma-Gamma to 400,000 customers (the
// repeat buyers among 1 M), one row each, means in cents.
func BenchmarkFitCustomers(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	xs := make([]int, 400000)
	for i := range xs {
		xs[i] = 1 + int(rng.ExpFloat64()*2)
	}
	cs := Simulate(rng, Params{P: 6.25, Q: 3.74, Gamma: 15.44}, xs)
	for i := range cs {
		cs[i].Mean = math.Max(0.01, math.Round(cs[i].Mean*100)/100)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if f, err := FitCustomers(cs); err != nil || !f.Converged {
			b.Fatal(err, f)
		}
	}
}
