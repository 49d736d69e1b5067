// Package clv combines the BG/NBD model of purchase counts (package
// bgnbd) with the Gamma-Gamma model of spend (package gammagamma) into a
// customer's expected discounted value over a horizon.
//
// Method. The horizon is cut into Periods steps of PeriodLength time units
// (the BG/NBD's unit). The expected purchases in step i are the difference
// of conditional expectations E[Y(i·L) | x, tx, T] − E[Y((i−1)·L) | x, tx, T]
// (Fader, Hardie & Lee 2005, eq. 10), each step's purchases are valued at
// the Gamma-Gamma conditional expected value E[Z | x, z̄] and discounted at
// the end of the step:
//
//	CLV = Σ_{i=1..Periods} [E[Y(iL)] − E[Y((i−1)L)]] · E[Z | x, z̄] / (1+d)^i.
//
// This is the discrete approximation used by the lifetimes package (an
// end-of-period discounting of continuous purchases); the closed-form DERT
// of Fader, Hardie & Lee (2005, "RFM and CLV", JMR 42(4)) is derived for
// the Pareto/NBD and is not used. The two models are assumed independent
// (spend does not depend on purchase frequency). Margins are applied by
// the caller (multiply by the gross margin).
package clv

import (
	"errors"
	"math"
	"runtime"
	"sync"

	"github.com/bowtie-analytics/bowtie/model/bgnbd"
	"github.com/bowtie-analytics/bowtie/model/gammagamma"
)

// Customer is a customer's calibration summary: X repeat purchases, the
// last at TX, T time units after the first purchase, and the mean value
// Mean of the repeat purchases (ignored when X = 0).
type Customer struct {
	X    float64 `json:"x"`
	TX   float64 `json:"tx"`
	T    float64 `json:"T"`
	Mean float64 `json:"mean"`
}

// Options set the horizon and the discounting.
type Options struct {
	Periods      int     `json:"periods"`       // number of steps, ≥ 1 (e.g. 12)
	PeriodLength float64 `json:"period_length"` // length of a step in the BG/NBD's time unit (e.g. 30 days, or 4.345 weeks)
	Discount     float64 `json:"discount"`      // discount rate per step, ≥ 0 (e.g. 0.01 a month)
}

// Value is one customer's forecast.
type Value struct {
	PAlive            float64 `json:"p_alive"`            // P(alive at T)
	ExpectedPurchases float64 `json:"expected_purchases"` // over the whole horizon, undiscounted
	ExpectedSpend     float64 `json:"expected_spend"`     // E[Z | x, z̄], value of one future purchase
	CLV               float64 `json:"clv"`                // discounted expected value of the horizon's purchases
}

// ErrOptions is returned by Forecast for a horizon or discount rate out of
// range.
var ErrOptions = errors.New("clv: Periods must be ≥ 1, PeriodLength > 0 and Discount ≥ 0")

// Forecast returns the customer's P(alive), expected purchases, expected
// spend per purchase and CLV over the horizon of o (method in the package
// comment).
func Forecast(bg bgnbd.Params, gg gammagamma.Params, c Customer, o Options) (Value, error) {
	if o.Periods < 1 || !(o.PeriodLength > 0) || !(o.Discount >= 0) || math.IsInf(o.Discount, 0) {
		return Value{}, ErrOptions
	}
	spend := gg.ConditionalExpectedValue(c.X, c.Mean)
	v := Value{PAlive: bg.PAlive(c.X, c.TX, c.T), ExpectedSpend: spend}
	prev := 0.0
	disc := 1.0
	for i := 1; i <= o.Periods; i++ {
		cur := bg.ConditionalExpectedPurchases(float64(i)*o.PeriodLength, c.X, c.TX, c.T)
		disc /= 1 + o.Discount
		v.CLV += (cur - prev) * spend * disc
		prev = cur
	}
	v.ExpectedPurchases = prev
	return v, nil
}

// ForecastAll returns Forecast for every customer, computing the BG/NBD
// expectations once per distinct (X, T) (they do not depend on TX) on all
// cores (GOMAXPROCS goroutines). The results are those of Forecast.
func ForecastAll(bg bgnbd.Params, gg gammagamma.Params, cs []Customer, o Options) ([]Value, error) {
	if o.Periods < 1 || !(o.PeriodLength > 0) || !(o.Discount >= 0) || math.IsInf(o.Discount, 0) {
		return nil, ErrOptions
	}
	type key struct{ x, T float64 }
	idx := make(map[key]int, 1024)
	var keys []key
	which := make([]int, len(cs))
	for i, c := range cs {
		k := key{c.X, c.T}
		j, ok := idx[k]
		if !ok {
			j = len(keys)
			idx[k] = j
			keys = append(keys, k)
		}
		which[i] = j
	}
	// For each distinct (x, T): the discounted purchases Σ ΔE_i/(1+d)^i and
	// the total E over the horizon, for a customer alive at T.
	disc := make([]float64, len(keys))
	total := make([]float64, len(keys))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	chunk := (len(keys) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(keys))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := lo; j < hi; j++ {
				prev, d, s := 0.0, 1.0, 0.0
				for i := 1; i <= o.Periods; i++ {
					cur := bg.ExpectedPurchasesIfAlive(float64(i)*o.PeriodLength, keys[j].x, keys[j].T)
					d /= 1 + o.Discount
					s += (cur - prev) * d
					prev = cur
				}
				disc[j], total[j] = s, prev
			}
		}()
	}
	wg.Wait()
	out := make([]Value, len(cs))
	for i, c := range cs {
		pa := bg.PAlive(c.X, c.TX, c.T)
		spend := gg.ConditionalExpectedValue(c.X, c.Mean)
		j := which[i]
		out[i] = Value{PAlive: pa, ExpectedPurchases: pa * total[j], ExpectedSpend: spend, CLV: pa * disc[j] * spend}
	}
	return out, nil
}
