package attribution

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// benchPaths builds n synthetic paths once: 12 channels (one Direct), 60
// campaigns, 1–7 touches (mean 4), 30 % converting with a value, the rest
// non-converting, touches hours to weeks apart, milestones on some.
var benchPaths = sync.OnceValue(func() []Path {
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(42, 43))
	chs := []string{DirectChannel, "Paid Search", "Organic Search", "Paid Social", "Organic Social", "Email", "Display", "Referral", "Affiliates", "Video", "Webinar", "Trade show"}
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
})

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
