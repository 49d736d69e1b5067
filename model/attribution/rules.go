package attribution

import (
	"fmt"
	"math"
)

// Shares of the position-based (40-20-40) and W-shaped (30-30-30-10)
// models; docs/models.md, "Attribution models", defines them.
const (
	positionEnd    = 0.4
	positionMiddle = 0.2
	wAnchor        = 0.3
	wRest          = 0.1
)

// RuleWeights writes into w[:len(p.Touches)] the share of one of the
// path's conversions that each touch gets under the rule model m, and
// returns that slice (w is grown when it is too short). The shares sum to
// 1 (up to rounding) whenever the path has a touch; a path with no touch
// gets an empty slice (the aggregation credits it to DirectChannel).
//
// RuleWeights panics when m is not one of RuleModels or o is invalid
// (o.Validate() != nil): callers validate user input first.
func RuleWeights(m Model, p *Path, o RuleOptions, w []float64) []float64 {
	if err := o.Validate(); err != nil {
		panic(err)
	}
	n := len(p.Touches)
	if cap(w) < n {
		w = make([]float64, n)
	}
	w = w[:n]
	if n == 0 {
		return w
	}
	switch m {
	case First:
		firstWeights(w)
	case Last:
		lastWeights(w)
	case LastNonDirect:
		lastNonDirectWeights(p.Touches, w)
	case Linear:
		linearWeights(w)
	case Position:
		positionWeights(w)
	case WShaped:
		wShapedWeights(p.Touches, w)
	case TimeDecay:
		timeDecayWeights(p, o.halfLifeSeconds(), w)
	case Custom:
		customWeights(o.Custom.orDefault(), w)
	default:
		panic(fmt.Sprintf("attribution: RuleWeights: %q is not a rule-based model (rule models: %v)", m, RuleModels))
	}
	return w
}

func zero(w []float64) {
	for i := range w {
		w[i] = 0
	}
}

func firstWeights(w []float64) {
	zero(w)
	w[0] = 1
}

func lastWeights(w []float64) {
	zero(w)
	w[len(w)-1] = 1
}

// lastNonDirectWeights gives everything to the last touch whose channel is
// not DirectChannel, or to the last touch when every touch is direct.
func lastNonDirectWeights(ts []Touch, w []float64) {
	zero(w)
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Channel != DirectChannel {
			w[i] = 1
			return
		}
	}
	w[len(w)-1] = 1
}

func linearWeights(w []float64) {
	s := 1 / float64(len(w))
	for i := range w {
		w[i] = s
	}
}

// positionWeights: one touch 100 %, two 50/50, three or more 40 % first,
// 40 % last, 20 % split equally over the middle touches.
func positionWeights(w []float64) {
	positionalWeights(positionEnd, positionMiddle, positionEnd, w)
}

// customWeights applies the custom shares like positionWeights applies
// 40-20-40, renormalised over the positions the path has.
func customWeights(c CustomWeights, w []float64) {
	positionalWeights(c.First, c.Middle, c.Last, w)
}

// positionalWeights splits one conversion into first, middle and last
// shares f, m, l (≥ 0). Over the positions the path has (one touch: first
// only; two: first and last; more: all three) the shares are renormalised;
// when those shares are all zero the path is split equally (linear).
func positionalWeights(f, m, l float64, w []float64) {
	n := len(w)
	switch n {
	case 1:
		w[0] = 1
		return
	case 2:
		if f+l == 0 {
			w[0], w[1] = 0.5, 0.5
			return
		}
		w[0], w[1] = f/(f+l), l/(f+l)
		return
	}
	t := f + m + l
	if t == 0 {
		linearWeights(w)
		return
	}
	mid := m / t / float64(n-2)
	for i := 1; i < n-1; i++ {
		w[i] = mid
	}
	w[0], w[n-1] = f/t, l/t
}

// milestoneTouches returns the index of the first touch carrying the lead-
// creation and the opportunity-creation flag (-1 when none).
func milestoneTouches(ts []Touch) (lead, opp int) {
	lead, opp = -1, -1
	for i := range ts {
		if lead < 0 && ts[i].Milestone&LeadCreation != 0 {
			lead = i
		}
		if opp < 0 && ts[i].Milestone&OpportunityCreation != 0 {
			opp = i
		}
	}
	return lead, opp
}

// wShapedWeights: the anchors are the distinct touches among the first
// touch, the lead-creation touch and the opportunity-creation touch (those
// present); each anchor weighs 0.3, and the other touches ("rest") share
// 0.1 equally when there are any. The weights are then renormalised to 1.
func wShapedWeights(ts []Touch, w []float64) {
	zero(w)
	lead, opp := milestoneTouches(ts)
	var anchor [3]int
	anchor[0] = 0
	k := 1
	if lead > 0 {
		anchor[k] = lead
		k++
	}
	if opp > 0 && opp != lead {
		anchor[k] = opp
		k++
	}
	rest := len(w) - k
	total := wAnchor * float64(k)
	if rest > 0 {
		total += wRest
		r := wRest / float64(rest) / total
		for i := range w {
			w[i] = r
		}
	}
	for _, i := range anchor[:k] {
		w[i] = wAnchor / total
	}
}

// timeDecayWeights: weight 2^(−age/h) with age = ConvAt − At (for a path
// with ConvAt 0, age is measured from its last touch), normalised. Ages are
// taken relative to the youngest touch: the reference point (conversion
// or last touch) cancels in the normalisation, and this way the weights do
// not underflow over long paths.
func timeDecayWeights(p *Path, h float64, w []float64) {
	ts := p.Touches
	var youngest int64 = math.MinInt64
	for i := range ts {
		if ts[i].At > youngest {
			youngest = ts[i].At
		}
	}
	s := 0.0
	for i := range ts {
		w[i] = math.Exp2(-float64(youngest-ts[i].At) / h)
		s += w[i]
	}
	for i := range w {
		w[i] /= s
	}
}
