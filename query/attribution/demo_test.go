package attribution_test

import (
	"context"
	"math"
	"sort"
	"testing"

	"github.com/bowtie-analytics/bowtie"
	"github.com/bowtie-analytics/bowtie/demo"
	"github.com/bowtie-analytics/bowtie/duckdb"
	model "github.com/bowtie-analytics/bowtie/model/attribution"
	"github.com/bowtie-analytics/bowtie/query/attribution"
)

// demoFixture is a demo business generated into an in-memory store.
type demoFixture struct {
	store *duckdb.Store
	truth *demo.Truth
	biz   *bowtie.Business
}

func genDemo(t *testing.T, business string, events int) *demoFixture {
	t.Helper()
	s := openStore(t)
	tr, err := demo.Generate(context.Background(), s, demo.Options{Business: business, Seed: 1, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	biz, err := bowtie.Preset(business)
	if err != nil {
		t.Fatal(err)
	}
	return &demoFixture{store: s, truth: tr, biz: biz}
}

// spearman is the rank correlation of x and y (average ranks for ties).
func spearman(x, y []float64) float64 {
	rank := func(v []float64) []float64 {
		idx := make([]int, len(v))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
		r := make([]float64, len(v))
		for i := 0; i < len(idx); {
			j := i
			for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
				j++
			}
			for k := i; k <= j; k++ {
				r[idx[k]] = float64(i+j)/2 + 1
			}
			i = j + 1
		}
		return r
	}
	rx, ry := rank(x), rank(y)
	var mx, my float64
	for i := range rx {
		mx += rx[i]
		my += ry[i]
	}
	mx /= float64(len(rx))
	my /= float64(len(ry))
	var sxy, sxx, syy float64
	for i := range rx {
		sxy += (rx[i] - mx) * (ry[i] - my)
		sxx += (rx[i] - mx) * (rx[i] - mx)
		syy += (ry[i] - my) * (ry[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

// TestRun_B2CDemoPlantedChannels checks the data-driven models against
// what the B2C generator plants. It plants single-channel journeys (every
// touch of a visitor before paying carries the visitor's first-touch
// channel, apart from in-app events, which are Direct) with per-channel
// rates visitor → signup → trial → paid; it plants no multi-touch effect.
// So the planted effect of a channel is its expected first payments: the
// realised first-touch visitors × the three planted rates. Paths exclude
// Direct unless alone, over the whole history with a 120-day lookback.
// Markov's credit must rank the channels as the planted effect does
// (Spearman ≥ 0.9); Shapley's values must rank them as the Shapley values
// of the same game computed from the planted rates do (Spearman ≥ 0.9).
func TestRun_B2CDemoPlantedChannels(t *testing.T) {
	events := 400_000
	if testing.Short() {
		events = 150_000
	}
	f := genDemo(t, "b2c", events)
	loc := f.biz.Location()
	req := attribution.Request{
		From: f.truth.Start.In(loc), To: f.truth.End.In(loc).AddDate(0, 0, -1),
		Conversion: "payment:first", Lookback: "120d", ExcludeDirect: true, Models: []string{"last_non_direct", "markov", "shapley"},
	}
	res := run(t, f.store, f.biz, req)
	var names []string
	var planted, rates, markov, shapley []float64
	sv := map[string]float64{}
	for _, v := range res.Shapley.Values {
		sv[v.Channel] = v.Value
	}
	for name, c := range f.truth.Channels {
		if c.Visitors < 50 || name == model.DirectChannel {
			continue
		}
		rate := c.VisitorToLead * c.SignupToTrial * c.TrialToPaid
		names = append(names, name)
		planted = append(planted, float64(c.Visitors)*rate)
		rates = append(rates, rate)
		cr := 0.0
		for _, r := range res.Rows {
			if r.Channel == name {
				cr = r.Credits["markov"].Conversions
			}
		}
		markov = append(markov, cr)
		shapley = append(shapley, sv[name])
	}
	if len(names) < 5 {
		t.Fatalf("only %d channels with enough visitors", len(names))
	}
	for i := range names {
		t.Logf("%-18s planted %7.1f (rate %.4f)  markov %7.1f  shapley %+.5f", names[i], planted[i], rates[i], markov[i], shapley[i])
	}
	t.Logf("Spearman: markov vs planted conversions %.3f", spearman(planted, markov))
	if rho := spearman(planted, markov); rho < 0.9 {
		t.Errorf("Markov credit ranks the channels with Spearman %.3f against the planted expected conversions; want ≥ 0.9", rho)
	}
	// Shapley's game on the demo's paths is the conversion rate of the
	// paths whose channels lie in the coalition; the planted game is the
	// same rate computed from the truth: v*(S) = Σ_{c∈S} V_c·r_c ÷ Σ_{c∈S} V_c
	// with V_c the realised first-touch visitors and r_c the planted
	// visitor → paid rate, over every channel the truth has. Its exact
	// Shapley values (the textbook formula over all coalitions) must rank
	// the channels as the model's do.
	var all []string
	for name := range f.truth.Channels {
		all = append(all, name)
	}
	sort.Strings(all)
	vis, conv := make([]float64, len(all)), make([]float64, len(all))
	for i, name := range all {
		c := f.truth.Channels[name]
		vis[i] = float64(c.Visitors)
		conv[i] = vis[i] * c.VisitorToLead * c.SignupToTrial * c.TrialToPaid
	}
	game := func(mask int) float64 {
		var v, n float64
		for i := range all {
			if mask&(1<<i) != 0 {
				v += conv[i]
				n += vis[i]
			}
		}
		if n == 0 {
			return 0
		}
		return v / n
	}
	plantedShapley := exactShapley(len(all), game)
	var ps []float64
	for _, name := range names {
		ps = append(ps, plantedShapley[sort.SearchStrings(all, name)])
	}
	for i := range names {
		t.Logf("%-18s planted Shapley %+.5f  model %+.5f", names[i], ps[i], shapley[i])
	}
	if rho := spearman(ps, shapley); rho < 0.9 {
		t.Errorf("Shapley values rank the channels with Spearman %.3f against the planted game's Shapley values; want ≥ 0.9", rho)
	}
}

// TestRun_B2BDemoAccountPaths checks account-level attribution of won
// deals on the B2B demo: some deal's path holds touches of at least two
// people of the account, and the credit of a multi-touch model is spread
// over several channels.
func TestRun_B2BDemoAccountPaths(t *testing.T) {
	events := 300_000
	if testing.Short() {
		events = 120_000
	}
	f := genDemo(t, "b2b", events)
	loc := f.biz.Location()
	req := attribution.Request{From: f.truth.Start.In(loc), To: f.truth.End.In(loc).AddDate(0, 0, -1), Level: "account", Conversion: "deal:won"}
	ps := paths(t, f.store, f.biz, req)
	multi, conv := 0, 0
	for _, p := range ps {
		if p.Conversions == 0 {
			continue
		}
		conv++
		people := map[string]bool{}
		for _, tc := range p.Touches {
			people[tc.Person] = true
		}
		if len(people) >= 2 {
			multi++
		}
	}
	t.Logf("%d won-deal paths, %d with touches of two or more people", conv, multi)
	if conv == 0 || multi == 0 {
		t.Fatalf("%d won-deal paths, %d with touches of ≥2 people; want some", conv, multi)
	}
	req.Models = []string{"linear", "w_shaped", "markov"}
	res := run(t, f.store, f.biz, req)
	for _, m := range req.Models {
		credited := 0
		var sum float64
		for _, r := range res.Rows {
			c := r.Credits[m].Conversions
			sum += c
			if c > 0.05*res.Totals.Conversions {
				credited++
			}
		}
		if credited < 3 {
			t.Errorf("%s: only %d channels hold ≥ 5 %% of the credit", m, credited)
		}
		if math.Abs(sum-res.Totals.Conversions) > 1e-6 {
			t.Errorf("%s: credit sums to %v, conversions %v", m, sum, res.Totals.Conversions)
		}
	}
	if res.Totals.Revenue <= 0 {
		t.Errorf("won deals carry no revenue: %+v", res.Totals)
	}
}

// exactShapley is the textbook Shapley value of each of n players in the
// game v over bit-mask coalitions: Σ_S |S|!(n−|S|−1)!/n! (v(S∪{i}) − v(S)).
func exactShapley(n int, v func(mask int) float64) []float64 {
	fact := make([]float64, n+1)
	fact[0] = 1
	for i := 1; i <= n; i++ {
		fact[i] = fact[i-1] * float64(i)
	}
	out := make([]float64, n)
	for i := 0; i < n; i++ {
		for mask := 0; mask < 1<<n; mask++ {
			if mask&(1<<i) != 0 {
				continue
			}
			k := 0
			for m := mask; m != 0; m &= m - 1 {
				k++
			}
			out[i] += fact[k] * fact[n-k-1] / fact[n] * (v(mask|1<<i) - v(mask))
		}
	}
	return out
}
