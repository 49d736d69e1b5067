package attribution

import (
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// TestRunShapley_Hand: A converts 1 of 2, B 0 of 2, A>B 1 of 1.
// v(A) = 1/2, v(B) = 0, v(AB) = 2/5. φ_A = ½(1/2 + (2/5 − 0)) = 0.45,
// φ_B = ½(0 + (2/5 − 1/2)) = −0.05; sum 0.4 = v(AB). Credits of the two
// conversions: 2·0.45/0.4 = 2.25 and −0.25.
func TestRunShapley_Hand(t *testing.T) {
	paths := []Path{pathOf("A", 1, 1, 80), pathOf("B", 0, 2, 0), pathOf("A>B>A", 1, 0, 20)}
	r, err := RunShapley(paths, ShapleyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Exact || r.StdErr != nil || r.Samples != 0 || strings.Join(r.Channels, ",") != "A,B" {
		t.Fatalf("%+v", r)
	}
	want := []float64{.45, -.05}
	cr := []float64{2.25, -.25}
	for i := range want {
		if !near(r.Value[i], want[i], 1e-14) || !near(r.Credit[i].Conversions, cr[i], 1e-13) || !near(r.Credit[i].Value, 50*cr[i], 1e-12) {
			t.Fatalf("values %v credits %+v", r.Value, r.Credit)
		}
	}
	// A direct conversion (no touch) is the coalition {Direct}: v(D) = 1,
	// v(A) = 1/2, v(AD) = 2/3 → φ_D = ½(1 + 1/6) = 7/12, φ_A = ½(1/2 − 1/3) = 1/12.
	r, err = RunShapley([]Path{pathOf("A", 1, 1, 0), pathOf("", 1, 0, 0)}, ShapleyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.Channels, ",") != "A,Direct" || !near(r.Value[0], 1./12, 1e-14) || !near(r.Value[1], 7./12, 1e-14) {
		t.Fatalf("direct: %v %v", r.Channels, r.Value)
	}
}

// bruteShapley is the textbook definition: v(S) straight from the paths,
// and each channel's marginal contribution averaged over all n!
// orderings.
func bruteShapley(paths []Path, channels []string) []float64 {
	n := len(channels)
	v := func(in map[string]bool) float64 {
		var c, tot float64
		for _, p := range paths {
			chs := []string{DirectChannel}
			if len(p.Touches) > 0 {
				chs = chs[:0]
				for _, t := range p.Touches {
					chs = append(chs, t.Channel)
				}
			}
			inside := true
			for _, ch := range chs {
				inside = inside && in[ch]
			}
			if inside {
				c += p.Conversions
				tot += p.Conversions + p.Nulls
			}
		}
		if tot == 0 {
			return 0
		}
		return c / tot
	}
	phi := make([]float64, n)
	perm := make([]int, n)
	used := make([]bool, n)
	count := 0
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			count++
			in := map[string]bool{}
			prev := 0.0
			for _, j := range perm {
				in[channels[j]] = true
				x := v(in)
				phi[j] += x - prev
				prev = x
			}
			return
		}
		for j := 0; j < n; j++ {
			if !used[j] {
				used[j] = true
				perm[k] = j
				rec(k + 1)
				used[j] = false
			}
		}
	}
	rec(0)
	for j := range phi {
		phi[j] /= float64(count)
	}
	return phi
}

// TestRunShapley_Brute: exact enumeration against all permutations on
// random paths over up to 6 channels; the credits sum to the paths'
// conversions and value.
func TestRunShapley_Brute(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 29))
	for it := 0; it < 40; it++ {
		paths := randomPaths(rng, 3+rng.IntN(40), 1+rng.IntN(5), 4)
		r, err := RunShapley(paths, ShapleyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := bruteShapley(paths, r.Channels)
		for j := range want {
			if math.Abs(want[j]-r.Value[j]) > 1e-13 {
				t.Fatalf("it %d: values %v, textbook %v", it, r.Value, want)
			}
		}
		var convs, value, c, v float64
		for _, p := range paths {
			convs += p.Conversions
			value += p.Value
		}
		for _, cr := range r.Credit {
			c += cr.Conversions
			v += cr.Value
		}
		if !near(c, convs, 1e-9) || !near(v, value, 1e-9) {
			t.Fatalf("credits sum to %v, %v; paths hold %v, %v", c, v, convs, value)
		}
	}
}

