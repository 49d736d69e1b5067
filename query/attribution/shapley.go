package attribution

import (
	"fmt"
	"sort"

	model "github.com/bowtie-analytics/bowtie/model/attribution"
)

// runShapley runs the Shapley model (model/attribution.RunShapley) and
// reports its values, largest first, with their standard errors when
// sampled.
func runShapley(s *settings, paths []model.Path) ([]model.Credit, *ShapleyReport, error) {
	sr, err := model.RunShapley(paths, model.ShapleyOptions{MaxExact: s.req.ShapleyMaxExact, Samples: s.req.ShapleySamples, Seed: uint64(s.req.ShapleySeed)})
	if err != nil {
		return nil, nil, fmt.Errorf("attribution: shapley: %w", err)
	}
	rep := &ShapleyReport{Exact: sr.Exact, Samples: sr.Samples, Values: []ShapleyValue{}}
	for i, ch := range sr.Channels {
		v := ShapleyValue{Channel: display(ch), Value: sr.Value[i]}
		if sr.StdErr != nil {
			se := sr.StdErr[i]
			v.StdErr = &se
		}
		rep.Values = append(rep.Values, v)
	}
	sort.SliceStable(rep.Values, func(a, b int) bool { return rep.Values[a].Value > rep.Values[b].Value })
	return sr.Credit, rep, nil
}
