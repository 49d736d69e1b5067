package attribution

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Shapley defaults and bounds.
const (
	DefaultMaxExact = 15
	// MaxExactLimit bounds MaxExact: exact enumeration keeps two float64
	// per coalition (2^20 coalitions: 16 MiB).
	MaxExactLimit  = 20
	DefaultSamples = 2000
)

// ShapleyOptions are the settings of the Shapley value model.
type ShapleyOptions struct {
	// MaxExact is the largest number of channels for which the Shapley
	// values are computed exactly over all coalitions; beyond it they are
	// estimated from random permutations. 0 means DefaultMaxExact; at most
	// MaxExactLimit.
	MaxExact int `json:"max_exact"`
	// Samples is the number of random permutations when sampling; 0 means
	// DefaultSamples.
	Samples int `json:"samples"`
	// Seed seeds the permutations: the same seed gives the same values.
	Seed uint64 `json:"seed"`
}

// ShapleyResult holds the Shapley value of each channel in the coalition
// game v(S) = conversion rate of the paths whose channels all lie in S
// (docs/models.md, "Shapley values") and the credits they give.
type ShapleyResult struct {
	// Channels are sorted; Value[i] is the Shapley value of Channels[i].
	// The values sum to v(all channels), the overall conversion rate.
	Channels []string  `json:"channels"`
	Value    []float64 `json:"value"`
	// StdErr is the standard error of each sampled value; nil when exact.
	StdErr []float64 `json:"std_err"`
	Exact  bool      `json:"exact"`
	// Samples is the number of permutations drawn (0 when exact).
	Samples int `json:"samples"`
	// Credit splits the paths' conversions and value in proportion to the
	// Shapley values (Campaign ""); a negative value gives negative credit.
	Credit []Credit `json:"credit"`
}

// coalitions are the paths grouped by their set of distinct channels.
type coalitions struct {
	channels    []string
	sets        [][]int32 // sorted channel indexes of each distinct set
	conv, nulls []float64
	conversions float64 // over all paths
	value       float64
}

// maxMaskChannels is the most channels whose sets are keyed by a bit mask
// (a variable so that tests can force the other keys).
var maxMaskChannels = 64

// groupChannelSets groups the paths with conversions or nulls (a path
// with no touch counts as {DirectChannel}) by their set of distinct
// channels.
func groupChannelSets(paths []Path) (*coalitions, error) {
	e, err := encodePaths(paths, false)
	if err != nil {
		return nil, err
	}
	c := &coalitions{channels: e.channels, conversions: e.conversions, value: e.value}
	small := len(e.channels) <= maxMaskChannels
	byMask := map[uint64]int{}
	byKey := map[string]int{}
	var set []int32
	var key []byte
	for i := range e.conv {
		ids := e.path(i)
		g := -1
		if small {
			var m uint64
			for _, id := range ids {
				m |= 1 << id
			}
			if x, ok := byMask[m]; ok {
				g = x
			} else {
				set = set[:0]
				for m != 0 {
					set = append(set, int32(bits.TrailingZeros64(m)))
					m &= m - 1
				}
			}
		} else {
			set = set[:0]
			for _, id := range ids {
				set = append(set, int32(id))
			}
			slices.Sort(set)
			set = slices.Compact(set)
			key = key[:0]
			for _, id := range set {
				key = append(key, byte(id), byte(id>>8))
			}
			if x, ok := byKey[string(key)]; ok {
				g = x
			}
		}
		if g < 0 {
			g = len(c.sets)
			if small {
				var m uint64
				for _, id := range set {
					m |= 1 << id
				}
				byMask[m] = g
			} else {
				byKey[string(key)] = g
			}
			c.sets = append(c.sets, append([]int32(nil), set...))
			c.conv = append(c.conv, 0)
			c.nulls = append(c.nulls, 0)
		}
		c.conv[g] += e.conv[i]
		c.nulls[g] += e.nulls[i]
	}
	return c, nil
}

// RunShapley computes each channel's Shapley value and credit. It returns
// an error for invalid options or an invalid path (ValidatePaths).
func RunShapley(paths []Path, o ShapleyOptions) (*ShapleyResult, error) {
	maxExact, samples := o.MaxExact, o.Samples
	if maxExact == 0 {
		maxExact = DefaultMaxExact
	}
	if samples == 0 {
		samples = DefaultSamples
	}
	if maxExact < 0 || maxExact > MaxExactLimit {
		return nil, fmt.Errorf("attribution: Shapley MaxExact %d: give 1 to %d channels (0 means %d)", o.MaxExact, MaxExactLimit, DefaultMaxExact)
	}
	if samples < 2 {
		return nil, fmt.Errorf("attribution: Shapley samples %d: at least 2 permutations are needed for a standard error (0 means %d)", o.Samples, DefaultSamples)
	}
	if err := ValidatePaths(paths); err != nil {
		return nil, err
	}
	c, err := groupChannelSets(paths)
	if err != nil {
		return nil, err
	}
	res := &ShapleyResult{Channels: c.channels}
	if len(c.channels) <= maxExact {
		res.Value = exactShapley(c)
		res.Exact = true
	} else {
		res.Value, res.StdErr = sampledShapley(c, samples, o.Seed)
		res.Samples = samples
	}
	sum := 0.0
	for _, v := range res.Value {
		sum += v
	}
	res.Credit = shareCredits(c.channels, res.Value, sum, c.conversions, c.value)
	return res, nil
}

