package attribution

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// Credit is what one channel (and campaign) earned under one model: a
// share of the paths' conversions and of their value.
type Credit struct {
	// Channel and Campaign identify the row; Campaign is "" when credits
	// are by channel only (and for the data-driven models).
	Channel  string `json:"channel"`
	Campaign string `json:"campaign"`
	// Conversions and Value are the credited conversions and revenue.
	Conversions float64 `json:"conversions"`
	Value       float64 `json:"value"`
}

// ValidatePaths reports the first path the models cannot use, naming it by
// its index (0-based) and the touch: Conversions, Value or Nulls not
// finite, Conversions or Nulls negative, a touch with no channel, touches
// out of time order, a touch after the conversion time, or a milestone
// flag on more than one touch.
func ValidatePaths(paths []Path) error {
	for i := range paths {
		if err := validatePath(&paths[i]); err != nil {
			return fmt.Errorf("attribution: path %d: %w", i, err)
		}
	}
	return nil
}

func validatePath(p *Path) error {
	for _, f := range []struct {
		name string
		v    float64
		neg  bool
	}{{"conversions", p.Conversions, false}, {"value", p.Value, true}, {"nulls", p.Nulls, false}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%s = %v is not a finite number", f.name, f.v)
		}
		if !f.neg && f.v < 0 {
			return fmt.Errorf("%s = %v is negative (a count of occurrences must be ≥ 0)", f.name, f.v)
		}
	}
	lead, opp := -1, -1
	for j := range p.Touches {
		t := &p.Touches[j]
		if t.Channel == "" {
			return fmt.Errorf("touch %d has no channel", j)
		}
		if j > 0 && t.At < p.Touches[j-1].At {
			return fmt.Errorf("touch %d (at %d) is older than touch %d (at %d): touches must be ordered oldest first", j, t.At, j-1, p.Touches[j-1].At)
		}
		if p.ConvAt != 0 && t.At > p.ConvAt {
			return fmt.Errorf("touch %d (at %d) is after the conversion (at %d)", j, t.At, p.ConvAt)
		}
		if t.Milestone&LeadCreation != 0 {
			if lead >= 0 {
				return fmt.Errorf("touches %d and %d both carry the lead-creation milestone (at most one may)", lead, j)
			}
			lead = j
		}
		if t.Milestone&OpportunityCreation != 0 {
			if opp >= 0 {
				return fmt.Errorf("touches %d and %d both carry the opportunity-creation milestone (at most one may)", opp, j)
			}
			opp = j
		}
	}
	return nil
}

