package attribution

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// benchPaths are 1 M synthetic paths over 12 channels (one Direct).
var benchPaths = sync.OnceValue(func() []Path {
	return genBenchPaths(1_000_000, []string{DirectChannel, "Paid Search", "Organic Search", "Paid Social", "Organic Social", "Email", "Display", "Referral", "Affiliates", "Video", "Webinar", "Trade show"})
})

// benchPaths15 are 1 M synthetic paths over 15 channels.
var benchPaths15 = sync.OnceValue(func() []Path {
	return genBenchPaths(1_000_000, channelNames[:15])
})

// benchPaths30 are 100 k synthetic paths over 30 channels.
var benchPaths30 = sync.OnceValue(func() []Path {
	chs := make([]string, 30)
	for i := range chs {
		chs[i] = fmt.Sprintf("channel-%02d", i)
	}
	return genBenchPaths(100_000, chs)
})

// genBenchPaths builds n synthetic paths: 60 campaigns, 1–7 touches
// (mean 4), 30 % converting with a value, the rest non-converting,
// touches hours to weeks apart, a lead-creation milestone on a third.
func genBenchPaths(n int, chs []string) []Path {
	rng := rand.New(rand.NewPCG(42, 43))
	camps := make([]string, 60)
	for i := range camps {
		camps[i] = fmt.Sprintf("campaign-%02d", i)
	}
	paths := make([]Path, n)
	touches := make([]Touch, 0, 4*n)
	for i := range paths {
		nt := 1 + rng.IntN(7)
		at := int64(1_700_000_000 + rng.IntN(30_000_000))
		start := len(touches)
		for j := 0; j < nt; j++ {
			c := rng.IntN(len(chs))
			touches = append(touches, Touch{Channel: chs[c], Campaign: camps[(c*5+rng.IntN(5))%len(camps)], At: at})
			at += int64(rng.IntN(14 * 86400))
		}
		ts := touches[start:len(touches):len(touches)]
		if rng.IntN(3) == 0 {
			ts[rng.IntN(nt)].Milestone |= LeadCreation
		}
		p := Path{Touches: ts}
		if rng.IntN(10) < 3 {
			p.Conversions, p.Value, p.ConvAt = 1, float64(rng.IntN(20000))/100, at
		} else {
			p.Nulls = 1
		}
		paths[i] = p
	}
	return paths
}

// BenchmarkBaseline is the floor a pass over the paths costs: sum every
// path's conversions and value and count its touches.
func BenchmarkBaseline(b *testing.B) {
	paths := benchPaths()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var c, v float64
		n := 0
		for j := range paths {
			c += paths[j].Conversions
			v += paths[j].Value
			n += len(paths[j].Touches)
		}
		if c == 0 || v == 0 || n == 0 {
			b.Fatal("empty")
		}
	}
}

func BenchmarkAllRuleCredits(b *testing.B) {
	paths := benchPaths()
	for _, byCampaign := range []bool{false, true} {
		b.Run(fmt.Sprintf("byCampaign=%v", byCampaign), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				cr := AllRuleCredits(paths, RuleOptions{}, byCampaign)
				if len(cr) != len(RuleModels) {
					b.Fatal(len(cr))
				}
			}
		})
	}
}

func BenchmarkRunMarkov(b *testing.B) {
	paths := benchPaths()
	for k := 1; k <= 3; k++ {
		b.Run(fmt.Sprintf("order=%d", k), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r, err := RunMarkov(paths, MarkovOptions{Order: k})
				if err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					b.ReportMetric(float64(len(r.States)), "states")
					b.ReportMetric(float64(r.Sweeps), "sweeps")
				}
			}
		})
	}
}

// BenchmarkRunShapley: exact at 15 channels (1 M paths: grouping by
// channel set plus the 2^15-coalition enumeration), and the enumeration
// alone; sampled at 30 channels (100 k paths, 2000 permutations).
func BenchmarkRunShapley(b *testing.B) {
	b.Run("exact15/1M-paths", func(b *testing.B) {
		paths := benchPaths15()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r, err := RunShapley(paths, ShapleyOptions{})
			if err != nil || !r.Exact || len(r.Channels) != 15 {
				b.Fatal(err, r.Exact, len(r.Channels))
			}
		}
	})
	b.Run("exact15/enumeration", func(b *testing.B) {
		c, err := groupChannelSets(benchPaths15())
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if len(exactShapley(c)) != 15 {
				b.Fatal()
			}
		}
	})
	b.Run("sampled30/100k-paths", func(b *testing.B) {
		paths := benchPaths30()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r, err := RunShapley(paths, ShapleyOptions{Seed: 1})
			if err != nil || r.Exact || len(r.Channels) != 30 {
				b.Fatal(err)
			}
			if i == 0 {
				c, _ := groupChannelSets(paths)
				b.ReportMetric(float64(len(c.sets)), "sets")
			}
		}
	})
}

// BenchmarkRuleCreditsNaive is the straightforward way, a second baseline
// for AllRuleCredits: for each model in turn, RuleWeights per path and a
// map from (channel, campaign) to the sums.
func BenchmarkRuleCreditsNaive(b *testing.B) {
	paths := benchPaths()
	for i := 0; i < b.N; i++ {
		var w []float64
		for _, m := range RuleModels {
			sums := map[creditKey][2]float64{}
			for j := range paths {
				p := &paths[j]
				w = RuleWeights(m, p, RuleOptions{}, w)
				for t, s := range w {
					k := creditKey{p.Touches[t].Channel, p.Touches[t].Campaign}
					a := sums[k]
					sums[k] = [2]float64{a[0] + s*p.Conversions, a[1] + s*p.Value}
				}
			}
			if len(sums) == 0 {
				b.Fatal("empty")
			}
		}
	}
}