// exactShapley enumerates all 2^n coalitions: the conversions and nulls of
// the paths inside each coalition by a subset-sum (zeta) transform, then
// φ_j = Σ_{S ∌ j} |S|!(n−|S|−1)!/n! · (v(S ∪ {j}) − v(S)).
func exactShapley(c *coalitions) []float64 {
	n := len(c.channels)
	phi := make([]float64, n)
	if n == 0 {
		return phi
	}
	size := 1 << n
	conv := make([]float64, size)
	tot := make([]float64, size)
	for g, set := range c.sets {
		m := 0
		for _, id := range set {
			m |= 1 << id
		}
		conv[m] += c.conv[g]
		tot[m] += c.conv[g] + c.nulls[g]
	}
	for b := 0; b < n; b++ {
		bit := 1 << b
		for m := 0; m < size; m++ {
			if m&bit != 0 {
				conv[m] += conv[m^bit]
				tot[m] += tot[m^bit]
			}
		}
	}
	v := conv // v(S) in place of the conversions
	for m := range v {
		if tot[m] > 0 {
			v[m] = conv[m] / tot[m]
		} else {
			v[m] = 0
		}
	}
	// w[s] = s!(n−s−1)!/n!, by the recurrence w[s+1] = w[s]·(s+1)/(n−s−1).
	w := make([]float64, n)
	w[0] = 1 / float64(n)
	for s := 0; s+1 < n; s++ {
		w[s+1] = w[s] * float64(s+1) / float64(n-s-1)
	}
	for j := 0; j < n; j++ {
		bit := 1 << j
		sum := 0.0
		for m := 0; m < size; m++ {
			if m&bit == 0 {
				sum += w[bits.OnesCount(uint(m))] * (v[m|bit] - v[m])
			}
		}
		phi[j] = sum
	}
	return phi
}

// sampleBlock is the number of permutations drawn from one random stream
// and summed by one goroutine; blocks are merged in order, so the result
// depends on the seed only, not on the number of goroutines.
const sampleBlock = 64

// sampledShapley averages each channel's marginal contribution over
// random permutations of the channels (Castro, Gómez & Tejada 2009), with
// the standard error of the mean. Walking a permutation, a coalition's
// conversions and nulls grow by the channel sets whose last missing
// channel has just joined. Block b of permutations uses the stream
// PCG(seed, b); blocks run on GOMAXPROCS goroutines and their means and
// squared deviations are merged in block order (Chan, Golub & LeVeque).
func sampledShapley(c *coalitions, samples int, seed uint64) (phi, se []float64) {
	n := len(c.channels)
	bySet := make([][]int32, n) // channel → sets holding it
	for g, set := range c.sets {
		for _, id := range set {
			bySet[id] = append(bySet[id], int32(g))
		}
	}
	type block struct {
		count    float64
		mean, m2 []float64
	}
	nb := (samples + sampleBlock - 1) / sampleBlock
	blocks := make([]block, nb)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := min(runtime.GOMAXPROCS(0), nb); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			perm := make([]int, n)
			missing := make([]int32, len(c.sets))
			for {
				bi := int(next.Add(1) - 1)
				if bi >= nb {
					return
				}
				rng := rand.New(rand.NewPCG(seed, uint64(bi)))
				for i := range perm {
					perm[i] = i
				}
				k := min(sampleBlock, samples-bi*sampleBlock)
				mean := make([]float64, n)
				m2 := make([]float64, n)
				for s := 1; s <= k; s++ {
					rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
					for g, set := range c.sets {
						missing[g] = int32(len(set))
					}
					var conv, tot, prev float64
					for _, j := range perm {
						for _, g := range bySet[j] {
							missing[g]--
							if missing[g] == 0 {
								conv += c.conv[g]
								tot += c.conv[g] + c.nulls[g]
							}
						}
						v := 0.0
						if tot > 0 {
							v = conv / tot
						}
						x := v - prev
						prev = v
						d := x - mean[j]
						mean[j] += d / float64(s)
						m2[j] += d * (x - mean[j])
					}
				}
				blocks[bi] = block{float64(k), mean, m2}
			}
		}()
	}
	wg.Wait()
	phi = make([]float64, n)
	m2 := make([]float64, n)
	count := 0.0
	for _, b := range blocks {
		tot := count + b.count
		for j := range phi {
			d := b.mean[j] - phi[j]
			phi[j] += d * b.count / tot
			m2[j] += b.m2[j] + d*d*count*b.count/tot
		}
		count = tot
	}
	se = make([]float64, n)
	for j := range se {
		se[j] = math.Sqrt(m2[j] / (count - 1) / count)
	}
	return phi, se
}