// RuleCredits attributes every path's Conversions and Value with the rule
// model m and sums the shares per (channel, campaign); with byCampaign
// false the campaign is "". A path with no touch is credited wholly to
// DirectChannel. The rows are sorted by channel, then campaign, and hold
// every (channel, campaign) some touch carries (zero credit included), so
// all models share the same rows. It returns an error for a model that is
// not rule-based, invalid options or an invalid path (ValidatePaths).
func RuleCredits(paths []Path, m Model, o RuleOptions, byCampaign bool) ([]Credit, error) {
	if !m.IsRule() {
		return nil, fmt.Errorf("attribution: %q is not a rule-based model (rule models: %v)", m, RuleModels)
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := ValidatePaths(paths); err != nil {
		return nil, err
	}
	return ruleCredits(paths, o, byCampaign, []Model{m})[m], nil
}

// AllRuleCredits is RuleCredits for every model of RuleModels at once, in
// one pass over the paths on GOMAXPROCS goroutines. The sums are the same
// on every run and for any GOMAXPROCS: the paths are cut into fixed chunks
// whose sums are added in chunk order. It panics with the validation error
// when o or a path is invalid; validate user input first (o.Validate,
// ValidatePaths).
func AllRuleCredits(paths []Path, o RuleOptions, byCampaign bool) map[Model][]Credit {
	if err := o.Validate(); err != nil {
		panic(err)
	}
	if err := ValidatePaths(paths); err != nil {
		panic(err)
	}
	return ruleCredits(paths, o, byCampaign, RuleModels)
}

// chunkPaths is the number of paths whose credits one goroutine sums
// before handing them over; a fixed size makes the sums independent of
// the number of goroutines.
const chunkPaths = 1 << 14

type creditKey struct{ channel, campaign string }

// chunkSums are one chunk's sums: keys[i] (an index into the worker's key
// table) and sums[i*2*nm:(i+1)*2*nm] = (conversions, value) per model.
type chunkSums struct {
	worker int
	keys   []int32
	sums   []float64
}

// ruleWorker accumulates the credits of the chunks it is given.
type ruleWorker struct {
	models     []Model
	o          RuleOptions
	h          float64
	byCampaign bool
	index      map[creditKey]int32
	keys       []creditKey
	acc        []float64 // per worker key: 2 × len(models)
	stamp      []int32   // chunk that last touched the key, +1
	touched    []int32
	w          [][]float64
	kid        []int32
}

func newRuleWorker(models []Model, o RuleOptions, byCampaign bool) *ruleWorker {
	return &ruleWorker{models: models, o: o, h: o.halfLifeSeconds(), byCampaign: byCampaign,
		index: make(map[creditKey]int32), w: make([][]float64, len(models))}
}

func (rw *ruleWorker) key(k creditKey, chunk int32) int32 {
	id, ok := rw.index[k]
	if !ok {
		id = int32(len(rw.keys))
		rw.index[k] = id
		rw.keys = append(rw.keys, k)
		rw.acc = append(rw.acc, make([]float64, 2*len(rw.models))...)
		rw.stamp = append(rw.stamp, 0)
	}
	if rw.stamp[id] != chunk+1 {
		rw.stamp[id] = chunk + 1
		rw.touched = append(rw.touched, id)
	}
	return id
}

func (rw *ruleWorker) run(paths []Path, chunk int32, worker int) chunkSums {
	nm := len(rw.models)
	custom := rw.o.Custom.orDefault()
	rw.touched = rw.touched[:0]
	for pi := range paths {
		p := &paths[pi]
		n := len(p.Touches)
		if n == 0 {
			if p.Conversions == 0 && p.Value == 0 {
				continue
			}
			id := rw.key(creditKey{channel: DirectChannel}, chunk)
			a := rw.acc[int(id)*2*nm:]
			for m := 0; m < nm; m++ {
				a[2*m] += p.Conversions
				a[2*m+1] += p.Value
			}
			continue
		}
		if cap(rw.kid) < n {
			rw.kid = make([]int32, n)
		}
		kid := rw.kid[:n]
		for i := range p.Touches {
			k := creditKey{channel: p.Touches[i].Channel}
			if rw.byCampaign {
				k.campaign = p.Touches[i].Campaign
			}
			kid[i] = rw.key(k, chunk)
		}
		if p.Conversions == 0 && p.Value == 0 {
			continue
		}
		for m, model := range rw.models {
			w := rw.w[m]
			if cap(w) < n {
				w = make([]float64, n)
			}
			w = w[:n]
			switch model {
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
				timeDecayWeights(p, rw.h, w)
			case Custom:
				customWeights(custom, w)
			}
			rw.w[m] = w
			for i, s := range w {
				a := rw.acc[int(kid[i])*2*nm+2*m:]
				a[0] += p.Conversions * s
				a[1] += p.Value * s
			}
		}
	}
	cs := chunkSums{worker: worker, keys: append([]int32(nil), rw.touched...), sums: make([]float64, 0, len(rw.touched)*2*nm)}
	for _, id := range rw.touched {
		a := rw.acc[int(id)*2*nm : int(id+1)*2*nm]
		cs.sums = append(cs.sums, a...)
		zero(a)
	}
	return cs
}

func ruleCredits(paths []Path, o RuleOptions, byCampaign bool, models []Model) map[Model][]Credit {
	nm := len(models)
	nchunks := (len(paths) + chunkPaths - 1) / chunkPaths
	results := make([]chunkSums, nchunks)
	nw := runtime.GOMAXPROCS(0)
	if nw > nchunks {
		nw = nchunks
	}
	workers := make([]*ruleWorker, nw)
	var next atomic.Int64
	var wg sync.WaitGroup
	for wi := range workers {
		workers[wi] = newRuleWorker(models, o, byCampaign)
		wg.Add(1)
		go func(wi int) {
			defer wg.Done()
			rw := workers[wi]
			for {
				c := int(next.Add(1) - 1)
				if c >= nchunks {
					return
				}
				hi := (c + 1) * chunkPaths
				if hi > len(paths) {
					hi = len(paths)
				}
				results[c] = rw.run(paths[c*chunkPaths:hi], int32(c), wi)
			}
		}(wi)
	}
	wg.Wait()

	// Merge in chunk order.
	index := make(map[creditKey]int)
	var keys []creditKey
	var total []float64
	for _, cs := range results {
		wk := workers[cs.worker].keys
		for i, lid := range cs.keys {
			k := wk[lid]
			g, ok := index[k]
			if !ok {
				g = len(keys)
				index[k] = g
				keys = append(keys, k)
				total = append(total, make([]float64, 2*nm)...)
			}
			t := total[g*2*nm : (g+1)*2*nm]
			for j, v := range cs.sums[i*2*nm : (i+1)*2*nm] {
				t[j] += v
			}
		}
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		ka, kb := keys[order[a]], keys[order[b]]
		if ka.channel != kb.channel {
			return ka.channel < kb.channel
		}
		return ka.campaign < kb.campaign
	})
	out := make(map[Model][]Credit, nm)
	for m, model := range models {
		cr := make([]Credit, len(order))
		for i, g := range order {
			cr[i] = Credit{Channel: keys[g].channel, Campaign: keys[g].campaign,
				Conversions: total[g*2*nm+2*m], Value: total[g*2*nm+2*m+1]}
		}
		out[model] = cr
	}
	return out
}