// TestRunShapley_Sampled: permutation sampling agrees with the exact
// values within four standard errors, is the same for the same seed, and
// its credits sum to the conversions and value.
func TestRunShapley_Sampled(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 37))
	paths := randomPaths(rng, 400, 9, 5)
	exact, err := RunShapley(paths, ShapleyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o := ShapleyOptions{MaxExact: 3, Samples: 3000, Seed: 5}
	s, err := RunShapley(paths, o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Exact || s.Samples != 3000 || len(s.StdErr) != len(s.Value) || !reflect.DeepEqual(s.Channels, exact.Channels) {
		t.Fatalf("%+v", s)
	}
	// Each permutation's marginals telescope to v(all) = the overall
	// conversion rate, so the sampled values sum to it like the exact ones.
	var conv, tot, sumS, sumE float64
	for i := range paths {
		if paths[i].Conversions+paths[i].Nulls > 0 {
			conv += paths[i].Conversions
			tot += paths[i].Conversions + paths[i].Nulls
		}
	}
	for j := range s.Value {
		sumS += s.Value[j]
		sumE += exact.Value[j]
	}
	if !near(sumS, conv/tot, 1e-12) || !near(sumE, conv/tot, 1e-12) {
		t.Errorf("values sum to %v (sampled) and %v (exact), overall conversion rate %v", sumS, sumE, conv/tot)
	}
	for j := range s.Value {
		if !(s.StdErr[j] > 0) || math.Abs(s.Value[j]-exact.Value[j]) > 4*s.StdErr[j] {
			t.Errorf("%s: sampled %v ± %v, exact %v", s.Channels[j], s.Value[j], s.StdErr[j], exact.Value[j])
		}
	}
	again, _ := RunShapley(paths, o)
	prev := runtime.GOMAXPROCS(1)
	serial, _ := RunShapley(paths, o)
	runtime.GOMAXPROCS(prev)
	if !reflect.DeepEqual(again, s) || !reflect.DeepEqual(serial, s) {
		t.Error("the same seed gave different values (or a different result on one goroutine)")
	}
	// Sets keyed by bytes instead of bit masks (more than 64 channels).
	defer func(m int) { maxMaskChannels = m }(maxMaskChannels)
	maxMaskChannels = 0
	bytesKeyed, _ := RunShapley(paths, o)
	if !reflect.DeepEqual(bytesKeyed, s) {
		t.Error("byte-keyed channel sets gave different values")
	}
	o.Seed = 6
	other, _ := RunShapley(paths, o)
	if reflect.DeepEqual(other.Value, s.Value) {
		t.Error("another seed gave the same values")
	}
	var c, convs float64
	for i := range paths {
		convs += paths[i].Conversions
	}
	for _, cr := range s.Credit {
		c += cr.Conversions
	}
	if !near(c, convs, 1e-9) {
		t.Errorf("sampled credits sum to %v, paths hold %v", c, convs)
	}
}

// TestRunShapley_PlantedEffect: with equal exposure, the channel with the
// planted large effect has the largest Shapley value and the channel with
// none the smallest, exact and sampled.
func TestRunShapley_PlantedEffect(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 19))
	paths := plantedPaths(rng, 40000)
	for _, o := range []ShapleyOptions{{}, {MaxExact: 2, Samples: 500, Seed: 1}} {
		r, err := RunShapley(paths, o)
		if err != nil {
			t.Fatal(err)
		}
		v := map[string]float64{}
		for i, c := range r.Channels {
			v[c] = r.Value[i]
		}
		t.Logf("exact %v: %v", r.Exact, v)
		if !(v["A"] > v["B"] && v["A"] > v["C"] && v["A"] > v["D"]) || !(v["D"] < v["B"] && v["D"] < v["C"]) {
			t.Errorf("exact %v: values %v: A not first or D not last", r.Exact, v)
		}
	}
}

func TestRunShapley_Errors(t *testing.T) {
	for _, o := range []ShapleyOptions{{MaxExact: 21}, {MaxExact: -1}, {Samples: 1}, {Samples: -3}} {
		if _, err := RunShapley(nil, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	if _, err := RunShapley([]Path{{}, {Touches: []Touch{{}}}}, ShapleyOptions{}); err == nil || !strings.Contains(err.Error(), "path 1") {
		t.Errorf("bad path: %v", err)
	}
	r, err := RunShapley(nil, ShapleyOptions{})
	if err != nil || len(r.Channels) != 0 || len(r.Credit) != 0 {
		t.Errorf("no paths: %+v %v", r, err)
	}
	for _, o := range []ShapleyOptions{{}, {MaxExact: 1}} {
		r, err = RunShapley([]Path{pathOf("A>B", 0, 4, 0), pathOf("C", 0, 1, 0)}, o)
		if err != nil || len(r.Channels) != 3 || r.Value[0] != 0 || r.Credit[2].Conversions != 0 {
			t.Errorf("nothing converts (%+v): %+v %v", o, r, err)
		}
	}
}

// TestSampledShapley_Moments redraws the permutations of the documented
// protocol (block b of 64 from PCG(seed, b), starting from the identity)
// and computes each channel's mean marginal contribution and standard
// error by the plain two-pass formulas, with v taken from the paths
// directly; RunShapley's one-pass, block-merged figures must agree.
func TestSampledShapley_Moments(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 43))
	paths := randomPaths(rng, 200, 7, 4)
	const samples, seed = 300, 9 // 4 full blocks and one of 44
	r, err := RunShapley(paths, ShapleyOptions{MaxExact: 1, Samples: samples, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	n := len(r.Channels)
	v := func(in []bool) float64 {
		var c, tot float64
		for _, p := range paths {
			ok := true
			if len(p.Touches) == 0 {
				ok = in[slicesIndex(r.Channels, DirectChannel)]
			}
			for _, tc := range p.Touches {
				ok = ok && in[slicesIndex(r.Channels, tc.Channel)]
			}
			if ok {
				c += p.Conversions
				tot += p.Conversions + p.Nulls
			}
		}
		if tot == 0 {
			return 0
		}
		return c / tot
	}
	var xs [][]float64
	perm := make([]int, n)
	for b := 0; b*sampleBlock < samples; b++ {
		br := rand.New(rand.NewPCG(seed, uint64(b)))
		for i := range perm {
			perm[i] = i
		}
		for s := 0; s < sampleBlock && b*sampleBlock+s < samples; s++ {
			br.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			in := make([]bool, n)
			x := make([]float64, n)
			prev := 0.0
			for _, j := range perm {
				in[j] = true
				cur := v(in)
				x[j] = cur - prev
				prev = cur
			}
			xs = append(xs, x)
		}
	}
	for j := 0; j < n; j++ {
		mean := 0.0
		for _, x := range xs {
			mean += x[j]
		}
		mean /= samples
		ss := 0.0
		for _, x := range xs {
			ss += (x[j] - mean) * (x[j] - mean)
		}
		se := math.Sqrt(ss / (samples - 1) / samples)
		if math.Abs(mean-r.Value[j]) > 1e-12 || math.Abs(se-r.StdErr[j]) > 1e-12 {
			t.Fatalf("%s: mean %v se %v, RunShapley %v %v", r.Channels[j], mean, se, r.Value[j], r.StdErr[j])
		}
	}
}

func slicesIndex(s []string, x string) int {
	for i, y := range s {
		if y == x {
			return i
		}
	}
	return -1
}
